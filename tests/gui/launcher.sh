#!/usr/bin/env bash
# Orphan or live bot, on the dashboard: for each session whose browser runs,
# the row says who started it, read back through the accessibility tree.
#  - session-live: its browser was started by this shell, which keeps running
#    ("used by a running bot: bash pid N");
#  - session-orphan: its launcher was killed ("orphaned: its launcher exited");
#  - session-idle: no browser, nothing said.
. "$(dirname "$0")/lib.sh"

use_atspi
a11y() { "$PY" -m a11y_dashboard "$APP_PID" "$@"; }
# launcher NAME: the "Browser started by" cell (the fourth column)
launcher() { a11y rows 2>/dev/null | awk -F '\t' -v n="$1" '$1 == n { print $4 }'; }
launcher_is() { [ "$(launcher "$1")" = "$2" ]; }
dash_up() { a11y rows >/dev/null 2>&1; }

ROOT=$LATCHKEY_HOME/sessions
for s in session-live session-orphan session-idle; do make_profile "$ROOT/$s"; done
mkdir -p "$WORK/bin" && cp "$HELPER" "$WORK/bin/chrome"

# A live bot: this shell starts the browser and keeps running.
"$WORK/bin/chrome" --user-data-dir="$ROOT/session-live" --open "$ROOT/session-live/Default/Cookies" \
    --ready "$WORK/live.ready" >/dev/null 2>&1 &
live=$!
track "$live"
# A crashed bot: its launcher starts the browser, then is killed.
bash -c '"$1" --user-data-dir="$2" --open "$2/Default/Cookies" --ready "$3" >/dev/null 2>&1 &
         echo $! > "$4"; exec sleep 300' _ "$WORK/bin/chrome" "$ROOT/session-orphan" \
    "$WORK/orphan.ready" "$WORK/orphan.pid" &
bot=$!
track "$bot"
wait_for 20 test -e "$WORK/live.ready" -a -e "$WORK/orphan.ready"
orphan=$(cat "$WORK/orphan.pid")
track "$orphan"
kill -9 "$bot"
gone "$bot"
check "the orphan outlives its launcher" alive "$orphan"

"$APP" >"$WORK/app.log" 2>&1 &
APP_PID=$!
track "$APP_PID"
app_on_bus dash_up
check "the live bot's row says who uses the browser" \
    wait_for 60 launcher_is session-live "used by a running bot: bash pid $$"
check "the orphan's row says its launcher exited" \
    wait_for 60 launcher_is session-orphan "orphaned: its launcher exited"
check "a session without a browser says nothing" launcher_is session-idle ""
shot dashboard >/dev/null
# The same facts as latchkeyctl gives.
check "holders agrees on the orphan" test \
    "$("$CTL" holders "$ROOT/session-orphan" --json | jq -r '.holders[] | select(.kind == "chromium-browser") | .orphaned')" = true
check "holders agrees on the live bot" test \
    "$("$CTL" holders "$ROOT/session-live" --json | jq -r '.holders[] | select(.kind == "chromium-browser") | .launcher.pid')" = "$$"

kill "$APP_PID"
check "the app log shows no sanitizer report" \
    bash -c '! grep -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$1"' _ "$WORK/app.log"
finish
