#!/usr/bin/env bash
# latchkey.exe's settings and language under wine, on wine's desktop:
#  1. Settings, "Start Latchkey when I sign in" (clicked where OCR finds the
#     labels): the HKCU Run value appears, starting this latchkey.exe in the
#     tray only, and goes when it is turned off;
#  2. with an Indonesian locale, the dashboard speaks Indonesian.
#   tray_settings.sh <wine_gui.sh arguments> STAGE
. "$(dirname "$0")/wine_gui.sh"
STAGE=$1
APP=$STAGE/bin/latchkey.exe
RUN_KEY='HKCU\Software\Microsoft\Windows\CurrentVersion\Run'
mkdir -p "$WORK/elsewhere"
cd "$WORK/elsewhere" || exit 1

# --- 1. start at sign-in -----------------------------------------------------------
w "$APP" >"$WORK/app.log" 2>&1 &
track "$!"
check "the dashboard opens" sh -c "'$WINE' '$WINTOOL' wait =Latchkey 90 </dev/null >/dev/null 2>&1"
run_value() { w reg query "$RUN_KEY" /v Latchkey 2>/dev/null | tr -d '\r'; }
# The top strip of a window (its buttons), where OCR is quick.
top_of() { local x y ww h; read -r x y ww h <<<"$1"; rect_geometry "$x $y $ww 70"; }
settings_toggle() { # opens Settings from the dashboard, flips the check box, saves
    local d s
    d=$(wt wait "=Latchkey" 30) || return 1
    click_text "$(top_of "$d")" Settings || return 1
    s=$(wt wait "Latchkey settings" 60) || return 1
    click_text "$(rect_geometry "$s")" sign || return 1
    shot settings-clicked "$(rect_geometry "$s")" >/dev/null
    click_text "$(rect_geometry "$s")" Save || return 1
    wt gone "Latchkey settings" 60 >/dev/null
}
check "Settings: 'Start Latchkey when I sign in' turned on and saved" settings_toggle
has_run() { run_value | grep -qiF "latchkey.exe\" --hidden"; }
check "the HKCU Run value starts this latchkey.exe, in the tray" wait_for 30 has_run
echo "# $(run_value | grep Latchkey)"
check "the value names the app's own folder" bash -c 'grep -qiF "$1" <<<"$2"' _ \
    "$(winpath "$STAGE")\\bin\\latchkey.exe" "$(run_value)"
check "Settings: turned off again" settings_toggle
no_run() { ! run_value | grep -q Latchkey; }
check "the HKCU Run value is gone" wait_for 30 no_run
w "$APP" --quit >/dev/null 2>&1
check "it quits" procs_are latchkey.exe 0 60

# --- 2. Indonesian -----------------------------------------------------------------------
LANG=id_ID.UTF-8 LC_ALL=id_ID.UTF-8 w "$APP" >"$WORK/app-id.log" 2>&1 &
track "$!"
dash=$(wt wait "=Latchkey" 90)
check "the dashboard opens with an Indonesian locale" test -n "$dash"
if [ -n "$dash" ]; then
    check "it speaks Indonesian (OCR reads 'Sesi baru', 'Pengaturan')" \
        wait_for 60 says dashboard-id "$dash" ind "Sesi baru" Pengaturan
    echo "dashboard (id) OCR: $(read_back dashboard-id)"
fi
w "$APP" --quit >/dev/null 2>&1
check "it quits too" procs_are latchkey.exe 0 60
echo "screenshots: $SHOTS"
finish
