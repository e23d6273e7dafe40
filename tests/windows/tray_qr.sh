#!/usr/bin/env bash
# latchkey.exe --show-qr under wine against a real browser: a native Linux
# Chromium runs the fixture page in a session folder (its DevToolsActivePort
# there, as a bot's browser would have it), and the Windows app attaches to
# it through that file, over wine's sockets.
#  1. latchkey.exe runs; a second latchkey.exe --show-qr hands its command
#     line to it and exits 0: still one process, and the QR window is the
#     first one's;
#  2. the session needs a scan: a balloon says so on the app's own icon,
#     and the icon turns to "waiting";
#  3. the screen decodes (zbarimg) to the page's current code, then to the
#     next one after a rotation, and once the page links, the window says so
#     and no QR code is left on screen;
#  4. --quit: nothing of the app is left, the bot's browser is untouched.
#   tray_qr.sh <wine_gui.sh arguments> STAGE ICONS FIXTURES
. "$(dirname "$0")/wine_gui.sh"
STAGE=$1 ICONS=$2 FIXTURES=$3
APP=$STAGE/bin/latchkey.exe
CHROMIUM=${LATCHKEY_CHROMIUM:-$(command -v chromium || command -v google-chrome || true)}
[ -n "$CHROMIUM" ] || { bad "no Chromium (installer/deps/debian.sh test installs it)"; finish; exit 1; }
CHROME_FLAGS=(--headless=new --no-sandbox --disable-gpu --disable-background-networking
              --disable-component-update --no-first-run)

# The payload the seeded page shows after BUDGET ms, as Chromium renders it
# (virtual time: no waiting). Independent of Latchkey.
page_ref() {
    "$CHROMIUM" "${CHROME_FLAGS[@]}" --user-data-dir="$WORK/dump-profile" \
        --virtual-time-budget="$2" --dump-dom "$1" 2>/dev/null |
        grep -o 'data-fixture-ref="[^"]*"' | head -1 | sed 's/^data-fixture-ref="//; s/"$//'
}

# Each code stays 20 s: long enough for a loaded machine to show it twice.
SEED=$((RANDOM % 9000 + 1000))
URL="file://$FIXTURES/whatsapp.html?seed=$SEED&rotate_ms=20000&rotations=2&then=linked"
R=("$(page_ref "$URL" 500)" "$(page_ref "$URL" 20500)" "$(page_ref "$URL" 40500)")
check "the fixture gives three different payloads" \
    test -n "${R[0]}" -a -n "${R[1]}" -a -n "${R[2]}" -a "${R[0]}" != "${R[1]}" -a "${R[1]}" != "${R[2]}"

S=$WORK/s/session-a
mkdir -p "$S"
S_WIN=$(winpath "$S")

mkdir -p "$WORK/elsewhere"
cd "$WORK/elsewhere" || exit 1
w "$APP" --hidden >"$WORK/app.log" 2>&1 &
track "$!"
check "latchkey.exe runs" procs_are latchkey.exe 1 90
icon_as() { find_icon "$ICONS/16/latchkey-$1.png" "icon-$1" >/dev/null; }
check "its icon is in the notification area" wait_for 90 icon_as idle
PID=$(wt procs | awk -F'\t' 'tolower($2) ~ /\\latchkey\.exe$/ { print $1; exit }')

# The bot's browser starts now: the page's clock (three codes, 20 s each,
# then linked) runs from here.
"$CHROMIUM" "${CHROME_FLAGS[@]}" --remote-debugging-port=0 --user-data-dir="$S" "$URL" \
    >"$WORK/bot.log" 2>&1 &
BOT=$!
track "$BOT"
check "the bot's browser serves DevTools (DevToolsActivePort)" wait_for 60 test -s "$S/DevToolsActivePort"

# --- 1. a second latchkey.exe hands over ----------------------------------------
w "$APP" --show-qr "$S_WIN" >"$WORK/client.log" 2>&1
check "a second latchkey.exe --show-qr hands over and exits 0" test $? -eq 0
check "still one latchkey.exe" procs_are latchkey.exe 1 30
# The session needs a scan: a balloon says so at once (wine shows it for
# about 10 s), and the icon turns to "waiting".
balloon=$(wt wait-class tooltips_class32 0 60)
check "a balloon appears" test -n "$balloon"
if [ -n "$balloon" ]; then
    check "it says the session needs a scan" says balloon "$balloon" eng "session-a needs a scan"
    echo "balloon OCR: $(read_back balloon)"
fi
check "the tray icon shows 'waiting'" wait_for 60 icon_as waiting

win=$(wt wait "session-a — Scan to link" 90)
check "the QR window 'session-a — Scan to link' opens" test -n "$win"
check "the window belongs to the first latchkey.exe (pid $PID)" \
    sh -c "'$WINE' '$WINTOOL' windows </dev/null 2>/dev/null | grep -F 'session-a' | grep -q '^$PID	'"

# --- 2. the codes ----------------------------------------------------------------------
got=
end=$((SECONDS + 90))
while [ $SECONDS -lt $end ]; do
    got=$(screen_qr qr)
    [ -n "$got" ] && break
    sleep 0.5
done
echo "screen: '${got:0:48}...'"
idx=-1
for i in 0 1 2; do [ "$got" = "${R[$i]}" ] && idx=$i; done
check "the screen shows the page's current code (one of the first two)" test "$idx" -ge 0 -a "$idx" -lt 2
if [ "$idx" -ge 0 ] && [ "$idx" -lt 2 ]; then
    check "after the rotation it shows the new code" wait_qr rotated "${R[$((idx + 1))]}" 60
fi
check "the window says linked once the page links" wait_for 120 sh -c \
    "'$WINE' '$WINTOOL' wait 'session-a — Linked' 1 </dev/null >/dev/null 2>&1"
check "no QR code is on screen once linked" test -z "$(screen_qr linked)"

# --- 3. quit ----------------------------------------------------------------------------
w "$APP" --quit >"$WORK/quit.log" 2>&1
check "latchkey.exe --quit is answered (exit 0)" test $? -eq 0
check "no latchkey.exe is left" procs_are latchkey.exe 0 60
check "nothing runs from the app's folder" \
    bash -c '! "$1" "$2" procs </dev/null 2>/dev/null | grep -iqF "\\bin\\latchkey"' _ "$WINE" "$WINTOOL"
check "the bot's browser was left alone" alive "$BOT"
echo "screenshots: $SHOTS"
finish
