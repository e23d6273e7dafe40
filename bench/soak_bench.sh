#!/usr/bin/env bash
# soak_bench.sh — memory of Latchkey's own process through crash-and-heal
# cycles: the soak tests (tests/session/soak_link.sh under `latchkeyctl link`,
# tests/gui/soak_tray.sh under the tray app), run with SOAK_LOG so that after
# every cycle they log the supervising process's VmRSS, descriptors and
# threads. The report gives RSS at cycles 10 and N and the growth between
# them (goal: under 5%), descriptors and threads at the same points, and the
# soak test's own verdict (every cycle healed, nothing leaked, fds and
# threads back at their level).
#
# Usage: bench/soak_bench.sh [-k link|tray|both] [-n CYCLES] [-o OUTDIR]
# Env:   BUILD=build/default (latchkeyctl, the tray app, the test helpers)
# Needs: what the tests need (Chromium, Xvfb, dbus-daemon, python3-gi, jq).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
KIND=both
CYCLES=100
OUTDIR="$here/out"
BUILD=${BUILD:-$repo/build/default}
while getopts "k:n:o:h" opt; do
    case $opt in
    k) KIND=$OPTARG ;;
    n) CYCLES=$OPTARG ;;
    o) OUTDIR=$OPTARG ;;
    *) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 2 ;;
    esac
done
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
args=("$BUILD/app/cli/latchkeyctl" "$BUILD/tests/integration/hold_helper"
      "$BUILD/tests/browser/fixture_serve" "$repo/tests/fixtures")
for f in "${args[@]:0:3}" "$BUILD/app/tray/latchkey" "$BUILD/tests/cdp/fake_devtools"; do
    [ -x "$f" ] || { echo "error: $f is missing (cmake --build --preset default)" >&2; exit 2; }
done

# run NAME SCRIPT ARGS...: one soak, its per-cycle log and its verdict.
run() {
    local name=$1 log=$OUTDIR/soak_$1.log rc=0
    shift
    : >"$log"
    echo "== $name: $CYCLES cycles"
    SOAK_CYCLES=$CYCLES SOAK_LOG=$log bash "$@" >"$OUTDIR/soak_$name.out" 2>&1 || rc=$?
    tail -1 "$OUTDIR/soak_$name.out"
    report "$name" "$log" "$rc"
}
# report NAME LOG RC: the figures at cycle 10 and at the last cycle.
report() {
    awk -v name="$1" -v rc="$3" '
    $1 == 10 { r10 = $2; f10 = $3; t10 = $4 }
    { last = $1; rl = $2; fl = $3; tl = $4 }
    END {
        if (!r10) { printf "%-5s fewer than 10 cycles logged (test exit %d)\n", name, rc; exit }
        printf "%-5s cycles 10..%d: RSS %.1f -> %.1f MiB (%+.1f%%), fds %d -> %d, threads %d -> %d, test %s\n",
            name, last, r10 / 1024, rl / 1024, (rl - r10) * 100 / r10, f10, fl, t10, tl,
            rc == 0 ? "passed" : "FAILED (exit " rc ")"
    }' "$2" | tee -a "$OUTDIR/soak.txt"
}

{
    echo "# soak_bench.sh: $(date -u +%FT%TZ), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "# $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown), $BUILD"
} >"$OUTDIR/soak.txt"
case $KIND in link | both) run link "$repo/tests/session/soak_link.sh" "${args[@]}" ;; esac
case $KIND in tray | both)
    run tray "$repo/tests/gui/soak_tray.sh" "$BUILD/app/tray/latchkey" "${args[@]}" \
        "$BUILD/tests/cdp/fake_devtools"
    ;;
esac
echo "written to $OUTDIR/soak.txt (per-cycle logs: soak_*.log)"
