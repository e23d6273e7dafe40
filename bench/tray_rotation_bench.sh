#!/usr/bin/env bash
# tray_rotation_bench.sh — the tray app over a long run: 10 sessions whose QR
# codes rotate every 2 s (the fixture page), started from the dashboard
# (AT-SPI, as the GUI tests do) on a private Xvfb display and session bus,
# the dashboard open the whole time. Every SAMPLE seconds it logs the app's
# VmRSS, open descriptors and threads; the report compares the first sample
# after WARM seconds with the last one and gives the range in between.
# Before reporting it checks that all 10 rows still wait for a scan and that
# the QR codes still rotate (two reads of one session differ).
#
# Usage: bench/tray_rotation_bench.sh [-t SECONDS (1800)] [-s SAMPLE_S (30)]
#                                     [-w WARM_S (120)] [-n SESSIONS (10)] [-o OUTDIR]
# Env:   BUILD=build/default, CHROMIUM (default: chromium on PATH)
# Needs: Xvfb, dbus-daemon, python3-gi with Atspi (/usr/bin/python3), jq, Chromium.
#
# Self-cleaning: a fresh mktemp folder; on exit every process it started is
# ended by PID, then the folder is removed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
DURATION=1800
SAMPLE=30
WARM=120
SESSIONS=10
OUTDIR="$here/out"
BUILD=${BUILD:-$repo/build/default}
while getopts "t:s:w:n:o:h" opt; do
    case $opt in
    t) DURATION=$OPTARG ;;
    s) SAMPLE=$OPTARG ;;
    w) WARM=$OPTARG ;;
    n) SESSIONS=$OPTARG ;;
    o) OUTDIR=$OPTARG ;;
    *) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 2 ;;
    esac
done
APP=$BUILD/app/tray/latchkey
CTL=$BUILD/app/cli/latchkeyctl
SERVE=$BUILD/tests/browser/fixture_serve
export LATCHKEY_CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v google-chrome || true)}
die() { printf 'error: %s\n' "$*" >&2; exit 2; }
for f in "$APP" "$CTL" "$SERVE" "$LATCHKEY_CHROMIUM"; do [ -x "$f" ] || die "$f is missing"; done
for t in Xvfb dbus-daemon jq; do command -v "$t" >/dev/null || die "$t is missing"; done
PY=
for p in /usr/bin/python3 python3; do # the one with the Atspi bindings
    "$p" -c 'import gi; gi.require_version("Atspi", "2.0")' 2>/dev/null && { PY=$p; break; }
done
[ -n "$PY" ] || die "python3-gi with gir1.2-atspi-2.0 is missing"
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)

REV=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
WORK=$(mktemp -d /tmp/latchkey-rotation.XXXXXX)
mkdir -p "$WORK/run" "$WORK/config" "$WORK/data" "$WORK/cache"
chmod 700 "$WORK/run"
started=()
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    ((${#started[@]} == 0)) || kill -TERM "${started[@]}" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf -- "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$WORK/display" >"$WORK/xvfb.log" 2>&1 &
started+=("$!")
for _ in $(seq 1 500); do [ -s "$WORK/display" ] && break; sleep 0.01; done
export DISPLAY=":$(head -1 "$WORK/display")"
[ "$DISPLAY" != ":" ] || die "Xvfb did not start"
eval "$(dbus-daemon --session --fork --print-address=1 --print-pid=1 |
        { read -r a; read -r p; echo "export DBUS_SESSION_BUS_ADDRESS='$a'; DBUS_PID=$p"; })"
started+=("$DBUS_PID")
export XDG_RUNTIME_DIR=$WORK/run XDG_CONFIG_HOME=$WORK/config XDG_DATA_HOME=$WORK/data
export XDG_CACHE_HOME=$WORK/cache LATCHKEY_HOME=$WORK/home GDK_BACKEND=x11
export PYTHONPATH="$repo/tests/gui${PYTHONPATH:+:$PYTHONPATH}"

"$SERVE" --root "$repo/tests/fixtures" --port-file "$WORK/port" --lifetime $((DURATION + 900)) \
    >/dev/null 2>&1 &
started+=("$!")
for _ in $(seq 1 200); do [ -s "$WORK/port" ] && break; sleep 0.02; done
URL="http://127.0.0.1:$(cat "$WORK/port")/whatsapp.html?rotate_ms=2000&rotations=1000000"
ROOT=$LATCHKEY_HOME/sessions
for i in $(seq -w 1 "$SESSIONS"); do # folders that look like Chromium profiles
    mkdir -p "$ROOT/rot$i/Default"
    echo '{}' >"$ROOT/rot$i/Local State"
done

LATCHKEY_SITE_URL=$URL "$APP" >"$WORK/app.log" 2>&1 &
APP_PID=$!
started+=("$APP_PID")
a11y() { "$PY" -m a11y_dashboard "$APP_PID" "$@"; }
cell() { a11y cell "$1" "$2" 2>/dev/null; }
until_ok() { local end=$((SECONDS + $1)); shift; until "$@"; do [ $SECONDS -lt $end ] || return 1; sleep 0.5; done; }
listed() { [ -n "$(cell "$1" State)" ]; }
waiting() { [ "$(cell "$1" State)" = "Waiting for a scan" ]; }
for i in $(seq -w 1 "$SESSIONS"); do
    until_ok 120 listed "rot$i" || die "rot$i is not listed: $(tail -5 "$WORK/app.log")"
    a11y select "rot$i" && a11y press Start || die "cannot start rot$i"
done
for i in $(seq -w 1 "$SESSIONS"); do
    until_ok 300 waiting "rot$i" || die "rot$i does not show a QR code: $(cell "rot$i" State)"
done
echo "== $SESSIONS sessions wait for a scan; sampling for $DURATION s"

log=$OUTDIR/tray_rotation.log
: >"$log"
t0=$SECONDS
while [ $((SECONDS - t0)) -lt "$DURATION" ]; do
    kill -0 "$APP_PID" 2>/dev/null || die "the app exited: $(tail -5 "$WORK/app.log")"
    echo "$((SECONDS - t0)) $(awk '/^VmRSS:/ { print $2 }' "/proc/$APP_PID/status") $(ls "/proc/$APP_PID/fd" | wc -l) $(ls "/proc/$APP_PID/task" | wc -l)" >>"$log"
    sleep "$SAMPLE"
done

# Still rotating, still waiting for a scan.
q1=$("$CTL" status "$ROOT/rot01" --json | jq -r '.page.qr // empty')
until_ok 30 bash -c '[ "$("$0" status "$1" --json | jq -r ".page.qr // empty")" != "$2" ]' "$CTL" "$ROOT/rot01" "$q1" ||
    die "rot01's QR code no longer rotates"
ok=0
for i in $(seq -w 1 "$SESSIONS"); do waiting "rot$i" && ok=$((ok + 1)); done
restarts=0
for i in $(seq -w 1 "$SESSIONS"); do restarts=$((restarts + $(cell "rot$i" Restarts))); done

{
    echo "# tray_rotation_bench.sh: $(date -u +%FT%TZ), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "# $REV (at the start), $BUILD; $SESSIONS sessions, QR every 2 s, $DURATION s, sample every $SAMPLE s"
    awk -v warm="$WARM" -v ok="$ok" -v n="$SESSIONS" -v restarts="$restarts" '
    $1 >= warm && !w { w = 1; r0 = $2; f0 = $3; t0 = $4; rmin = rmax = $2; fmin = fmax = $3 }
    w { if ($2 < rmin) rmin = $2; if ($2 > rmax) rmax = $2; if ($3 < fmin) fmin = $3; if ($3 > fmax) fmax = $3
        rl = $2; fl = $3; tl = $4; last = $1 }
    END {
        printf "RSS  %.1f MiB at %d s -> %.1f MiB at %d s (%+.1f%%), range %.1f..%.1f MiB\n",
            r0 / 1024, warm, rl / 1024, last, (rl - r0) * 100 / r0, rmin / 1024, rmax / 1024
        printf "fds  %d -> %d (range %d..%d); threads %d -> %d\n", f0, fl, fmin, fmax, t0, tl
        printf "at the end: %d of %d sessions wait for a scan, QR codes still rotate, %d restarts\n", ok, n, restarts
    }' "$log"
} | tee "$OUTDIR/tray_rotation.txt"
