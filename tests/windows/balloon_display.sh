#!/usr/bin/env bash
# windows.balloon under wine with a display: a private Xvfb, a wine prefix of
# its own and wine's desktop (explorer /desktop: a taskbar with a
# notification area), so the balloon really is shown. The screen is kept as
# a screenshot, and the balloon must be on it: a light box above the
# notification area, where the desktop is dark blue.
#   balloon_display.sh WINE WINESERVER TEST_EXE PREFIX SHOT
set -u
WINE=$1 WINESERVER=$2 EXE=$3 PREFIX=$4 SHOT=$5
for tool in xvfb-run import convert; do
    command -v "$tool" >/dev/null || { echo "FAIL $tool is missing (installer/deps/debian.sh test installs it)"; exit 1; }
done
export WINEPREFIX=$PREFIX WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
export WINE WINESERVER EXE SHOT
mkdir -p "$(dirname "$SHOT")"
rm -f "$SHOT"
# shellcheck disable=SC2016
xvfb-run -a -s "-screen 0 1024x768x24" bash -c '
    "$WINE" wineboot -i >/dev/null 2>&1
    "$WINE" explorer /desktop=latchkey,1024x768 "$EXE" --need-tray --hold 4000 &
    pid=$!
    sleep 3
    import -window root "$SHOT" 2>/dev/null
    wait $pid
    rc=$?
    "$WINESERVER" -k 2>/dev/null
    exit $rc'
rc=$?
# The balloon sits in the bottom-right corner, over the taskbar's tray.
light=$(convert "$SHOT" -crop 440x50+570+690 -colorspace Gray -format '%[fx:mean]' info: 2>/dev/null)
echo "# mean brightness where the balloon shows: ${light:-none} (desktop alone: about 0.4)"
if awk -v l="${light:-0}" 'BEGIN { exit !(l > 0.75) }'; then
    echo "ok   the balloon is on the screen ($SHOT)"
else
    echo "FAIL no balloon on the screen ($SHOT)"
    rc=1
fi
exit $rc
