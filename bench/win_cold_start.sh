#!/usr/bin/env bash
# The Windows installer's size and the installed app's start-up time to a
# drawn dashboard, under wine on a private Xvfb (wine's desktop with its
# taskbar, as the tests use it).
#
#   bench/win_cold_start.sh [BUILD_DIR] [RUNS]      default: build/mingw, 5
#
# Needs a built mingw preset and its prepared wine prefix (made by
# `ctest --preset mingw -R windows.gui_prefix`). Builds the installer with
# cpack, installs it silently into a copy of that prefix, then starts the
# installed latchkey.exe RUNS times from its install folder (PATH: only
# Windows' own folders) and times each start: from the launch to the
# dashboard's window on screen with its content drawn (text below its title
# bar, read as dark pixels of a screenshot). The first run
# is the first start after the install (cold: nothing of the app's in wine's
# or the system's memory yet beyond what the install wrote), the others are
# warm. Prints one line per run and a summary.
set -u
BUILD=${1:-build/mingw}
RUNS=${2:-5}
BUILD=$(cd "$BUILD" && pwd) || exit 1
WINE=$(command -v wine) WINESERVER=$(command -v wineserver || echo /usr/lib/wine/wineserver)
TEMPLATE=$BUILD/wineprefix-gui
WINTOOL=$BUILD/tests/windows/wintool.exe
[ -f "$TEMPLATE/system.reg" ] || { echo "no $TEMPLATE: ctest --preset mingw -R windows.gui_prefix" >&2; exit 1; }
[ -f "$WINTOOL" ] || { echo "no $WINTOOL: cmake --build --preset mingw" >&2; exit 1; }
WORK=$(mktemp -d /tmp/latchkey-bench.XXXXXX)
pids=()
finish() {
    WINEPREFIX=$WORK/prefix "$WINESERVER" -k 2>/dev/null
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    rm -rf "$WORK"
}
trap finish EXIT

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# --- the installer ---------------------------------------------------------------
t0=$(now)
cpack --config "$BUILD/CPackConfig.cmake" -G NSIS -B "$WORK/pkg" >"$WORK/cpack.log" 2>&1 ||
    { cat "$WORK/cpack.log"; exit 1; }
SETUP=$(ls "$WORK"/pkg/*-setup.exe)
echo "installer: $(basename "$SETUP"): $(stat -c %s "$SETUP") bytes ($(du -h "$SETUP" | cut -f1)), cpack $(since "$t0") s"

# --- a screen, a prefix, the install -------------------------------------------------
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$WORK/display" >/dev/null 2>&1 &
pids+=($!)
for i in $(seq 1 500); do [ -s "$WORK/display" ] && break; sleep 0.02; done
export DISPLAY=":$(head -1 "$WORK/display")"
export WINEPREFIX=$WORK/prefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
unset WINEPATH
cp -al "$TEMPLATE" "$WINEPREFIX"
for f in "$WINEPREFIX"/*.reg; do rm -f "$f"; cp -a "$TEMPLATE/$(basename "$f")" "$f"; done
w() { "$WINE" "$@" </dev/null; }
wt() { "$WINE" "$WINTOOL" "$@" </dev/null 2>/dev/null | tr -d '\r'; }
w explorer /desktop=Default,1280x800 >/dev/null 2>&1 &
pids+=($!)
wt wait-class Shell_TrayWnd 0 120 >/dev/null || { echo "no desktop" >&2; exit 1; }
t0=$(now)
w "$SETUP" /S >/dev/null 2>&1
"$WINESERVER" -w 2>/dev/null &
echo "silent install: $(since "$t0") s"
LOCAL=$(w winepath -u "$(w cmd /c 'echo %LOCALAPPDATA%' 2>/dev/null | tr -d '\r')" 2>/dev/null)
INST=$LOCAL/Programs/Latchkey
[ -f "$INST/bin/latchkey.exe" ] || { echo "not installed at $INST" >&2; exit 1; }
echo "installed: $(du -sh "$INST" | cut -f1) in $INST"

# drawn X Y W H: the window's content (below its title bar) shows text: dark
# pixels. A window not drawn yet is its light background alone; the drawn
# dashboard has about 0.24 % of its pixels dark.
drawn() {
    local dark
    dark=$(import -window root png:- 2>/dev/null |
        convert - -crop "$(($3 - 8))x$(($4 - 34))+$(($1 + 4))+$(($2 + 30))" +repage \
            -colorspace Gray -threshold 50% -negate -format '%[fx:mean]' info: 2>/dev/null)
    awk -v d="${dark:-0}" 'BEGIN { exit !(d > 0.001) }'
}

times=()
cd "$WORK" || exit 1
for run in $(seq 1 "$RUNS"); do
    t0=$(now)
    w "$INST/bin/latchkey.exe" >/dev/null 2>&1 &
    rect=$(wt wait "=Latchkey" 120) || { echo "run $run: no dashboard" >&2; exit 1; }
    t_map=$(since "$t0")
    # shellcheck disable=SC2086
    until drawn $rect; do
        [ "$(awk -v a="$t0" -v b="$(now)" 'BEGIN { print (b - a > 120) }')" = 1 ] &&
            { echo "run $run: never drawn (window at $rect)" >&2; exit 1; }
    done
    t_drawn=$(since "$t0")
    [ "$run" = 1 ] && import -window root "$WORK/first.png" 2>/dev/null
    echo "run $run: window after $t_map s, drawn after $t_drawn s$([ "$run" = 1 ] && echo ' (cold: first start after the install)')"
    times+=("$t_drawn")
    w "$INST/bin/latchkey.exe" --quit >/dev/null 2>&1
    [ "$(wt wait-count latchkey.exe 0 60)" = 0 ] || { echo "run $run: did not quit" >&2; exit 1; }
done
warm=$(printf '%s\n' "${times[@]:1}" | sort -n | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)] }')
echo "summary: cold start ${times[0]} s; warm median ${warm:-n/a} s over $((RUNS - 1)) runs"
