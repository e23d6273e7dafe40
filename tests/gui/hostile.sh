#!/usr/bin/env bash
# The tray app against browsers with hostile DevTools endpoints
# (fake_devtools --forever): mute (accepts, never answers), garbage, and
# midclose (closes in the middle of a message). Started from the dashboard,
# each session ends in a state that says so (Failed, or Not responding) with
# the reason in its row; all the while the app answers over AT-SPI and its
# dashboard keeps updating (a folder made meanwhile is listed); Stop and
# --quit return, and the app never ends the hostile processes: it did not
# start them.
. "$(dirname "$0")/lib.sh"
. "$LK_GUI_DIR/../session/owner_lib.sh"
FAKE=$6

use_atspi
a11y() { "$PY" -m a11y_dashboard "$APP_PID" "$@"; }
cell() { a11y cell "$1" "$2" 2>/dev/null; }
row_is() { [ "$(cell "$1" State)" = "$2" ]; }
row_in() { local s; s=$(cell "$1" State); shift; for w in "$@"; do [ "$s" = "$w" ] && return 0; done; return 1; }
dash_up() { a11y rows >/dev/null 2>&1; }

# The hostile browser is a browser by its executable's name, as the doctor
# tells browsers from bots that merely pass --user-data-dir on.
mkdir -p "$WORK/bin" && cp "$FAKE" "$WORK/bin/chrome"
FAKE=$WORK/bin/chrome
ROOT=$LATCHKEY_HOME/sessions
declare -A F
for mode in mute garbage midclose; do
    make_profile "$ROOT/$mode"
    "$FAKE" --forever "$mode" --user-data-dir="$ROOT/$mode" >"$WORK/$mode.port" 2>&1 &
    F[$mode]=$!
    track "${F[$mode]}"
    check "$mode: the hostile browser serves its port" wait_for 30 test -s "$ROOT/$mode/DevToolsActivePort"
done
LATCHKEY_SITE_URL="$BASE?rotate_ms=60000" "$APP" >"$WORK/app.log" 2>&1 &
APP_PID=$!
track "$APP_PID"
app_on_bus dash_up
for mode in mute garbage midclose; do
    check "$mode is listed as running, not watched" wait_for 40 row_is "$mode" "Running, not watched"
done

for mode in mute garbage midclose; do
    a11y select "$mode" && a11y press Start
    check "Start is pressed on $mode" test $? -eq 0
done
check "mute: the row says it failed" wait_for 120 row_is mute "Failed"
check "garbage: the row says the browser is not responding" wait_for 120 row_is garbage "Not responding"
check "midclose: the row says the browser is not responding" wait_for 120 row_is midclose "Not responding"
shot hostile >/dev/null
a11y rows >"$WORK/rows.txt" 2>&1
error_has() { cell "$1" "Last error" | grep -q -- "$2"; }
check "mute's row says its DevTools endpoint does not answer" \
    error_has mute "DevTools endpoint does not answer"
check "garbage's row names the bad message" error_has garbage "DevTools"
check "midclose's row names the closed connection" error_has midclose "closed"

# The app keeps answering and its dashboard keeps updating meanwhile.
make_profile "$ROOT/late"
check "a folder made meanwhile is listed: the dashboard updates" wait_for 60 row_is late "Not running"
for i in 1 2 3 4 5; do
    check "the app answers over AT-SPI while the sessions fail ($i)" a11y ping
    check "the garbage session stays not responding, not stuck ($i)" \
        row_in garbage "Not responding" "Starting"
done
for mode in mute garbage midclose; do
    check "$mode: the app left the hostile browser running" alive "${F[$mode]}"
    a11y select "$mode" && a11y press Stop
    check "$mode: Stop returns and the row is not running any more" \
        wait_for 60 row_in "$mode" "Running, not watched" "Stopped"
    check "$mode: Stop left the hostile browser running (the app did not start it)" alive "${F[$mode]}"
done
timeout 60 "$APP" --quit >>"$WORK/app.log" 2>&1
# Status 0: under the sanitizers a leak or an error would make it another.
check "latchkey --quit ends the app with status 0" exit_is "$APP_PID" 0
for mode in mute garbage midclose; do
    check "$mode: the hostile browser outlives the app" alive "${F[$mode]}"
done
[ "$failed" -eq 0 ] || { echo "--- app log"; tail -30 "$WORK/app.log"; echo "--- rows"; cat "$WORK/rows.txt"; }
finish
