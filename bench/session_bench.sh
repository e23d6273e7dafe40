#!/usr/bin/env bash
# session_bench.sh — builds and runs the two session benchmarks against the
# local fixture page, with liblatchkey from the CMake build:
#
#   rotation_latency     QR rotation on the page -> Latchkey's session callback
#                        (one owned session, R rotations every M ms); run twice:
#                        alone, then with B more sessions on the same loop
#   memory_10_sessions   Latchkey's own memory while it watches S sessions
#                        (one process, one lk_cdp_loop, S owned headless
#                        Chromiums) for T seconds; repeated N times, since the
#                        result depends on what else the machine runs
#
# Build line used for both (from the repository root; documented in each .c):
#   cc -O2 -std=c11 -D_GNU_SOURCE -Icore/include -o OUT bench/NAME.c \
#      build/default/core/liblatchkey.a \
#      $(pkg-config --cflags --libs libwebsockets libcurl jansson) -lpthread
#
# Usage: bench/session_bench.sh [-r ROTATIONS] [-m ROTATE_MS] [-b BACKGROUND] [-s SESSIONS]
#                               [-t RUN_S] [-n MEMORY_RUNS] [-x BROWSERS] [-y HOGS]
#                               [-o OUTDIR] [-k latency|memory|both]
#        defaults: -r 250 -m 200 -b 9 (0: no second latency run) -s 10 -t 30 -n 3 -x 0 -y 0
#        -x/-y add contention during the memory runs: BROWSERS headless Chromiums
#        that are not Latchkey's (about:blank, 9 processes each) and HOGS busy loops
# Env:   CHROMIUM=/usr/lib/chromium/chromium  LIBLATCHKEY=build/default/core/liblatchkey.a
#        FIXTURE_SERVE=build/default/tests/browser/fixture_serve
#
# Self-cleaning: a fresh mktemp folder for profiles and binaries; on exit every
# process it started is ended by PID and the folder is removed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
ROTATIONS=250
ROTATE_MS=200
BACKGROUND=9
SESSIONS=10
RUN_S=30
MEMORY_RUNS=3
BROWSERS=0
HOGS=0
OUTDIR="$here/out"
WHICH=both
CHROMIUM=${CHROMIUM:-/usr/lib/chromium/chromium}
LIBLATCHKEY=${LIBLATCHKEY:-$repo/build/default/core/liblatchkey.a}
FIXTURE_SERVE=${FIXTURE_SERVE:-$repo/build/default/tests/browser/fixture_serve}

while getopts "r:m:b:s:t:n:x:y:o:k:h" opt; do
    case $opt in
    r) ROTATIONS=$OPTARG ;;
    m) ROTATE_MS=$OPTARG ;;
    b) BACKGROUND=$OPTARG ;;
    s) SESSIONS=$OPTARG ;;
    t) RUN_S=$OPTARG ;;
    n) MEMORY_RUNS=$OPTARG ;;
    x) BROWSERS=$OPTARG ;;
    y) HOGS=$OPTARG ;;
    o) OUTDIR=$OPTARG ;;
    k) WHICH=$OPTARG ;;
    *) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 2 ;;
    esac
done

say() { printf '== %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 2; }

[ -x "$CHROMIUM" ] || die "no Chromium at $CHROMIUM (apt-get install chromium, or set CHROMIUM)"
[ -f "$LIBLATCHKEY" ] || die "no $LIBLATCHKEY: cmake --preset default && cmake --build build/default"
[ -x "$FIXTURE_SERVE" ] || die "no fixture server at $FIXTURE_SERVE: cmake --build build/default"
pkg-config --exists libwebsockets libcurl jansson || die "pkg-config cannot find libwebsockets, libcurl or jansson"
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)

WORK=$(mktemp -d /tmp/latchkey-session-bench.XXXXXX)
mkdir -p "$WORK/home" "$WORK/profiles"
server=
extra=()
cleanup() {
    local rc=$? left
    trap - EXIT INT TERM
    [ -z "$server" ] || kill -TERM "$server" 2>/dev/null || true
    ((${#extra[@]} == 0)) || kill -TERM "${extra[@]}" 2>/dev/null || true
    left=$(pgrep -f -- "$WORK" | grep -vx -e "$$" -e "$BASHPID" | tr '\n' ' ' || true)
    # shellcheck disable=SC2086
    [ -z "${left// /}" ] || { echo "WARNING: ending leftovers: $left"; kill -KILL $left 2>/dev/null || true; }
    wait 2>/dev/null || true
    rm -rf -- "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
export HOME="$WORK/home" XDG_CONFIG_HOME="$WORK/home/.config" XDG_CACHE_HOME="$WORK/home/.cache"
unset LATCHKEY_SITE_URL LATCHKEY_CHROMIUM

build() { # NAME
    cc -O2 -std=c11 -D_GNU_SOURCE -I"$repo/core/include" -o "$WORK/$1" "$here/$1.c" \
        "$LIBLATCHKEY" $(pkg-config --cflags --libs libwebsockets libcurl jansson) -lpthread ||
        die "cannot build $1"
}
build rotation_latency
build memory_10_sessions

"$FIXTURE_SERVE" --root "$repo/tests/fixtures" --port-file "$WORK/port" \
    --lifetime $((2 * ROTATIONS * ROTATE_MS / 1000 + MEMORY_RUNS * (RUN_S + 120) + 900)) >"$WORK/serve.out" 2>&1 &
server=$!
for ((t = 0; t < 250; t++)); do [ -s "$WORK/port" ] && break; sleep 0.02; done
[ -s "$WORK/port" ] || die "the fixture server did not start: $(cat "$WORK/serve.out")"
PAGE="http://127.0.0.1:$(cat "$WORK/port")/whatsapp.html"

say "$("$CHROMIUM" --version | tail -n 1); load average $(cut -d' ' -f1-3 /proc/loadavg); $(ls /proc | grep -c '^[0-9]') processes"
rc=0
if [ "$WHICH" != memory ]; then
    say "rotation latency: $ROTATIONS rotations every $ROTATE_MS ms"
    "$WORK/rotation_latency" --chromium "$CHROMIUM" --rotations "$ROTATIONS" --rotate-ms "$ROTATE_MS" \
        --csv "$OUTDIR/rotation_latency.csv" "$PAGE?seed=42" "$WORK/profiles/latency" |
        tee "$OUTDIR/rotation_latency.txt" || rc=1
    if ((BACKGROUND > 0)); then
        say "rotation latency with $BACKGROUND more sessions on the same loop: $ROTATIONS rotations every $ROTATE_MS ms"
        "$WORK/rotation_latency" --chromium "$CHROMIUM" --rotations "$ROTATIONS" --rotate-ms "$ROTATE_MS" \
            --background "$BACKGROUND" --csv "$OUTDIR/rotation_latency_bg.csv" "$PAGE?seed=43" \
            "$WORK/profiles/latency-bg" | tee "$OUTDIR/rotation_latency_bg.txt" || rc=1
    fi
fi
if [ "$WHICH" != latency ]; then
    for ((x = 1; x <= BROWSERS; x++)); do
        "$CHROMIUM" --headless=new --no-sandbox --user-data-dir="$WORK/foreign/browser-$x" about:blank \
            >/dev/null 2>&1 &
        extra+=($!)
    done
    for ((x = 1; x <= HOGS; x++)); do
        (exec yes >/dev/null) &
        extra+=($!)
    done
    ((${#extra[@]} == 0)) || { sleep 3; say "contention: $BROWSERS foreign Chromium(s), $HOGS busy loop(s)"; }
    : >"$OUTDIR/memory_10_sessions.txt"
    for ((m = 1; m <= MEMORY_RUNS; m++)); do
        say "memory, run $m of $MEMORY_RUNS: $SESSIONS sessions for $RUN_S s (load average $(cut -d' ' -f1-3 /proc/loadavg))"
        echo "== run $m, load average $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUTDIR/memory_10_sessions.txt"
        "$WORK/memory_10_sessions" --chromium "$CHROMIUM" --sessions "$SESSIONS" --run-s "$RUN_S" \
            "$PAGE" "$WORK/profiles/m$m" | tee -a "$OUTDIR/memory_10_sessions.txt" || rc=1
    done
    say "memory summary (kB; VmRSS after running $RUN_S s, the highest VmHWM seen before the stop, and at the end)"
    awk '/^== run/ { run = $3 + 0 }
         /^after running/ { for (i = 1; i <= NF; i++) { if ($i == "VmRSS") r[run] = $(i + 1); if ($i == "VmHWM") h[run] = $(i + 1); if ($i == "machine:") p[run] = $(i + 1) } }
         /^after stopping/ { for (i = 1; i <= NF; i++) if ($i == "VmHWM") e[run] = $(i + 1) }
         END { for (k = 1; k in r; k++) printf "   run %d: VmRSS %s, VmHWM %s, VmHWM at the end %s; %s processes on the machine\n", k, r[k], h[k], e[k], p[k] }' \
        "$OUTDIR/memory_10_sessions.txt"
    if ((${#extra[@]})); then
        kill -TERM "${extra[@]}" 2>/dev/null || true
        wait "${extra[@]}" 2>/dev/null || true
        extra=()
    fi
fi
sleep 1
left=$(pgrep -f -- "$WORK/" | grep -vx -e "$$" -e "$BASHPID" -e "$server" | tr '\n' ' ' || true)
[ -z "${left// /}" ] && say "no process of any profile is left" || { echo "WARNING: left behind: $left"; rc=1; }
say "load average now $(cut -d' ' -f1-3 /proc/loadavg)"
exit "$rc"
