#!/usr/bin/env bash
# latchkey.exe under wine, on wine's desktop, as a Windows user meets it:
#  1. started from a folder that is not its own, with nothing of the build on
#     PATH: one process, its icon in the taskbar's notification area (found
#     on a screenshot), a tooltip with the aggregate state;
#  2. a left click on the icon opens the dashboard, its text drawn as text
#     (read back with OCR: boxes read as nothing); the screenshot is kept as
#     dashboard.png;
#  3. a right click opens the menu, which closes by itself once the pointer
#     has left it;
#  4. --quit from a second latchkey.exe: nothing of the app is left running.
#   tray_app.sh <wine_gui.sh arguments> STAGE ICONS
. "$(dirname "$0")/wine_gui.sh"
STAGE=$1 ICONS=$2
APP=$STAGE/bin/latchkey.exe

# Processes whose executable lies in the app's folder.
ours() { wt procs | grep -ic "$(basename "$STAGE")\\\\bin\\\\" || true; }
mkdir -p "$WORK/elsewhere"
cd "$WORK/elsewhere" || exit 1

# --- 1. start, icon, tooltip ----------------------------------------------------
w "$APP" --hidden >"$WORK/app.log" 2>&1 &
track "$!"
check "latchkey.exe runs (one process)" procs_are latchkey.exe 1 90
at=
icon_docked() { at=$(find_icon "$ICONS/16/latchkey-idle.png" tray); [ -n "$at" ]; }
check "its icon appears in the notification area (idle)" wait_for 90 icon_docked
echo "icon at: $at"
read -r IX IY <<<"${at:-0 0}"

xdotool mousemove --sync "$IX" "$IY"
tip=$(wt wait-class tooltips_class32 0 30)
check "hovering the icon shows its tooltip" test -n "$tip"
if [ -n "$tip" ]; then
    check "the tooltip names the app and the aggregate state" \
        says tooltip "$tip" eng "Latchkey.*Nothing running"
    echo "tooltip OCR: $(read_back tooltip)"
fi

# --- 2. left click: the dashboard -------------------------------------------------
click "$IX" "$IY" 1
dash=$(wt wait "=Latchkey" 60)
check "a left click on the icon opens the dashboard" test -n "$dash"
if [ -n "$dash" ]; then
    # Drawn once it is mapped: read it until the text is there (or time is up).
    check "the dashboard's text is drawn as text (OCR reads 'New session', 'Settings')" \
        wait_for 60 says dashboard "$dash" eng "New session" Settings
    cp "$(cat "$WORK/dashboard.shot")" "$SHOTS/dashboard.png"
    echo "dashboard OCR: $(read_back dashboard)"
fi

# --- 3. right click: the menu, closing by itself -------------------------------------
click "$IX" "$IY" 3
menu=$(wt wait-class gdkWindowTemp 0 30)
check "a right click opens the menu" test -n "$menu"
if [ -n "$menu" ]; then
    # The pointer goes onto the menu, as the user's would: it stays open.
    read -r mx my mw mh <<<"$menu"
    xdotool mousemove --sync $((mx + mw / 2)) $((my + 4))
    menu_says() { says menu "$(wt wait-class gdkWindowTemp 0 5)" eng "D.shboard" Quit; }
    check "the menu is drawn, whole: it offers Dashboard and Quit" wait_for 60 menu_says
    echo "menu OCR: $(read_back menu)"
fi
# The pointer leaves the menu for the empty desktop; nothing else is clicked.
xdotool mousemove --sync 200 700
check "the menu closes by itself after the pointer left it" no_window_class gdkWindowTemp 60

# --- 4. --quit ---------------------------------------------------------------------------
w "$APP" --quit >"$WORK/quit.log" 2>&1
check "a second latchkey.exe --quit is answered (exit 0)" test $? -eq 0
check "no latchkey.exe is left" procs_are latchkey.exe 0 60
check "nothing runs from the app's folder" test "$(ours)" = 0
no_icon() { ! find_icon "$ICONS/16/latchkey-idle.png" after-quit >/dev/null 2>&1; }
check "its icon left the notification area" wait_for 30 no_icon

echo "screenshots: $SHOTS"
finish
