#!/usr/bin/env bash
# The Windows installer, end to end under wine: cpack -G NSIS builds it from
# the mingw build folder, it installs silently per user into a fresh wine
# prefix, the installed latchkeyctl.exe runs and finds its installed files, the
# Start Menu has its shortcut, and the uninstaller removes exactly what was
# installed: the user's sessions and a sibling program's folder survive, and
# the file tree is the one from before the install.
#
#   nsis.sh --cpack CPACK --config CPackConfig.cmake --wine WINE --version X.Y.Z [--tray]
#           [--keep FILE]   (a copy of the installer goes to FILE, for installer.nsis_app)
. "$(dirname "$0")/../integration/lib.sh"

CPACK='' CONFIG='' WINE='' VERSION='' TRAY=0 KEEP=
while [ $# -gt 0 ]; do
    case "$1" in
    --cpack) CPACK=$2; shift 2 ;;
    --config) CONFIG=$2; shift 2 ;;
    --wine) WINE=$2; shift 2 ;;
    --version) VERSION=$2; shift 2 ;;
    --tray) TRAY=1; shift ;;
    --keep) KEEP=$2; shift 2 ;;
    *) echo "nsis.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
for v in CPACK CONFIG WINE VERSION; do
    [ -n "${!v}" ] || { echo "nsis.sh: --${v,,} is required" >&2; exit 2; }
done
WINESERVER=$(command -v wineserver || echo /usr/lib/wine/wineserver)

# A private prefix: CI runs as root, with no display and no standard input.
export WINEPREFIX="$WORK/prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
end_wine() { "$WINESERVER" -k 2>/dev/null || true; cleanup_all; }
trap end_wine EXIT
w() { "$WINE" "$@" </dev/null; }

# --- the installer -----------------------------------------------------------
"$CPACK" --config "$CONFIG" -G NSIS -B "$WORK/pkg" > "$WORK/cpack.log" 2>&1
check "cpack -G NSIS builds the installer" test $? -eq 0
SETUP=$(ls "$WORK"/pkg/*.exe 2>/dev/null | head -1)
[ -n "$SETUP" ] || { cat "$WORK/cpack.log"; bad "no installer in $WORK/pkg"; finish; exit 1; }
echo "installer: $(basename "$SETUP"), $(stat -c %s "$SETUP") bytes"
if [ -n "$KEEP" ]; then
    mkdir -p "$(dirname "$KEEP")" && cp "$SETUP" "$KEEP"
fi

w wineboot -i > "$WORK/wineboot.log" 2>&1
"$WINESERVER" -w
LOCAL_WIN=$(w cmd /c 'echo %LOCALAPPDATA%' 2>/dev/null | tr -d '\r')
LOCAL=$(w winepath -u "$LOCAL_WIN" 2>/dev/null)
ROAMING=$(w winepath -u "$(w cmd /c 'echo %APPDATA%' 2>/dev/null | tr -d '\r')" 2>/dev/null)
PROFILE_DIR=$(dirname "$LOCAL")  # ...\AppData
[ -d "$LOCAL" ] && [ -d "$ROAMING" ] || { bad "wine prefix has no LOCALAPPDATA ($LOCAL_WIN)"; finish; exit 1; }
INST="$LOCAL/Programs/Latchkey"
INST_WIN="$LOCAL_WIN\\Programs\\Latchkey"
START_MENU="$ROAMING/Microsoft/Windows/Start Menu/Programs"
UNINST_KEY='HKCU\Software\Microsoft\Windows\CurrentVersion\Uninstall\Latchkey'
RUN_KEY='HKCU\Software\Microsoft\Windows\CurrentVersion\Run'

# What belongs to the user: it must survive the uninstaller.
mkdir -p "$LOCAL/latchkey/sessions/bot1/Default" "$LOCAL/Programs/Other"
echo cookies > "$LOCAL/latchkey/sessions/bot1/Default/Cookies"
echo '{}' > "$LOCAL/latchkey/settings.json"
echo keep > "$LOCAL/Programs/Other/keep.txt"

# Every file and folder of the user's profile, and the registry keys the
# installer writes: the uninstaller must bring back exactly this. NSIS leaves
# an empty ~nsu*.tmp in %TEMP% (the uninstaller runs from a copy there).
tree() { (cd "$(dirname "$PROFILE_DIR")" && find "$(basename "$PROFILE_DIR")" | grep -v '/Temp/~nsu' | sort); }
tree > "$WORK/before.txt"

# --- silent install, per user ------------------------------------------------
w "$SETUP" /S > "$WORK/setup.log" 2>&1
check "the installer exits 0" test $? -eq 0
check "latchkeyctl.exe installed into %LOCALAPPDATA%\\Programs\\Latchkey\\bin" test -f "$INST/bin/latchkeyctl.exe"
check "the site profile installed into share\\latchkey\\profiles" \
    test -f "$INST/share/latchkey/profiles/whatsapp-web.json"
check "the uninstaller is there" test -f "$INST/Uninstall.exe"
check "nothing was installed for all users (Program Files)" \
    test -z "$(find "$WINEPREFIX/drive_c/Program Files" -iname '*latchkey*' 2>/dev/null)"
check "Start Menu: Latchkey Command Line shortcut" test -f "$START_MENU/Latchkey Command Line.lnk"
if [ "$TRAY" = 1 ]; then
    check "latchkey.exe installed" test -f "$INST/bin/latchkey.exe"
    check "Start Menu: Latchkey shortcut" test -f "$START_MENU/Latchkey.lnk"
    check "start at sign-in is off unless chosen" sh -c "! '$WINE' reg query '$RUN_KEY' /v Latchkey </dev/null >/dev/null 2>&1"
fi
w reg query "$UNINST_KEY" > "$WORK/uninst_key.txt" 2>&1
check "Apps & features entry (HKCU) with the version" grep -q "DisplayVersion.*$VERSION" "$WORK/uninst_key.txt"
check "Apps & features entry points at the per-user folder" \
    grep -qiF "InstallLocation    REG_SZ    $INST_WIN" "$WORK/uninst_key.txt"

# The installed program runs, and is the one we built.
out=$(w "$INST/bin/latchkeyctl.exe" --version 2>&1 | tr -d '\r')
check "installed latchkeyctl.exe --version prints $VERSION ($out)" test "$out" = "latchkeyctl $VERSION"
check "the executable carries its manifest (asInvoker, per-monitor v2, UTF-8)" \
    sh -c "grep -aq asInvoker '$INST/bin/latchkeyctl.exe' && grep -aq PerMonitorV2 '$INST/bin/latchkeyctl.exe' && grep -aq '>UTF-8<' '$INST/bin/latchkeyctl.exe'"
# VERSIONINFO strings are UTF-16: "ProductVersion" then its value.
pv=$(strings -el "$INST/bin/latchkeyctl.exe" | grep -A1 -x ProductVersion | tail -1)
check "the executable carries its version resource ($pv)" test "$pv" = "$VERSION"

# It finds its site profiles next to itself (bin\..\share\latchkey): a broken
# installed profile is reported by path instead of the built-in one being used.
cp "$INST/share/latchkey/profiles/whatsapp-web.json" "$WORK/profile.json"
echo '{broken' > "$INST/share/latchkey/profiles/whatsapp-web.json"
mkdir -p "$WINEPREFIX/drive_c/s1"
w "$INST/bin/latchkeyctl.exe" qr 'C:\s1' --json --timeout 5 > "$WORK/qr.json" 2>/dev/null
check "the installed latchkeyctl reads the installed profile" \
    grep -qiF 'Programs\\Latchkey\\share\\latchkey\\profiles' "$WORK/qr.json"
cp "$WORK/profile.json" "$INST/share/latchkey/profiles/whatsapp-web.json"
rmdir "$WINEPREFIX/drive_c/s1"

# --- silent uninstall ----------------------------------------------------------
# The uninstaller copies itself to %TEMP% and returns at once; the copy does
# the work. wineserver -w waits for every process of this prefix to end.
w "$INST/Uninstall.exe" /S > "$WORK/uninstall.log" 2>&1
check "the uninstaller exits 0" test $? -eq 0
"$WINESERVER" -w
check "the install folder is gone" test ! -e "$INST"
check "the Start Menu shortcuts are gone" \
    sh -c "test ! -e '$START_MENU/Latchkey Command Line.lnk' && test ! -e '$START_MENU/Latchkey.lnk'"
check "the Apps & features entry is gone" sh -c "! '$WINE' reg query '$UNINST_KEY' </dev/null >/dev/null 2>&1"
check "the user's session survives" grep -q cookies "$LOCAL/latchkey/sessions/bot1/Default/Cookies"
check "the user's settings survive" test -f "$LOCAL/latchkey/settings.json"
check "a sibling program's folder survives" grep -q keep "$LOCAL/Programs/Other/keep.txt"
tree > "$WORK/after.txt"
check "the user's files are exactly as before the install" diff "$WORK/before.txt" "$WORK/after.txt"

# --- /REMOVEDATA: the sessions and settings go too, nothing else ---------------
args=(/S)
[ "$TRAY" = 1 ] && args+=(/AUTOSTART)
w "$SETUP" "${args[@]}" > "$WORK/setup2.log" 2>&1
check "the installer runs again" test -f "$INST/bin/latchkeyctl.exe"
if [ "$TRAY" = 1 ]; then
    w reg query "$RUN_KEY" /v Latchkey > "$WORK/run.txt" 2>&1
    check "/AUTOSTART writes the sign-in entry (HKCU Run)" grep -qiF "$INST_WIN\\bin\\latchkey.exe" "$WORK/run.txt"
fi
w "$INST/Uninstall.exe" /S /REMOVEDATA > "$WORK/uninstall2.log" 2>&1
"$WINESERVER" -w
check "/REMOVEDATA: the install folder is gone" test ! -e "$INST"
check "/REMOVEDATA: the user's sessions and settings are gone" test ! -e "$LOCAL/latchkey"
check "/REMOVEDATA: a sibling program's folder survives" grep -q keep "$LOCAL/Programs/Other/keep.txt"
if [ "$TRAY" = 1 ]; then
    check "the sign-in entry is gone" sh -c "! '$WINE' reg query '$RUN_KEY' /v Latchkey </dev/null >/dev/null 2>&1"
fi

finish
