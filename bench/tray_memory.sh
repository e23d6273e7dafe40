#!/usr/bin/env bash
# tray_memory.sh — resident memory of the idle tray app with 20 sessions listed,
# side by side with what a user would otherwise keep running or polling:
#
#   tray      `latchkey --hidden` (tray icon only, as started at sign-in) on a
#             private Xvfb display and session bus, watching its session root
#             ($LATCHKEY_HOME/sessions) that holds 20 Chromium profile folders,
#             none running. After SETTLE seconds (its first scans are done) it is
#             sampled once a second for SAMPLE seconds: VmRSS from
#             /proc/PID/status and Pss from /proc/PID/smaps_rollup. The samples
#             span at least one of its 10 s rescans.
#   chromium  one idle headless Chromium on about:blank (the same binary and
#             flags Latchkey uses), sampled the same way, summed over its
#             process tree: the cost of the one browser a session needs anyway,
#             i.e. the unit the tray app's memory should be small against.
#   poll      `latchkeyctl sessions --root ROOT --json` over the same 20
#             folders: its peak RSS per run (GNU time), what a script that
#             polls the sessions instead of a tray app costs per poll.
#
# RUNS runs of each (fresh app each run). Before measuring, it checks that the
# 20 folders are found as sessions (latchkeyctl sessions) and that the app is
# up and owns its name on the bus. Results: OUTDIR/tray_memory.txt.
#
# Usage: bench/tray_memory.sh [-n RUNS] [-s SETTLE_S] [-t SAMPLE_S] [-o OUTDIR]
# Env:   LATCHKEY=build/default/app/tray/latchkey
#        LATCHKEYCTL=build/default/app/cli/latchkeyctl
#        CHROMIUM=/usr/lib/chromium/chromium (the real binary, not the wrapper)
# Needs: Xvfb, dbus-daemon, dbus-send, GNU time (/usr/bin/time), jq.
#
# Self-cleaning: a fresh mktemp folder; on exit every process it started is
# ended by PID, then the folder is removed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
RUNS=3
SETTLE=10
SAMPLE=15
SESSIONS=20
OUTDIR="$here/out"
LATCHKEY=${LATCHKEY:-$repo/build/default/app/tray/latchkey}
LATCHKEYCTL=${LATCHKEYCTL:-$repo/build/default/app/cli/latchkeyctl}
CHROMIUM=${CHROMIUM:-/usr/lib/chromium/chromium}

while getopts "n:s:t:o:h" opt; do
    case $opt in
    n) RUNS=$OPTARG ;;
    s) SETTLE=$OPTARG ;;
    t) SAMPLE=$OPTARG ;;
    o) OUTDIR=$OPTARG ;;
    *) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 2 ;;
    esac
done

say() { printf '== %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 2; }

[ -x "$LATCHKEY" ] || die "no latchkey at $LATCHKEY (set LATCHKEY)"
[ -x "$LATCHKEYCTL" ] || die "no latchkeyctl at $LATCHKEYCTL (set LATCHKEYCTL)"
[ -x "$CHROMIUM" ] || die "no Chromium at $CHROMIUM (set CHROMIUM)"
for t in Xvfb dbus-daemon dbus-send jq; do command -v "$t" >/dev/null || die "$t is missing"; done
[ -x /usr/bin/time ] || die "GNU time is missing (apt-get install time)"
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)

# --- scratch area and clean-up ---------------------------------------------------
WORK=$(mktemp -d /tmp/latchkey-tray-memory.XXXXXX)
mkdir -p "$WORK/run" "$WORK/config" "$WORK/data" "$WORK/cache" "$WORK/home/sessions"
chmod 700 "$WORK/run"
started=()

cleanup() {
    local rc=$? left
    trap - EXIT INT TERM
    ((${#started[@]} == 0)) || kill -TERM "${started[@]}" 2>/dev/null || true
    sleep 0.5
    left=$(pgrep -f -- "$WORK" | grep -vx -e "$$" -e "$BASHPID" | tr '\n' ' ' || true)
    # shellcheck disable=SC2086
    [ -z "${left// /}" ] || kill -KILL $left 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf -- "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- a display and a session bus of our own ----------------------------------------
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$WORK/display" >"$WORK/xvfb.log" 2>&1 &
started+=("$!")
for _ in $(seq 1 500); do [ -s "$WORK/display" ] && break; sleep 0.01; done
export DISPLAY=":$(head -1 "$WORK/display")"
[ "$DISPLAY" != ":" ] || die "Xvfb did not start"
eval "$(dbus-daemon --session --fork --print-address=1 --print-pid=1 |
        { read -r a; read -r p; echo "export DBUS_SESSION_BUS_ADDRESS='$a'; DBUS_PID=$p"; })"
started+=("$DBUS_PID")
export XDG_RUNTIME_DIR=$WORK/run XDG_CONFIG_HOME=$WORK/config XDG_DATA_HOME=$WORK/data
export XDG_CACHE_HOME=$WORK/cache LATCHKEY_HOME=$WORK/home
export GDK_BACKEND=x11 NO_AT_BRIDGE=1 GTK_A11Y=none
ROOT=$LATCHKEY_HOME/sessions

# --- 20 profiles, none running ----------------------------------------------------
for i in $(seq 1 "$SESSIONS"); do
    p=$ROOT/session-bench$i
    mkdir -p "$p/Default"
    echo '{}' >"$p/Local State"
    echo cookies >"$p/Default/Cookies"
    echo '{}' >"$p/Default/Preferences"
done
found=$("$LATCHKEYCTL" sessions --root "$ROOT" --json | jq length)
[ "$found" = "$SESSIONS" ] || die "latchkeyctl finds $found sessions under $ROOT, not $SESSIONS"

bus_has_app() {
    dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus.ListNames 2>/dev/null | grep -q '"app.latchkey.Latchkey"'
}
# rss_pss PID...: "RSS_KiB PSS_KiB" summed over the processes (0 for gone ones).
rss_pss() {
    local p r s tr=0 ts=0
    for p in "$@"; do
        r=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null || true)
        s=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null || true)
        tr=$((tr + ${r:-0}))
        ts=$((ts + ${s:-0}))
    done
    echo "$tr $ts"
}
# sample LABEL RUN PIDS-COMMAND: SAMPLE samples, one a second, of the pids the
# command prints; appends "LABEL RUN rss pss" lines to samples.txt.
sample() {
    local label=$1 run=$2 i
    shift 2
    for i in $(seq 1 "$SAMPLE"); do
        # shellcheck disable=SC2046
        echo "$label $run $(rss_pss $("$@"))" >>"$WORK/samples.txt"
        sleep 1
    done
}
tree_of() { pgrep -f -- "--user-data-dir=$WORK/chromium-profile" || true; }

: >"$WORK/samples.txt"
for run in $(seq 1 "$RUNS"); do
    say "run $run/$RUNS: tray"
    "$LATCHKEY" --hidden >"$WORK/app.log" 2>&1 &
    app=$!
    started+=("$app")
    for _ in $(seq 1 300); do bus_has_app && break; sleep 0.1; done
    bus_has_app || die "the app did not come up: $(tail -5 "$WORK/app.log")"
    sleep "$SETTLE"
    kill -0 "$app" 2>/dev/null || die "the app exited: $(tail -5 "$WORK/app.log")"
    sample tray "$run" echo "$app"
    "$LATCHKEY" --quit >/dev/null 2>&1
    wait "$app" 2>/dev/null || true

    say "run $run/$RUNS: chromium"
    rm -rf "$WORK/chromium-profile"
    "$CHROMIUM" --headless=new --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --no-first-run --user-data-dir="$WORK/chromium-profile" \
        about:blank >/dev/null 2>&1 &
    chrome=$!
    started+=("$chrome")
    sleep "$SETTLE"
    sample chromium "$run" tree_of
    kill -TERM "$chrome" 2>/dev/null || true
    wait "$chrome" 2>/dev/null || true

    say "run $run/$RUNS: latchkeyctl sessions (poll)"
    for i in $(seq 1 5); do
        /usr/bin/time -f '%M' -o "$WORK/time.txt" "$LATCHKEYCTL" sessions --root "$ROOT" --json >/dev/null
        echo "poll $run $(cat "$WORK/time.txt") 0" >>"$WORK/samples.txt"
    done
done

# --- report ----------------------------------------------------------------------------
out=$OUTDIR/tray_memory.txt
{
    echo "# tray_memory.sh: $(date -u +%FT%TZ), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "# $SESSIONS sessions, $RUNS runs, settle ${SETTLE}s, $SAMPLE samples 1 s apart; MiB"
    printf '%-9s %4s %10s %10s %10s %10s\n' what run rss_med rss_max pss_med pss_max
    awk '
    function med(a, n,   i, j, t) {
        for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
        return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
    }
    { k = $1 " " $2; n[k]++; r[k, n[k]] = $3; p[k, n[k]] = $4; if (!(k in seen)) { seen[k] = 1; order[++m] = k } }
    END {
        for (o = 1; o <= m; o++) {
            k = order[o]; split(k, kk, " ")
            rmax = pmax = 0
            for (i = 1; i <= n[k]; i++) { ra[i] = r[k, i]; pa[i] = p[k, i]; if (ra[i] > rmax) rmax = ra[i]; if (pa[i] > pmax) pmax = pa[i] }
            printf "%-9s %4s %10.1f %10.1f %10.1f %10.1f\n", kk[1], kk[2], med(ra, n[k]) / 1024, rmax / 1024, med(pa, n[k]) / 1024, pmax / 1024
        }
    }' "$WORK/samples.txt"
    echo "# poll: GNU time's maximum RSS of each latchkeyctl sessions run (no Pss: the process is gone)"
} | tee "$out"
say "written to $out"
