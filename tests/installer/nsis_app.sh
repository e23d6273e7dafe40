#!/usr/bin/env bash
# The tray app as a Windows user gets it from the installer, under wine on a
# screen: a silent per-user install; latchkey.exe started from the install
# folder, with nothing of the build on PATH, shows its dashboard (its text
# read back with OCR) and its --show-qr window shows a decodable QR code of a
# real browser's page; then the uninstaller, run while the app and a
# latchkeyctl.exe still run from the install folder, ends both (without
# PowerShell: wine has none) and removes exactly what it installed.
#   nsis_app.sh <wine_gui.sh arguments> SETUP FIXTURES
. "$(dirname "$0")/../windows/wine_gui.sh"
SETUP=$1 FIXTURES=$2
[ -f "$SETUP" ] || { bad "no installer at $SETUP (the installer.nsis test builds it)"; finish; exit 1; }
CHROMIUM=${LATCHKEY_CHROMIUM:-$(command -v chromium || command -v google-chrome || true)}
[ -n "$CHROMIUM" ] || { bad "no Chromium (installer/deps/debian.sh test installs it)"; finish; exit 1; }

LOCAL_WIN=$(w cmd /c 'echo %LOCALAPPDATA%' 2>/dev/null | tr -d '\r')
LOCAL=$(w winepath -u "$LOCAL_WIN" 2>/dev/null)
PROFILE_DIR=$(dirname "$LOCAL")
INST=$LOCAL/Programs/Latchkey
tree() { (cd "$(dirname "$PROFILE_DIR")" && find "$(basename "$PROFILE_DIR")" | grep -v '/Temp/' | sort); }
tree >"$WORK/before.txt"

# --- install -----------------------------------------------------------------------
w "$SETUP" /S >"$WORK/setup.log" 2>&1
check "the silent per-user install exits 0" test $? -eq 0
"$WINESERVER" -w 2>/dev/null &
check "latchkey.exe is installed" wait_for 60 test -f "$INST/bin/latchkey.exe"
echo "installed: $(du -sh "$INST" | cut -f1), installer $(stat -c %s "$SETUP") bytes"
# The Windows PATH wine gives programs: its own folders only.
path=$(w cmd /c 'echo %PATH%' 2>/dev/null | tr -d '\r')
check "PATH holds nothing of the build ($path)" \
    bash -c '! grep -qiE "latchkey|mingw|build|cache" <<<"$1"' _ "$path"

# --- the installed app: the dashboard ------------------------------------------------
mkdir -p "$WORK/elsewhere"
cd "$WORK/elsewhere" || exit 1
w "$INST/bin/latchkey.exe" >"$WORK/app.log" 2>&1 &
track "$!"
dash=$(wt wait "=Latchkey" 90)
check "the installed latchkey.exe opens its dashboard" test -n "$dash"
if [ -n "$dash" ]; then
    check "its text is drawn (OCR reads 'New session')" \
        wait_for 60 says installed-dashboard "$dash" eng "New session"
fi

# --- the installed app: a QR code ----------------------------------------------------
SEED=$((RANDOM % 9000 + 1000))
URL="file://$FIXTURES/whatsapp.html?seed=$SEED&rotate_ms=600000&rotations=0"
REF=$("$CHROMIUM" --headless=new --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --no-first-run --user-data-dir="$WORK/dump-profile" \
    --virtual-time-budget=500 --dump-dom "$URL" 2>/dev/null |
    grep -o 'data-fixture-ref="[^"]*"' | head -1 | sed 's/^data-fixture-ref="//; s/"$//')
check "the fixture page has a payload" test -n "$REF"
S=$WORK/s/session-i
mkdir -p "$S"
"$CHROMIUM" --headless=new --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --no-first-run --remote-debugging-port=0 --user-data-dir="$S" \
    "$URL" >"$WORK/bot.log" 2>&1 &
BOT=$!
track "$BOT"
check "the bot's browser serves DevTools" wait_for 60 test -s "$S/DevToolsActivePort"
w "$INST/bin/latchkey.exe" --show-qr "$(winpath "$S")" >"$WORK/client.log" 2>&1
check "--show-qr hands over to the running app" test $? -eq 0
check "its QR window opens" sh -c "'$WINE' '$WINTOOL' wait 'session-i — Scan to link' 90 </dev/null >/dev/null 2>&1"
check "the screen shows the page's QR code, decodable" wait_qr installed-qr "$REF" 90

# --- uninstall while it runs ---------------------------------------------------------
# A latchkeyctl.exe from the install folder that --quit does not reach: it
# waits (10 minutes at most) for a "browser" that never opens DevTools.
mkdir -p "$WINEPREFIX/drive_c/s2"
w "$INST/bin/latchkeyctl.exe" qr 'C:\s2' --chromium 'C:\windows\system32\notepad.exe' \
    --timeout 600 >/dev/null 2>&1 &
track "$!"
check "latchkeyctl.exe and latchkey.exe run from the install folder" procs_are latchkeyctl.exe 1 60
check "latchkey.exe runs" procs_are latchkey.exe 1 10
# What runs of ours, once a second, shown if the uninstall leaves files.
( for _ in $(seq 400); do echo "== $(date +%T.%N)"; wt procs | cut -f2 | grep -iE 'Latchkey|~nsu|notepad'; sleep 1; done ) \
    >"$WORK/procs-during.log" 2>&1 &
WATCH=$!; track "$WATCH"
servers_before=$(pgrep -x wineserver | sort | paste -sd' ')
traps_before=$(dmesg 2>/dev/null | grep -c 'traps:')
# Wine's own errors (a crash among them) go to the log, shown if it fails.
WINEDEBUG=-all,err+seh,err+process,err+module,err+virtual w "$INST/Uninstall.exe" /S >"$WORK/uninstall.log" 2>&1
check "the uninstaller exits 0" test $? -eq 0
check "the uninstaller ended latchkey.exe" procs_are latchkey.exe 0 120
check "the uninstaller ended latchkeyctl.exe" procs_are latchkeyctl.exe 0 60
check "no program from the install folder runs" \
    bash -c '! "$1" "$2" procs </dev/null 2>/dev/null | grep -iqF "\\Programs\\Latchkey\\"' _ "$WINE" "$WINTOOL"
check "the install folder is gone" wait_for 120 test ! -e "$INST"
kill "$WATCH" 2>/dev/null; wait "$WATCH" 2>/dev/null
if [ -e "$INST" ]; then
    echo "# left in $INST: $(cd "$INST" && find . -maxdepth 2 | head -20 | paste -sd' ')"
    echo "# processes: $(wt procs | cut -f2 | paste -sd' ')"
    # The uninstaller's copy in %TEMP% writes to the same stderr (a crash shows here).
    grep -v fixme "$WORK/uninstall.log" | tail -40 | sed 's/^/# uninstall: /'
    # A wineserver that died under the uninstaller ends every program of the
    # prefix at once: a new one is running now, and the kernel may have seen
    # the crash.
    echo "# wineservers before the uninstall: ${servers_before:-none}; now: $(pgrep -x wineserver | sort | paste -sd' ')"
    dmesg 2>/dev/null | grep 'traps:' | tail -n +$((traps_before + 1)) | sed 's/^/# crashed: /'
    awk '/^==/ { t = $2; next }
         !($0 in first) { first[$0] = t; order[n++] = $0 } { last[$0] = t }
         END { for (i = 0; i < n; i++) print "# ran " first[order[i]] " to " last[order[i]] ": " order[i] }' \
        "$WORK/procs-during.log"
fi
check "the bot's browser was left alone" alive "$BOT"
rmdir "$WINEPREFIX/drive_c/s2" 2>/dev/null
# What the app itself wrote (its settings and sessions in %LOCALAPPDATA%\latchkey)
# is the user's and stays; everything else is as before the install.
# (Windows names are case-insensitive: Latchkey and latchkey are one folder.)
tree | grep -iv "^$(basename "$PROFILE_DIR")/Local/latchkey" >"$WORK/after.txt"
grep -iv "^$(basename "$PROFILE_DIR")/Local/latchkey" "$WORK/before.txt" >"$WORK/before-app.txt"
check "the profile's files are as before the install, the app's own data aside" \
    diff "$WORK/before-app.txt" "$WORK/after.txt"
echo "screenshots: $SHOTS"
finish
