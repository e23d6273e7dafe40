#!/usr/bin/env bash
# One owner per session folder: `latchkeyctl unlock` (it ends the holders
# and removes the stale locks, keeping the login) makes every Latchkey
# process let go of the folder, which stays, unused, until the user starts it:
#  1. The tray app runs alpha; unlock exits 0; the row says "Stopped by
#     latchkeyctl unlock (pid N)"; for 15 s no Chromium comes back, and the
#     folder and its cookies are still there.
#  2. A `latchkeyctl link` runs bravo; unlock exits 0; link stands down
#     (exit 4, "stopped by latchkeyctl unlock (pid N)"); the folder is kept.
#  3. Start on alpha (the user's call) runs it again.
# (The app's own Unlock on a folder that a link runs: gui.owner.)
. "$(dirname "$0")/lib.sh"
. "$LK_GUI_DIR/../session/owner_lib.sh"

use_atspi
a11y() { "$PY" -m a11y_dashboard "$APP_PID" "$@"; }
cell() { a11y cell "$1" "$2" 2>/dev/null; }
row_is() { [ "$(cell "$1" State)" = "$2" ]; }
start() { a11y select "$1" && a11y press Start; }
dash_up() { a11y rows >/dev/null 2>&1; }
waiting() { row_is "$1" "Waiting for a scan"; }
kept_and_down() { row_is "$1" "$2" && no_chromium_on "$3" && [ -f "$3/Default/Cookies" ]; }

ROOT=$LATCHKEY_HOME/sessions
make_profile "$ROOT/alpha"
URL="$BASE?rotate_ms=60000"
LATCHKEY_SITE_URL=$URL "$APP" >"$WORK/app.log" 2>&1 &
APP_PID=$!
track "$APP_PID"
app_on_bus dash_up
check "alpha is listed" wait_for 40 row_is alpha "Not running"

# --- 1. the tray's session ---------------------------------------------------------
start alpha
check "Start runs alpha" wait_for 90 waiting alpha
check "Chromium has written its cookies" wait_for 60 test -f "$ROOT/alpha/Default/Cookies"
"$CTL" unlock "$ROOT/alpha" >"$WORK/unlock.out" 2>&1 &
UP=$!
check "latchkeyctl unlock exits 0" exit_is "$UP" 0
STOPPED="Stopped by latchkeyctl unlock (pid $UP)"
check "alpha's row says who unlocked it" wait_for 40 row_is alpha "$STOPPED"
shot unlocked >/dev/null
check "for 15 s no Chromium comes back on alpha, whose folder and cookies are kept" \
    holds_for 15 kept_and_down alpha "$STOPPED" "$ROOT/alpha"

# --- 2. a latchkeyctl link ------------------------------------------------------------
link_bg "$ROOT/bravo" link --site-url "$URL"
check "link shows a QR code" wait_for 90 link_shows_qr link
"$CTL" unlock "$ROOT/bravo" >"$WORK/unlock2.out" 2>&1 &
UP=$!
check "latchkeyctl unlock of link's folder exits 0" exit_is "$UP" 0
check "link stands down with exit 4" exit_is "$LP" 4
check "link says latchkeyctl unlock (pid $UP) stopped it" \
    grep -qF "stopped by latchkeyctl unlock (pid $UP); not relaunched" "$WORK/link.err"
check "bravo's folder is kept" test -d "$ROOT/bravo/Default"
check "no Chromium runs on bravo" no_chromium_on "$ROOT/bravo"

# --- 3. started again ---------------------------------------------------------------------
start alpha
check "Start runs alpha again after the unlock" wait_for 90 waiting alpha
timeout 60 "$APP" --quit >>"$WORK/app.log" 2>&1
# Status 0: under the sanitizers a leak or an error would make it another.
check "latchkey --quit ends the app with status 0" exit_is "$APP_PID" 0
check "no Chromium of these sessions is left" test -z "$(profile_pids "$ROOT/[a-z]*")"
[ "$failed" -eq 0 ] || { echo "--- app log"; tail -50 "$WORK/app.log"; }
finish
