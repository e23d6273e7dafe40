# Shared by the tests that run the real latchkey.exe under wine on a screen:
# a private Xvfb, a wine prefix of the test's own (a copy of the one
# windows.gui_prefix prepared) whose windows all live on wine's desktop (one
# X window with a taskbar and a notification area), screenshots kept as
# artifacts, and readers of the screen (zbarimg for QR codes, tesseract for
# text). A test script starts with:
#   . "$(dirname "$0")/wine_gui.sh"
# Its first arguments (tests/windows/CMakeLists.txt):
#   WINE WINESERVER TEMPLATE-PREFIX WINTOOL SHOTS-DIR, then its own.
WINE=$1 WINESERVER=$2 TEMPLATE=$3 WINTOOL=$4 SHOTS_ROOT=$5
shift 5
LK_WIN_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$LK_WIN_DIR/../integration/lib.sh"

for tool in Xvfb xprop import convert compare zbarimg tesseract xdotool; do
    command -v "$tool" >/dev/null ||
        { bad "$tool is missing (installer/deps/debian.sh test installs it)"; finish; exit 1; }
done
[ -f "$TEMPLATE/system.reg" ] ||
    { bad "no prepared wine prefix at $TEMPLATE (the windows.gui_prefix test makes it)"; finish; exit 1; }

# Screenshots of this test go to SHOTS_ROOT/<test name>/, kept after the run.
SHOTS=$SHOTS_ROOT/$(basename "$0" .sh)
rm -rf "$SHOTS"
mkdir -p "$SHOTS"

# Screen and desktop: the same size, so X coordinates are wine's.
SCREEN_W=1280 SCREEN_H=800
start_xvfb ${SCREEN_W}x${SCREEN_H} || { finish; exit 1; }

export WINEPREFIX=$WORK/prefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
unset WINEPATH
# Hard links: the 700 MB prefix costs nothing to copy. Only the registry files
# are real copies (wineserver saves them through a new file and a rename, so
# the template is never written through a link; these are copied anyway).
cp -al "$TEMPLATE" "$WINEPREFIX"
for f in "$WINEPREFIX"/*.reg; do rm -f "$f"; cp -a "$TEMPLATE/$(basename "$f")" "$f"; done
end_wine() {
    "$WINESERVER" -k 2>/dev/null
    "$WINESERVER" -w 2>/dev/null
    cleanup_all
}
trap end_wine EXIT

w() { "$WINE" "$@" </dev/null; }
wt() {
    "$WINE" "$WINTOOL" "$@" </dev/null 2>/dev/null | tr -d '\r'
    return "${PIPESTATUS[0]}"
}
winpath() { "$WINE" winepath -w "$1" </dev/null 2>/dev/null | tr -d '\r'; }

# wine's desktop (the prefix's default desktop: every program of the prefix
# draws in it) and its taskbar.
w explorer /desktop=Default,${SCREEN_W}x${SCREEN_H} >"$WORK/explorer.log" 2>&1 &
track "$!"
disown "$!"
TASKBAR=$(wt wait-class Shell_TrayWnd 0 120) ||
    { bad "wine's desktop and taskbar did not come up"; finish; exit 1; }


# procs_are NAME N SECONDS: until exactly N processes run NAME (latchkey.exe).
procs_are() { [ "$(wt wait-count "$1" "$2" "$3")" = "$2" ]; }
# no_window_class CLASS SECONDS: until no window's class starts with CLASS.
no_window_class() { wt gone-class "$1" 0 "$2" >/dev/null; }

# shot NAME [GEOMETRY]: a screenshot (of the whole screen, or WxH+X+Y of it),
# kept; prints its path. An empty GEOMETRY given is a failure, not the screen.
shot() {
    local n f
    [ $# -lt 2 ] || [ -n "$2" ] || return 1
    n=$(($(cat "$SHOTS/.count" 2>/dev/null || echo 0) + 1))
    echo "$n" >"$SHOTS/.count"
    f=$SHOTS/$(printf '%02d' "$n")-$1.png
    if [ -n "${2:-}" ]; then
        import -window root -crop "$2" +repage "$f" 2>/dev/null
    else
        import -window root "$f" 2>/dev/null
    fi
    echo "$f"
}

# rect_geometry "X Y W H": ImageMagick's WxH+X+Y, clipped to the screen
# (fails on anything else).
rect_geometry() {
    local x y w h
    read -r x y w h <<<"$1"
    [[ "$x $y $w $h" =~ ^-?[0-9]+\ -?[0-9]+\ [0-9]+\ [0-9]+$ ]] || return 1
    [ "$x" -lt 0 ] && { w=$((w + x)); x=0; }
    [ "$y" -lt 0 ] && { h=$((h + y)); y=0; }
    [ $((x + w)) -gt $SCREEN_W ] && w=$((SCREEN_W - x))
    [ $((y + h)) -gt $SCREEN_H ] && h=$((SCREEN_H - y))
    echo "${w}x${h}+${x}+${y}"
}

# ocr IMAGE [LANG]: the text on an image, as tesseract reads it (scaled up:
# UI text is small). Words drawn as boxes read as nothing.
ocr() {
    convert "$1" -resize 300% -colorspace Gray "$WORK/ocr.png" 2>/dev/null
    tesseract "$WORK/ocr.png" - -l "${2:-eng}" --psm 6 2>/dev/null
}

# says NAME "X Y W H" LANG [TEXT...]: that part of the screen, kept as a
# screenshot NAME, read with OCR in LANG (eng, ind), shows every TEXT (a grep
# pattern). The text read is left in $WORK/NAME.txt, the screenshot's path
# in $WORK/NAME.shot.
says() {
    local name=$1 rect=$2 lang=$3 f t
    shift 3
    f=$(shot "$name" "$(rect_geometry "$rect")") || return 1
    echo "$f" >"$WORK/$name.shot"
    ocr "$f" "$lang" >"$WORK/$name.txt"
    for t in "$@"; do grep -q -- "$t" "$WORK/$name.txt" || return 1; done
}
# read_back NAME: what says NAME read, on one line.
read_back() { paste -sd' ' "$WORK/$1.txt" 2>/dev/null | cut -c1-200; }

# screen_qr NAME: the QR code on screen now (nothing when none); the
# screenshot is kept.
screen_qr() { zbarimg --quiet --raw "$(shot "$1")" 2>/dev/null | head -1; }

# wait_qr NAME WANT SECONDS: until the screen shows a QR code reading WANT.
wait_qr() {
    local end=$((SECONDS + $3)) got=
    while [ $SECONDS -lt "$end" ]; do
        got=$(screen_qr "$1")
        [ "$got" = "$2" ] && return 0
        sleep 0.5
    done
    echo "screen shows QR '${got:0:40}', want '${2:0:40}'" >&2
    return 1
}

# The taskbar's notification area, where wine puts tray icons: the right
# part of the taskbar (x y w h from Windows).
read -r TB_X TB_Y TB_W TB_H <<<"$TASKBAR"
TRAY_W=400
TRAY_GEOMETRY="${TRAY_W}x${TB_H}+$((TB_X + TB_W - TRAY_W))+${TB_Y}"

# find_icon PNG NAME: looks for the icon on a screenshot of the notification
# area; prints "X Y" (screen coordinates of its centre) when it is there.
# The icon is laid on the area's own background first (it has transparent
# edges), then searched for; a match must be close (normalised RMSE < 0.08).
find_icon() {
    local area bg ox oy out score at
    area=$(shot "$2" "$TRAY_GEOMETRY")
    bg=$(convert "$area" -format '%[pixel:p{2,2}]' info: 2>/dev/null)
    convert -size 16x16 "xc:$bg" "$1" -resize 16x16 -composite "$WORK/icon-on-bg.png" 2>/dev/null
    out=$(compare -metric RMSE -subimage-search "$area" "$WORK/icon-on-bg.png" null: 2>&1)
    score=$(sed -n 's/.*(\([0-9.e+-]*\)).*/\1/p' <<<"$out" | head -1)
    at=$(sed -n 's/.* @ \([0-9]*\),\([0-9]*\).*/\1 \2/p' <<<"$out" | head -1)
    [ -n "$score" ] && [ -n "$at" ] || return 1
    awk -v s="$score" 'BEGIN { exit !(s < 0.08) }' || { echo "best match $out" >&2; return 1; }
    read -r ox oy <<<"$at"
    echo "$((TB_X + TB_W - TRAY_W + ox + 8)) $((TB_Y + oy + 8))"
}

# click X Y [BUTTON]: a real click on wine's desktop window.
click() {
    xdotool mousemove --sync "$1" "$2" 2>/dev/null
    xdotool click "${3:-1}" 2>/dev/null
}

# text_at GEOMETRY WORD: where WORD is drawn inside GEOMETRY (WxH+X+Y of the
# screen), found with OCR (a word read with a letter missing, "ettings" for
# "Settings", counts); prints the screen coordinates of its centre. (Under
# wine 8 GTK cannot map keys: it finds no keyboard layout DLL, so buttons are
# clicked where their labels are, as a user would.)
text_at() {
    local gw gh gx gy f
    IFS='x+' read -r gw gh gx gy <<<"$1"
    f=$(shot "find-$2" "$1")
    convert "$f" -resize 300% -colorspace Gray "$WORK/find.png" 2>/dev/null
    tesseract "$WORK/find.png" - -l "${3:-eng}" --psm 11 tsv 2>/dev/null |
        awk -F'\t' -v w="$2" -v gx="$gx" -v gy="$gy" \
            'NR > 1 && $12 != "" && (index($12, w) || (length($12) >= 5 && index(w, $12))) {
                 printf "%d %d\n", gx + ($7 + $9 / 2) / 3, gy + ($8 + $10 / 2) / 3; exit }' |
        grep .
}

# click_text GEOMETRY WORD [SECONDS]: clicks WORD once it is on screen.
click_text() {
    local end=$((SECONDS + ${3:-30})) at
    while [ $SECONDS -lt "$end" ]; do
        if at=$(text_at "$1" "$2"); then
            # shellcheck disable=SC2086
            click $at
            return 0
        fi
        sleep 0.5
    done
    echo "no '$2' on screen in $1" >&2
    return 1
}
