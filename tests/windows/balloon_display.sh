#!/usr/bin/env bash
# windows.balloon under wine with a display: a private Xvfb, a wine prefix of
# its own and wine's desktop (explorer /desktop: a taskbar with a
# notification area), so the balloon really is shown. The screen is kept as
# a screenshot, and the balloon must be on it: a light box above the
# notification area, where the desktop is dark blue.
#   balloon_display.sh WINE WINESERVER TEST_EXE PREFIX SHOT
set -u

# The balloon sits in the bottom-right corner, over the taskbar's tray.
brightness() { convert "$1" -crop 440x50+570+690 -colorspace Gray -format '%[fx:mean]' info: 2>/dev/null; }
light() { awk -v l="$(brightness "$1")" 'BEGIN { exit !(l > 0.75) }'; }

if [ "${1:-}" = --on-display ]; then
    # Run by xvfb-run below, with DISPLAY set.
    shift
    WINE=$1 WINESERVER=$2 EXE=$3 SHOT=$4 READY=$5
    "$WINE" wineboot -i >/dev/null 2>&1
    "$WINE" explorer /desktop=latchkey,1024x768 "$EXE" --need-tray \
        --ready "$(winepath -w "$READY" 2>/dev/null || echo "$READY")" &
    pid=$!
    for i in $(seq 1 600); do
        [ -e "$READY" ] && break
        kill -0 $pid 2>/dev/null || break
        sleep 0.1
    done
    [ -e "$READY" ] && echo "# the program asked for the balloon" || echo "# no word from the program"
    # wine draws a balloon a moment after it is asked to: look until it is
    # on the screen, 20 s at most.
    for i in $(seq 1 60); do
        import -window root "$SHOT" 2>/dev/null
        light "$SHOT" && break
        sleep 0.3
    done
    touch "$READY.done"
    wait $pid
    rc=$?
    "$WINESERVER" -k 2>/dev/null
    exit $rc
fi

WINE=$1 WINESERVER=$2 EXE=$3 PREFIX=$4 SHOT=$5
for tool in xvfb-run import convert; do
    command -v "$tool" >/dev/null || { echo "FAIL $tool is missing (installer/deps/debian.sh test installs it)"; exit 1; }
done
export WINEPREFIX=$PREFIX WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
mkdir -p "$(dirname "$SHOT")"
READY=$(dirname "$SHOT")/balloon.ready
rm -f "$SHOT" "$READY" "$READY.done"
xvfb-run -a -s "-screen 0 1024x768x24" bash "$0" --on-display "$WINE" "$WINESERVER" "$EXE" "$SHOT" "$READY"
rc=$?
echo "# mean brightness where the balloon shows: $(brightness "$SHOT") (desktop alone: about 0.4)"
if light "$SHOT"; then
    echo "ok   the balloon is on the screen ($SHOT)"
else
    echo "FAIL no balloon on the screen ($SHOT)"
    rc=1
fi
exit $rc
