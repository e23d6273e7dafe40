#!/usr/bin/env bash
# Prepares the wine prefix that the tests on a screen copy (ctest fixture
# windows.gui_prefix): made once per build folder, and again when wine changes.
# Every program of the prefix draws on wine's desktop (a taskbar with a
# notification area) instead of in X windows of its own.
#   gui_prefix.sh WINE WINESERVER PREFIX
set -eu
WINE=$1 WINESERVER=$2 PREFIX=$3
export WINEPREFIX=$PREFIX WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
unset DISPLAY
want="$("$WINE" --version 2>/dev/null) desktop=Default shell=1"
if [ -f "$PREFIX/.ready" ] && [ "$(cat "$PREFIX/.ready")" = "$want" ]; then
    echo "wine prefix ready: $PREFIX"
    exit 0
fi
rm -rf "$PREFIX"
echo "creating the wine prefix $PREFIX"
"$WINE" wineboot --init </dev/null >/dev/null 2>&1
"$WINE" reg add 'HKCU\Software\Wine\Explorer' /v Desktop /d Default /f </dev/null >/dev/null 2>&1
"$WINE" reg add 'HKCU\Software\Wine\Explorer\Desktops' /v Default /d 1280x800 /f </dev/null >/dev/null 2>&1
# With the shell on, the desktop has a taskbar at the bottom (Start button,
# windows, notification area) as Windows does; otherwise tray icons get a
# window of their own.
"$WINE" reg add 'HKCU\Software\Wine\Explorer\Desktops\Default' /v EnableShell /t REG_DWORD /d 1 /f \
    </dev/null >/dev/null 2>&1
"$WINESERVER" -w
echo "$want" >"$PREFIX/.ready"
echo "wine prefix ready: $PREFIX ($(du -sh "$PREFIX" | cut -f1))"
