#!/usr/bin/env bash
# latchkey.exe --doctor under wine: a session folder held by a Windows
# program (lock_helper.exe keeps its Cookies open with no sharing, as
# Chromium does when users hit EBUSY), a decoy holding a file in the sibling
# session-10. "Delete session" (clicked where OCR finds its label) ends the
# holder, removes the folder and says so; the decoy lives on.
#   tray_doctor.sh <wine_gui.sh arguments> STAGE LOCK_HELPER
. "$(dirname "$0")/wine_gui.sh"
STAGE=$1 HELPER=$2
APP=$STAGE/bin/latchkey.exe

SS=$WORK/sessions
S=$SS/session-1
D=$SS/session-10
make_profile "$S"
make_profile "$D"

# hold FILE: a lock_helper.exe holding FILE; prints its Windows pid.
hold() {
    local ready=$WORK/ready.$RANDOM$RANDOM
    w "$HELPER" hold "$(winpath "$1")" "$(winpath "$ready")" >/dev/null 2>&1 &
    track "$!"
    wait_for 60 test -s "$ready" || return 1
    cut -d' ' -f1 "$ready"
}
holder=$(hold "$S/Default/Cookies")
decoy=$(hold "$D/Default/Cookies")
check "a Windows program holds the session's Cookies (pid $holder)" test -n "$holder"
check "a decoy holds session-10's Cookies (pid $decoy)" test -n "$decoy"
running() { wt procs | cut -f1 | grep -qx "$1"; }

mkdir -p "$WORK/elsewhere"
cd "$WORK/elsewhere" || exit 1
w "$APP" --doctor "$(winpath "$S")" >"$WORK/app.log" 2>&1 &
track "$!"
T="Lock doctor — session-1 — "
dlg=$(wt wait "$T" 90)
check "the lock doctor opens on session-1" test -n "$dlg"
title_has() { wt windows | grep -F "$T" | grep -q -- "$1"; }
check "its scan plans to end the holder (title: 1 to end)" wait_for 120 title_has "1 to end"
# The title changes before the text below it is drawn again (a loaded machine
# shows "looking for processes" a while longer): read until the plan shows.
# The dialog grows with its plan: its place is looked up for every read.
plan_shown() { says plan "$(wt wait "$T" 10)" eng "Cookies"; }
check "the plan lists what is held" wait_for 60 plan_shown
echo "plan OCR: $(read_back plan)"

# The button row along the dialog's bottom (the text above names the button too).
bottom_of() { local x y ww h; read -r x y ww h <<<"$1"; rect_geometry "$x $((y + h - 60)) $ww 60"; }
check "Delete session is clicked" click_text "$(bottom_of "$(wt wait "$T" 10)")" Delete
check "the title reports the cleanup" wait_for 120 title_has "cleaned: 1 ended, folder removed"
result_shown() { says result "$(wt wait "$T" 10)" eng "Nothing is left"; }
wait_for 60 result_shown
echo "result OCR: $(read_back result)"
check "the holder has ended" wait_for 30 sh -c "! '$WINE' '$WINTOOL' procs </dev/null 2>/dev/null | cut -f1 | grep -qx '$holder'"
check "the folder is gone" test ! -e "$S"
check "the decoy lives" running "$decoy"
check "session-10 is untouched" test -f "$D/Default/Cookies"
check "the dialog says it ended lock_helper.exe" grep -q "Ended lock_helper" "$WORK/result.txt"
check "the dialog says the folder was removed" grep -q "Removed" "$WORK/result.txt"
check "the dialog says nothing is left" grep -q "Nothing is left" "$WORK/result.txt"

w "$APP" --quit >/dev/null 2>&1
check "--quit ends the app" procs_are latchkey.exe 0 60
check "the decoy still lives" running "$decoy"
echo "screenshots: $SHOTS"
finish
