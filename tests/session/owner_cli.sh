#!/usr/bin/env bash
# One owner per session folder, from the command line, against real headless
# Chromium and the fixture page:
#  1. `link` runs a session; `stop` exits 0, and link stands down: exit 4,
#     "stopped by latchkeyctl stop (pid N)", no browser relaunched.
#  2. The same with `cleanup`: the folder is gone and stays gone.
#  3. A stop that lands while link is still launching its browser: whichever
#     comes first, link exits 4 and no browser is left on the folder.
#  4. Crashes are healed: the browser killed from outside (SIGKILL) is
#     relaunched, the renderer killed is reloaded, and link goes on.
#  5. The user starts it again: `qr` on a stopped folder clears the marker
#     and shows a QR code.
CTL=$1 HELPER=$2 SERVE=$3 FIXTURES=$4
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/owner_lib.sh"
export LATCHKEY_HOME=$WORK/home

URL="$BASE?rotate_ms=60000"
R="$WORK/bot/.wwebjs_auth"
mkdir -p "$R"

# start_link NAME: latchkeyctl link on $R/NAME in the background; sets LP.
start_link() { link_bg "$R/$1" "$1" --site-url "$URL"; }

# --- 1. stop --------------------------------------------------------------------
start_link stop1
check "link shows a QR code" wait_for 90 link_shows_qr stop1
B=$(browser_of "$R/stop1")
check "link's browser runs" test -n "$B"
"$CTL" stop "$R/stop1" >"$WORK/stop1.stop" 2>&1 &
SP=$!
check "stop exits 0" exit_is $SP 0
check "link stands down with exit 4" exit_is $LP 4
check "link says latchkeyctl stop (pid $SP) stopped it" \
    grep -qF "stopped by latchkeyctl stop (pid $SP); not relaunched" "$WORK/stop1.err"
check "link's JSON names who stopped it" jqe -s \
    --argjson p "$SP" 'last | .state == "stopped" and .stopped_by == {"action": "stop", "by": "latchkeyctl", "pid": $p}' \
    "$WORK/stop1.out"
check "no Chromium runs on the stopped folder" no_chromium_on "$R/stop1"
check "the stopped folder is kept" test -d "$R/stop1/Default"

# --- 2. cleanup -----------------------------------------------------------------
start_link clean1
check "link shows a QR code (cleanup)" wait_for 90 link_shows_qr clean1
"$CTL" cleanup "$R/clean1" >"$WORK/clean1.cleanup" 2>&1 &
CP=$!
check "cleanup exits 0" exit_is $CP 0
check "link stands down with exit 4 (cleanup)" exit_is $LP 4
# The browser ends before the folder goes: which of the two link saw first
# depends on the moment, who did it does not.
check "link says latchkeyctl cleanup (pid $CP) stopped it" \
    grep -qF "stopped by latchkeyctl cleanup (pid $CP);" "$WORK/clean1.err"
check "the cleaned folder is gone" test ! -e "$R/clean1"
check "no Chromium runs on the cleaned folder" no_chromium_on "$R/clean1"

# --- 3. a stop while the browser is being launched --------------------------------
for n in 1 2 3; do
    start_link race$n
    # As soon as link has begun (its folder appears when Chromium starts on it).
    wait_for 60 test -e "$R/race$n" || true
    # stop's own exit status is not what this checks: a browser that is
    # still starting forks children after stop's process snapshot, and its
    # final check may see one of them on its way out.
    "$CTL" stop "$R/race$n" >"$WORK/race$n.stop" 2>&1
    exit_is $LP 4
    check "race $n: link stands down with exit 4 (got $LAST_EXIT: $(tail -1 "$WORK/race$n.err"))" \
        test "$LAST_EXIT" = 4
    check "race $n: no Chromium is left on the folder" no_chromium_on "$R/race$n"
done

# --- 4. crashes are healed ------------------------------------------------------------
start_link heal
check "link shows a QR code (heal)" wait_for 90 link_shows_qr heal
check "status reads the page" wait_for 60 page_is "$R/heal" qr
B=$(browser_of "$R/heal")
kill -9 "$B"
check "a browser killed from outside is relaunched (was $B)" wait_for 120 healed_browser "$R/heal" "$B"
check "link goes on after the relaunch" kill -0 "$LP"
RS=$(renderers_of "$R/heal" | tr '\n' ' ')
check "the page has a renderer" test -n "$RS"
# shellcheck disable=SC2086
kill -9 $RS
# shellcheck disable=SC2086
check "a renderer killed from outside is reloaded" wait_for 120 healed_renderer "$R/heal" $RS
check "link goes on after the reload" kill -0 "$LP"
check "the marker folder has no marker for the healed session" \
    bash -c '! grep -qs "\"folder\":\"$0\"" "$1"/owner/*.stop' "$R/heal" "$LATCHKEY_HOME"
"$CTL" stop "$R/heal" >/dev/null 2>&1
check "link stands down after the heals (exit 4)" exit_is $LP 4
check "no Chromium is left on the healed folder" no_chromium_on "$R/heal"

# --- 5. the user starts it again ---------------------------------------------------------
"$CTL" qr "$R/stop1" --json --site-url "$URL" --timeout 120 >"$WORK/again.json" 2>"$WORK/again.err"
check "qr on a stopped folder starts it again and shows a QR code (exit 0)" test $? -eq 0
check "its JSON is a QR code, not a stand-down" jqe '.state == "qr" and (has("stopped_by") | not)' \
    "$WORK/again.json"
check "qr leaves no Chromium behind" no_chromium_on "$R/stop1"
finish
