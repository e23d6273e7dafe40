#!/usr/bin/env bash
# latchkey --doctor: the lock doctor dialog on folders that other programs
# hold (a bot's processes, not a Latchkey session), driven through the
# accessibility tree (AT-SPI): the button is pressed by its name, and what the
# dialog says is read back from its labels and its title.
#  1. A profile held by two processes (an open file and a mapping; a current
#     folder) and by a process that runs "Chromium" on it; a decoy holds
#     files in the sibling session-10 and a session-1.log next to it.
#     "Delete session" ends exactly the three, removes the folder, and the
#     result says so; the decoy and its files survive.
#  1b. "Unlock (keep login)" on a profile whose browser a running bot (this
#     shell) uses: the plan warns, the browser ends, a process that began
#     holding the folder after the plan was shown is reported, not ended,
#     the stale lock goes and the folder stays.
#  2. A session the app itself follows (its own Chromium, on the fixture
#     page): the app stops following it, its browser tree is ended and the
#     folder removed.
#  3. A folder that does not exist: "already clean", button off.
#  4. Refused folders, button off and nothing touched: the user's home (even
#     one that looks like a profile) and a folder that is not a profile.
. "$(dirname "$0")/lib.sh"

# The dialog is read through AT-SPI, which lib.sh switches off for the other
# tests: GTK's bridge must be on for the app started here.
use_atspi

# A small AT-SPI client: finds the app's window by title (a regex) and
#   text TITLE          prints every showing label and table cell, one a line
#   state TITLE BUTTON  prints "sensitive" or "insensitive"
#   press TITLE BUTTON  clicks the button (fails when it is insensitive)
cat >"$WORK/a11y.py" <<'EOF'
import re, sys
from a11y_common import Atspi, sensitive, showing, walk, windows

def window(title):
    for w in windows():
        if re.search(title, w.get_name() or ""):
            return w
    sys.exit("no window titled /%s/" % title)

def button(w, name):
    for a in walk(w):
        if a.get_role() == Atspi.Role.PUSH_BUTTON and a.get_name() == name:
            return a
    sys.exit("no button %r" % name)

cmd, w = sys.argv[1], window(sys.argv[2])
if cmd == "text":
    for a in walk(w):
        if a.get_role() in (Atspi.Role.LABEL, Atspi.Role.TABLE_CELL) and showing(a):
            print(a.get_name())
elif cmd == "state":
    print("sensitive" if sensitive(button(w, sys.argv[3])) else "insensitive")
elif cmd == "press":
    b = button(w, sys.argv[3])
    if not sensitive(b):
        sys.exit("button %r is insensitive" % sys.argv[3])
    b.do_action(0)
EOF
a11y() { "$PY" "$WORK/a11y.py" "$@"; }

bus_has_app() {
    dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus.ListNames 2>/dev/null | grep -qi latchkey
}
# A forwarding `latchkey ...`: hands its command line over and exits.
client() { timeout 30 "$APP" "$@" >>"$WORK/client.log" 2>&1; }
# The dialog's title for a folder name; "session-1 " never matches "session-10 ".
title_of() { printf 'Lock doctor [^ ]* %s [^ ]* ' "$1"; }
title_is() { # WINDOW REGEX
    xdotool getwindowname "$1" 2>/dev/null | grep -q -- "$2"
}
count_windows() { xdotool search --onlyvisible --name "$1" 2>/dev/null | wc -l; }
says() { # TITLE TEXT: the window shows TEXT in a label
    local t
    t=$(a11y text "$1")
    grep -qF -- "$2" <<<"$t"
}
# The app's home folder (HOME), shaped like a profile so that only the
# home-folder rule can refuse it (case 4).
HOME_DIR=$WORK/user/home-1

# --- 1. a held profile --------------------------------------------------------
SS=$WORK/sessions
S=$SS/session-1
D=$SS/session-10
make_profile "$S"
make_profile "$D"
mkdir -p "$S/Default/Cache"
echo log >"$SS/session-1.log"
h_open=$(start_helper --open "$S/Default/Cookies" --map "$S/Default/History")
h_cwd=$(start_helper --cwd "$S/Default/Cache" --open "$S/Default/Cache/index")
h_browser=$(start_chrome --user-data-dir="$S")
decoy=$(start_helper --open "$D/Default/Cookies" --open "$SS/session-1.log" --cwd "$D")

# Screenshots are taken after an AT-SPI read, which the app answers from its
# main loop, so the frame on screen is the one that was read.
make_profile "$HOME_DIR"
HOME=$HOME_DIR LATCHKEY_SITE_URL="$BASE?seed=4242" "$APP" --hidden >"$WORK/app.log" 2>&1 &
APP_PID=$!
track "$APP_PID"
check "the app registers its single instance" wait_for 30 bus_has_app

client --doctor "$S"
check "latchkey --doctor hands over and exits" test $? -eq 0
T1=$(title_of session-1)
W1=$(window_of "$T1" 30)
check "the dialog opens, titled with the folder name" test -n "$W1"
check "the scan ends on the plan: 3 to end" wait_for 60 title_is "$W1" "3 to end, 0 spared"
a11y text "$T1" >"$WORK/plan.txt"
shot plan >/dev/null
check "the holder with an open file is listed" grep -qx "$h_open" "$WORK/plan.txt"
check "Unlock (keep login) is enabled too" test "$(a11y state "$T1" "Unlock (keep login)")" = sensitive
check "the plan says what deleting loses" grep -Eq "deletes the folder and its login \([0-9]+ files?, " "$WORK/plan.txt"
check "the holder with its current folder inside is listed" grep -qx "$h_cwd" "$WORK/plan.txt"
check "the process running Chromium on the profile is listed" grep -qx "$h_browser" "$WORK/plan.txt"
check "what is held is shown with how" grep -qx "Default/Cookies (open file)" "$WORK/plan.txt"
check "a current folder is shown as such" grep -qx "Default/Cache (current folder)" "$WORK/plan.txt"
check "a mapping is shown as such" grep -qx "Default/History (mapped in memory)" "$WORK/plan.txt"
check "the decoy (session-10) is not listed" bash -c '! grep -qx "$1" "$2"' _ "$decoy" "$WORK/plan.txt"
# What the CLI could not look into, the dialog must show too (never hidden).
nblind=$("$CTL" holders "$S" --json | jq '.uninspectable | length')
if [ "${nblind:-0}" -gt 0 ]; then
    check "processes that could not be inspected are shown" grep -q "^Could not be inspected" \
        "$WORK/plan.txt"
fi
check "Delete session is enabled" test "$(a11y state "$T1" "Delete session")" = sensitive

client --doctor "$S"
check "presenting the same folder again raises the one dialog" test "$(count_windows "$T1")" -eq 1

a11y press "$T1" "Delete session"
check "Delete session is pressed" test $? -eq 0
check "the title reports the cleanup" wait_for 60 title_is "$W1" "cleaned: 3 ended, folder removed"
a11y text "$T1" >"$WORK/result.txt"
shot result >/dev/null
check "the holder with an open file is gone" gone "$h_open"
check "the holder in the folder is gone" gone "$h_cwd"
check "the profile's browser process is gone" gone "$h_browser"
check "the folder is removed" test ! -e "$S"
check "the decoy survives" alive "$decoy"
check "session-10 survives" test -f "$D/Default/Cookies"
check "session-1.log next to it survives" test -f "$SS/session-1.log"
check "the result names each ended process" bash -c \
    'for p in "${@:2}"; do grep -q "^Ended \(hold_helper\|chrome\) (pid $p, \(graceful\|forced\))$" "$1" || exit 1; done' \
    _ "$WORK/result.txt" "$h_open" "$h_cwd" "$h_browser"
check "the result says the folder was removed" grep -qxF "Removed $S" "$WORK/result.txt"
check "the result says nothing is left" grep -qF "Nothing is left" "$WORK/result.txt"
check "the result does not mention the decoy" bash -c '! grep -q "pid $1\b" "$2"' _ "$decoy" \
    "$WORK/result.txt"
check "Delete session is off on the result" test "$(a11y state "$T1" "Delete session")" = insensitive
a11y press "$T1" "Rescan"
check "a rescan finds it already clean" wait_for 60 title_is "$W1" "already clean"
a11y press "$T1" "Close"
check "Close closes the dialog" wait_for 20 bash -c '[ "$(xdotool search --onlyvisible --name "$1" | wc -l)" -eq 0 ]' _ "$T1"

# --- 1b. unlock: a running bot's browser, a newcomer, a stale lock -----------
SU=$SS/session-unlock
make_profile "$SU"
ln -s "$(hostname)-999999" "$SU/SingletonLock"
mkdir -p "$WORK/bin" && cp "$HELPER" "$WORK/bin/chrome"
# Started by this shell, which keeps running: a live bot's browser.
"$WORK/bin/chrome" --user-data-dir="$SU" --open "$SU/Default/Cookies" --ready "$WORK/chrome-u.ready" \
    >/dev/null 2>&1 &
chrome_u=$!
track "$chrome_u"
wait_for 20 test -e "$WORK/chrome-u.ready"
client --doctor "$SU"
TU=$(title_of session-unlock)
WU=$(window_of "$TU" 30)
check "the dialog opens on the bot's session" test -n "$WU"
check "its plan: 1 to end" wait_for 60 title_is "$WU" "1 to end, 0 spared"
a11y text "$TU" >"$WORK/plan-u.txt"
shot unlock-plan >/dev/null
check "the plan warns that a running bot will lose its browser" \
    grep -qF "the bot bash pid $$ is using this session: it will lose its browser" "$WORK/plan-u.txt"
check "the browser's row says who uses it" grep -qF "used by a running bot: bash pid $$" "$WORK/plan-u.txt"
late=$(start_helper --open "$SU/Default/Late")
a11y press "$TU" "Unlock (keep login)"
check "Unlock (keep login) is pressed" test $? -eq 0
check "the title reports the unlock, with something left" \
    wait_for 60 title_is "$WU" "incomplete: 1 ended, still locked"
a11y text "$TU" >"$WORK/result-u.txt"
shot unlock-result >/dev/null
check "the bot's browser ended" gone "$chrome_u"
check "the newcomer was not ended" alive "$late"
check "the result says the newcomer was not ended" \
    grep -q "began holding the folder after the plan was shown; it was not ended" "$WORK/result-u.txt"
check "the stale lock is removed" test ! -L "$SU/SingletonLock"
check "the result names the lock file removed" grep -qxF "Removed the lock file $SU/SingletonLock" "$WORK/result-u.txt"
check "the folder and its login stay" test -f "$SU/Default/Cookies"
kill "$late"

# --- 2. a session the app follows ---------------------------------------------
S2=$SS/session-app
mkdir -p "$S2"
client --show-qr "$S2"
has_browser() { browser_of "$1" >/dev/null; }
check "latchkey --show-qr starts a browser on the session" wait_for 60 has_browser "$S2"
B2=$(browser_of "$S2")
# Until Chromium has made its Default folder, the folder is not a profile yet
# (and the doctor would rightly refuse it).
check "the browser makes the profile" wait_for 60 test -d "$S2/Default"
client --doctor "$S2"
T2=$(title_of session-app)
W2=$(window_of "$T2" 30)
check "the dialog opens on the app's own session" test -n "$W2"
check "its scan lists the browser to end" wait_for 60 title_is "$W2" "[1-9][0-9]* to end"
a11y text "$T2" >"$WORK/plan2.txt"
shot app-session-plan >/dev/null
check "the browser is listed" grep -qx "$B2" "$WORK/plan2.txt"
check "it is listed as the Chromium of this profile" grep -qx "Chromium of this profile" \
    "$WORK/plan2.txt"
a11y press "$T2" "Delete session"
# The app's own stop and the doctor race to end the browser: either may win.
check "the title reports the app's session cleaned" \
    wait_for 60 title_is "$W2" "cleaned: [0-9]* ended, folder removed"
check "its browser is gone" gone "$B2"
check "no Chromium of that profile is left" bash -c '! pgrep -f -- "--user-data-dir=$1" >/dev/null' _ "$S2"
check "its folder is removed" test ! -e "$S2"
a11y text "$T2" >"$WORK/result2.txt"
shot app-session-result >/dev/null
check "the result says the app stopped following the session" \
    grep -qx "Latchkey stopped following this session first." "$WORK/result2.txt"
check "the result says the folder was removed" grep -qxF "Removed $S2" "$WORK/result2.txt"
# The app stopped following it: it does not start a browser on it again.
a11y press "$T2" "Rescan"
check "a rescan finds it still clean (the app did not restart it)" wait_for 60 title_is "$W2" "already clean"
check "still no Chromium of that profile" bash -c '! pgrep -f -- "--user-data-dir=$1" >/dev/null' _ "$S2"
check "the decoy is untouched by it" alive "$decoy"

# --- 3. a folder that does not exist ------------------------------------------
client --doctor "$SS/session-gone"
T3=$(title_of session-gone)
W3=$(window_of "$T3" 30)
check "the dialog opens for a missing folder" test -n "$W3"
check "a missing folder is already clean" wait_for 60 title_is "$W3" "already clean"
check "the dialog says so" says "$T3" "does not exist: already clean"
shot missing >/dev/null
check "Delete session is off for it" test "$(a11y state "$T3" "Delete session")" = insensitive

# --- 4. refused folders ---------------------------------------------------------
client --doctor "$HOME_DIR"
T4=$(title_of home-1)
W4=$(window_of "$T4" 30)
check "the dialog opens for the home folder" test -n "$W4"
check "the home folder is refused" wait_for 60 title_is "$W4" "refused"
check "the dialog says it is a home folder" says "$T4" "is a home folder"
shot home >/dev/null
check "Delete session is off for the home folder" \
    test "$(a11y state "$T4" "Delete session")" = insensitive
check "the home folder is untouched" test -f "$HOME_DIR/Default/Cookies"
check "Rescan stays available" test "$(a11y state "$T4" "Rescan")" = sensitive

P=$WORK/plain
mkdir -p "$P"
echo keep >"$P/notes.txt"
client --doctor "$P"
T5=$(title_of plain)
W5=$(window_of "$T5" 30)
check "the dialog opens for a folder that is not a profile" test -n "$W5"
check "a folder that is not a profile is refused" wait_for 60 title_is "$W5" "refused"
check "the dialog says it is not a bot's session" says "$T5" "does not look like a bot's session folder"
shot not-a-profile >/dev/null
check "Delete session is off for it" test "$(a11y state "$T5" "Delete session")" = insensitive
check "the folder that is not a profile is untouched" test -f "$P/notes.txt"

check "the app is still running" alive "$APP_PID"
client --quit
check "latchkey --quit ends the app" wait_for 30 bash -c '! kill -0 "$1" 2>/dev/null || [ "$(ps -o stat= -p "$1" | cut -c1)" = Z ]' _ "$APP_PID"
check "the decoy still survives" alive "$decoy"
# Under ASan + UBSan (the asan preset) the app reports memory errors and
# leaks in its log when it exits.
check "the app log shows no sanitizer report" \
    bash -c '! grep -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$1"' _ "$WORK/app.log"
if [ "$failed" -ne 0 ]; then
    for f in "$WORK"/app.log "$WORK"/client.log "$WORK"/*.txt; do
        echo "--- $(basename "$f")"
        cat "$f"
    done
fi
finish
