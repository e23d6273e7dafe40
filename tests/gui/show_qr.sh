#!/usr/bin/env bash
# latchkey --show-qr: the QR window against real Chromium and the fixture page,
# read back from the screen with zbarimg.
#  1. A page that rotates twice, then links: the window shows the page's
#     current payload, follows the rotation, and replaces the code with
#     "Linked" (no QR left on screen), then closes by itself. Its countdown
#     (read through AT-SPI all along) estimates the time left from the first
#     code on: about a minute for the first, the 20 s default for the next,
#     then the interval it timed; never a negative number.
#  2. A canvas-only page (no data-ref) in a browser a bot started: the window
#     attaches and shows the captured image, decodable.
#  3. A profile held by a browser without a DevTools port: the window shows
#     the error, and its "Find lock holders…" opens the lock doctor.
#  4. --quit: nothing of the app's left; the bot's browser untouched.
. "$(dirname "$0")/lib.sh"

# The countdown is read through the accessibility tree.
use_atspi

S=$WORK/s
mkdir -p "$S/session-a" "$S/session-b"
# Sanitizer builds: whole stacks through GLib/GTK (built without frame
# pointers), so lsan.supp's library entries can match.
export ASAN_OPTIONS=${ASAN_OPTIONS:-fast_unwind_on_malloc=0}

# The payload a seeded page shows after BUDGET ms, as Chromium itself renders
# it (virtual time: no waiting). Independent of Latchkey.
page_ref() {
    "$CHROMIUM" --headless=new --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --no-first-run --user-data-dir="$WORK/dump-profile" \
        --virtual-time-budget="$2" --dump-dom "$1" 2>/dev/null |
        grep -o 'data-fixture-ref="[^"]*"' | head -1 | sed 's/^data-fixture-ref="//; s/"$//'
}
# The primary instance is up once its name is on our private bus.
bus_has_app() {
    dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus.ListNames 2>/dev/null | grep -qi latchkey
}
# Runs a forwarding `latchkey ...` and says whether it handed over and exited.
client() {
    timeout 30 "$APP" "$@" >>"$WORK/client.log" 2>&1
}
visible() { xdotool search --onlyvisible --name "$1" >/dev/null 2>&1; }
not_visible() { ! visible "$1"; }
gone_within() { # SECONDS PID
    local end=$((SECONDS + $1))
    while [ $SECONDS -lt "$end" ]; do alive "$2" || return 0; sleep 0.1; done
    return 1
}
# The profile's browser runs, headless. (The app may have started it again
# since it was first seen: whichever runs now is judged.)
headless_browser() {
    local b
    b=$(browser_of "$1") && cmdline_of "$b" | grep -q -- ' --headless'
}

# countdown.py PID TITLE-REGEX SECONDS: every text the QR window's countdown
# label (found by its accessible description) shows, one a line as it
# changes, until the window goes or SECONDS pass.
cat >"$WORK/countdown.py" <<'EOF'
import re, sys, time
from a11y_common import Atspi, walk, windows

PID, TITLE, END = int(sys.argv[1]), sys.argv[2], time.time() + float(sys.argv[3])
DESC = "Time until WhatsApp shows a new code"

def find():
    for w in windows(PID):
        if re.search(TITLE, w.get_name() or ""):
            for l in walk(w):
                if l.get_role() == Atspi.Role.LABEL and l.get_description() == DESC:
                    return l
    return None

label, last = None, None
while time.time() < END:
    try:
        if label is None:
            label = find()
        text = label.get_name() if label is not None else None
    except Exception:
        label, text = None, None
    if text and text != last:
        print(text, flush=True)
        last = text
    time.sleep(0.1)
EOF

# --- 1. rotations, then linked ----------------------------------------------
SEED=$((RANDOM % 9000 + 1000))
URL1="$BASE?seed=$SEED&rotate_ms=4000&rotations=2&then=linked"
R=("$(page_ref "$URL1" 500)" "$(page_ref "$URL1" 4500)" "$(page_ref "$URL1" 8500)")
check "the fixture gives three different payloads" \
    test -n "${R[0]}" -a -n "${R[1]}" -a -n "${R[2]}" -a "${R[0]}" != "${R[1]}" -a "${R[1]}" != "${R[2]}"

LATCHKEY_SITE_URL="$URL1" "$APP" --hidden >"$WORK/app.log" 2>&1 &
APP_PID=$!
track "$APP_PID"
check "the app starts and owns its name on the session bus" wait_for 30 bus_has_app
check "--show-qr hands over to the running app and exits 0" client --show-qr "$S/session-a"
WIN=$(window_of "session-a — Scan to link" 60)
check "a window titled 'session-a — Scan to link' opens" test -n "$WIN"
"$PY" "$WORK/countdown.py" "$APP_PID" "^session-a — " 120 >"$WORK/countdown.txt" 2>&1 &
COUNTDOWN=$!
track "$COUNTDOWN"

has_browser() { browser_of "$1" >/dev/null; }
check "the session's browser runs" wait_for 60 has_browser "$S/session-a"
b=$(browser_of "$S/session-a" || true)
# A headed browser would put the page's own QR code on screen.
check "the browser is headless (the only QR on screen is the window's)" \
    wait_for 60 headless_browser "$S/session-a"
b2=$(browser_of "$S/session-a" || true)
[ "$b" = "$b2" ] || echo "# the session's browser changed: pid ${b:-none}, then ${b2:-none}"

# The page's payloads are known in advance (same seed, Chromium's own
# rendering): whichever one the page shows now, the screen must show it, and
# then the next one after the rotation.
got=
end=$((SECONDS + 60))
while [ $SECONDS -lt "$end" ]; do
    got=$(screen_qr qr)
    [ -n "$got" ] && break
    sleep 0.2
done
echo "screen: '${got:0:48}...'"
check "the screen shows a QR code" test -n "$got"
idx=-1
for i in 0 1 2; do [ "$got" = "${R[$i]}" ] && idx=$i; done
check "it is the page's current payload (one of the seeded page's, before the last)" \
    test "$idx" -ge 0 -a "$idx" -lt 2
if [ "$idx" -ge 0 ] && [ "$idx" -lt 2 ]; then
    check "after a rotation the screen shows the new payload" wait_qr rotated "${R[$((idx + 1))]}" 30
fi

# A second --show-qr raises the same window: still one, in the same process.
check "a second --show-qr also hands over" client --show-qr "$S/session-a"
check "one QR window for the session" \
    test "$(xdotool search --onlyvisible --name "session-a — " 2>/dev/null | wc -l)" = 1
check "the app still runs" alive "$APP_PID"

check "the window says linked once the page links" wait_for 40 visible "session-a — Linked"
kill "$COUNTDOWN" 2>/dev/null
echo "countdown: $(paste -sd '|' "$WORK/countdown.txt")"
# The seconds it said, in order ("due any moment" counts as 0).
secs=$(sed -n -e 's/^A new code in about \([0-9]*\) seconds\{0,1\}$/\1/p' \
    -e 's/^A new code is due any moment$/0/p' "$WORK/countdown.txt" | paste -sd ' ')
check "the countdown was read" test -s "$WORK/countdown.txt"
check "the countdown only says 'about N seconds' or 'due any moment' (never how long the code has been up, never negative)" \
    bash -c '! grep -qv -e "^A new code in about [0-9]* seconds\{0,1\}$" -e "^A new code is due any moment$" "$1"' \
    _ "$WORK/countdown.txt"
# The page's codes live 4 s each. The first is estimated at about a minute
# (WhatsApp's first code lives longer), the second at the 20 s default, the
# third, once a whole interval between two later codes was timed, at ~4 s.
check "the first code is estimated at about a minute ($secs)" \
    awk -v s="$secs" 'BEGIN { split(s, v, " "); exit !(v[1] > 20 && v[1] <= 60) }'
check "the next code is estimated at the 20 s default, the one after at the timed interval ($secs)" \
    awk -v s="$secs" 'BEGIN {
        n = split(s, v, " "); step = 0
        for (i = 2; i <= n; i++) {
            if (step == 0 && v[i] >= 12 && v[i] <= 20 && v[i-1] > 20) step = 1
            else if (step == 1 && v[i] <= 5 && v[i-1] >= 10) step = 2
        }
        exit !(step == 2) }'
check "no QR code is on screen once linked" test -z "$(screen_qr linked)"
check "the linked window closes by itself" wait_for 30 not_visible "session-a — "
check "no QR code is on screen after it closed" test -z "$(screen_qr closed)"

# --- 2. canvas only, in a bot's browser ---------------------------------------
URL2="$BASE?seed=$((SEED + 1))&canvas_only=1&rotate_ms=60000"
C0=$(page_ref "$URL2" 500)
check "the canvas-only fixture has a payload" test -n "$C0"
"$CHROMIUM" --headless=new --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --no-first-run --remote-debugging-port=0 \
    --user-data-dir="$S/session-b" "$URL2" >/dev/null 2>&1 &
BOT=$!
track "$BOT"
check "the bot's browser is up" wait_for 30 test -s "$S/session-b/DevToolsActivePort"
check "--show-qr on the bot's session hands over" client --show-qr "$S/session-b"
WIN2=$(window_of "session-b — Scan to link" 60)
check "a window for session-b opens" test -n "$WIN2"
check "the window shows the captured canvas, decodable" wait_qr canvas "$C0" 60
# Only the window itself, to be sure the code is in it.
f=$(shot_path canvas-window)
import -window "${WIN2:-root}" "$f" 2>/dev/null
check "the code is inside the QR window" test "$(zbarimg --quiet --raw "$f" 2>/dev/null | head -1)" = "$C0"

# --- 3. a profile in use by a browser the app cannot attach to -----------------
# No DevTools port: the app may neither attach nor start its own. The window
# says why and offers the lock doctor (Alt+F, the button's mnemonic).
"$CHROMIUM" --headless=new --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --no-first-run --user-data-dir="$S/session-c" about:blank \
    >/dev/null 2>&1 &
LOCKER=$!
track "$LOCKER"
check "the other browser holds the profile" wait_for 30 test -L "$S/session-c/SingletonLock"
check "--show-qr on the locked session hands over" client --show-qr "$S/session-c"
WIN3=$(window_of "session-c — Scan to link" 60)
check "a window for session-c opens" test -n "$WIN3"
sleep 2
check "no QR code is on screen for the locked session" test -z "$(screen_qr locked)"
xdotool windowfocus --sync "${WIN3:-0}" 2>/dev/null
xdotool key --clearmodifiers alt+f 2>/dev/null
has_window() { window_of "$@" >/dev/null; }
check "Find lock holders… opens the lock doctor on that folder" has_window "Lock doctor — session-c" 30
shot locked-doctor >/dev/null
kill "$LOCKER" 2>/dev/null

# --- 4. quit ----------------------------------------------------------------
check "--quit is accepted" client --quit
check "the app exits" gone_within 60 "$APP_PID"
# In a sanitizer build, memory errors and leaks are reported here at exit.
check "the app log shows no sanitizer report" \
    bash -c '! grep -E -A40 "ERROR: (Address|Leak)Sanitizer|runtime error:" "$1"' _ "$WORK/app.log"
check "no Chromium the app started is left" wait_for 30 eval '! has_browser "$S/session-a"'
check "the bot's browser was left alone" alive "$BOT"
kill "$BOT" 2>/dev/null
wait_for 20 test -z "$(our_chromium)" >/dev/null
check "no Chromium of this test's folders is left" test -z "$(our_chromium)"
echo "screenshots: $SHOTS"
finish
