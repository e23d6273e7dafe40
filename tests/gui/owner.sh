#!/usr/bin/env bash
# One owner per session folder, with the tray app running sessions (real
# Chromium on the fixture page), read back through the accessibility tree:
#  1. The app runs alpha; `latchkeyctl stop` exits 0; the app stands down:
#     its row says "Stopped by latchkeyctl stop (pid N)", and for 15 s no
#     Chromium comes back on the folder, which is kept.
#  2. Start again (the user's call) runs it; crashes are healed: the browser
#     killed from outside is relaunched, the renderer killed is reloaded.
#  3. The app runs bravo; `latchkeyctl cleanup` exits 0; the row says
#     "Removed by latchkeyctl cleanup (pid N)", and 15 s later the folder is
#     still gone and no Chromium runs on it.
#  4. Attach mode: a bot's browser (started here) that the app follows is
#     stopped by `latchkeyctl stop`: the app stands down, says who, starts
#     nothing.
#  5. A `latchkeyctl link` runs a folder; the app's "Delete session" (and,
#     on another, "Unlock (keep login)") in the lock doctor: link stands down
#     (exit 4, "stopped by latchkey cleanup (pid APP)", "... unlock ...").
#  6. The app runs foxtrot and a `latchkeyctl link` follows the same browser;
#     the app's Stop: link stands down (exit 4, "stopped by latchkey stop").
. "$(dirname "$0")/lib.sh"
. "$LK_GUI_DIR/../session/owner_lib.sh"

use_atspi
command -v jq >/dev/null || { bad "jq is missing (installer/deps/debian.sh test installs it)"; finish; exit 1; }

a11y() { "$PY" -m a11y_dashboard "$APP_PID" "$@"; }
# cell NAME COLUMN: one cell of NAME's row (1 session, 2 state, 3 pid, 8 restarts)
cell() { a11y cell "$1" "$2" 2>/dev/null; }
row_is() { [ "$(cell "$1" State)" = "$2" ]; }
start() { a11y select "$1" && a11y press Start; }
dash_up() { a11y rows >/dev/null 2>&1; }
waiting() { row_is "$1" "Waiting for a scan"; }
# still_down NAME TEXT DIR: the row says TEXT and no Chromium runs on DIR
still_down() { row_is "$1" "$2" && no_chromium_on "$3"; }
gone_and_down() { still_down "$@" && [ ! -e "$3" ]; }

ROOT=$LATCHKEY_HOME/sessions
for s in alpha bravo delta echo foxtrot golf; do make_profile "$ROOT/$s"; done
URL="$BASE?rotate_ms=60000"
LATCHKEY_SITE_URL=$URL "$APP" >"$WORK/app.log" 2>&1 &
APP_PID=$!
track "$APP_PID"
app_on_bus dash_up
check "alpha is listed" wait_for 40 row_is alpha "Not running"

# --- 1. stop ----------------------------------------------------------------------
start alpha
check "Start runs alpha: waiting for a scan" wait_for 90 waiting alpha
B=$(browser_of "$ROOT/alpha")
check "alpha's browser runs, shown in its row" test -n "$B" -a "$(cell alpha "Browser PID")" = "${B:-none}"
"$CTL" stop "$ROOT/alpha" >"$WORK/stop.out" 2>&1 &
SP=$!
check "latchkeyctl stop exits 0" exit_is "$SP" 0
STOPPED="Stopped by latchkeyctl stop (pid $SP)"
check "alpha's row says who stopped it" wait_for 40 row_is alpha "$STOPPED"
shot stopped >/dev/null
check "for 15 s no Chromium comes back on alpha, and the row says so" \
    holds_for 15 still_down alpha "$STOPPED" "$ROOT/alpha"
check "alpha's folder is kept" test -d "$ROOT/alpha/Default"

# --- 2. started again; crashes healed ------------------------------------------------
start alpha
check "Start runs alpha again" wait_for 90 waiting alpha
check "starting it again forgot the stop" bash -c '! grep -qs "\"folder\":\"$0\"" "$1"/owner/*.stop' \
    "$ROOT/alpha" "$LATCHKEY_HOME"
B=$(browser_of "$ROOT/alpha")
R0=$(cell alpha Restarts)
kill -9 "$B"
new_browser() { local b; b=$(cell alpha "Browser PID"); [ -n "$b" ] && [ "$b" != "$B" ] && waiting alpha; }
check "a browser killed from outside is relaunched (was $B)" wait_for 120 new_browser
check "the relaunch counts as a restart" test "$(cell alpha Restarts)" -gt "${R0:-0}"
check "the row's browser is the one running" test "$(cell alpha "Browser PID")" = "$(browser_of "$ROOT/alpha")"
R1=$(cell alpha Restarts)
RS=$(renderers_of "$ROOT/alpha" | tr '\n' ' ')
check "alpha's page has a renderer" test -n "$RS"
# shellcheck disable=SC2086
kill -9 $RS
reloaded() { [ "$(cell alpha Restarts)" -gt "$R1" ] && waiting alpha; }
check "a renderer killed from outside is reloaded" wait_for 120 reloaded
shot healed >/dev/null

# --- 3. cleanup ---------------------------------------------------------------------
start bravo
check "Start runs bravo" wait_for 90 waiting bravo
"$CTL" cleanup "$ROOT/bravo" >"$WORK/cleanup.out" 2>&1 &
CP=$!
check "latchkeyctl cleanup exits 0" exit_is "$CP" 0
REMOVED="Removed by latchkeyctl cleanup (pid $CP)"
check "bravo's row says who removed it" wait_for 60 row_is bravo "$REMOVED"
shot removed >/dev/null
check "15 s later bravo's folder is still gone, no Chromium runs on it, and the row says so" \
    holds_for 15 gone_and_down bravo "$REMOVED" "$ROOT/bravo"

# --- 4. attach mode -------------------------------------------------------------------
"$CHROMIUM" --headless=new --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --no-first-run --remote-debugging-port=0 \
    --user-data-dir="$ROOT/delta" "$URL" >"$WORK/bot.log" 2>&1 &
BOT=$!
track "$BOT"
check "the bot's browser serves DevTools" wait_for 60 test -s "$ROOT/delta/DevToolsActivePort"
start delta
attached() { [ "$(cell delta "Browser PID")" = "$BOT (attached)" ] && waiting delta; }
check "the app attaches to the bot's browser" wait_for 90 attached
"$CTL" stop "$ROOT/delta" >"$WORK/stop-delta.out" 2>&1 &
SP=$!
check "latchkeyctl stop of the bot's browser exits 0" exit_is "$SP" 0
STOPPED="Stopped by latchkeyctl stop (pid $SP)"
check "the attached row stands down and says who stopped it" wait_for 40 row_is delta "$STOPPED"
check "for 15 s nothing runs on delta" holds_for 15 still_down delta "$STOPPED" "$ROOT/delta"

# --- 5. the app's lock doctor on a folder that latchkeyctl link runs -----------------------
# app_doctor_on_link NAME BUTTON ACTION: a link runs NAME; the app's BUTTON,
# in the lock doctor it opens, makes link stand down and say so.
app_doctor_on_link() {
    local name=$1 button=$2 action=$3
    link_bg "$ROOT/$name" "link-$name" --site-url "$URL"
    check "link shows a QR code ($name)" wait_for 90 link_shows_qr "link-$name"
    check "the dashboard sees $name running, not watched" \
        wait_for 40 row_is "$name" "Running, not watched"
    a11y select "$name" && a11y press "$button…"
    check "$button… opens the lock doctor on $name; its $button is pressed" \
        wait_for 60 a11y press-in "Lock doctor .* $name .*to end" "$button"
    check "link stands down with exit 4 (the app's $action)" exit_is "$LP" 4
    check "link says the app's $action (pid $APP_PID) stopped it" \
        grep -qF "stopped by latchkey $action (pid $APP_PID);" "$WORK/link-$name.err"
    check "no Chromium runs on $name" wait_for 60 no_chromium_on "$ROOT/$name"
}
app_doctor_on_link echo "Delete session" cleanup
check "echo's folder is gone" wait_for 60 test ! -e "$ROOT/echo"
app_doctor_on_link golf "Unlock (keep login)" unlock
check "golf's folder and cookies are kept" test -f "$ROOT/golf/Default/Cookies"

# --- 6. the app's Stop, while latchkeyctl link follows the same browser ---------------------
start foxtrot
check "Start runs foxtrot" wait_for 90 waiting foxtrot
link_bg "$ROOT/foxtrot" link2
check "link attaches to the app's browser and shows its QR code" \
    wait_for 90 jqe -s 'any(.state == "qr" and .attached)' "$WORK/link2.out"
a11y select foxtrot && a11y press Stop
check "link stands down with exit 4 when the app stops the session" exit_is "$LP" 4
check "link says the app's stop (pid $APP_PID) stopped it" \
    grep -qF "stopped by latchkey stop (pid $APP_PID);" "$WORK/link2.err"
check "no Chromium runs on foxtrot" wait_for 60 no_chromium_on "$ROOT/foxtrot"

timeout 60 "$APP" --quit >>"$WORK/app.log" 2>&1
# Status 0: under the sanitizers a leak or an error would make it another.
check "latchkey --quit ends the app with status 0" exit_is "$APP_PID" 0
check "no Chromium of these sessions is left" test -z "$(profile_pids "$ROOT/[a-z]*")"
if [ "$failed" -gt 0 ]; then
    echo "--- app log"
    tail -50 "$WORK/app.log"
    echo "--- rows"
    a11y rows 2>&1 || true
fi
finish
