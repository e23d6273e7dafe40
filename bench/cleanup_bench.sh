#!/usr/bin/env bash
# cleanup_bench.sh — kill-and-clean-up of a live headless Chromium profile, from
# command to folder gone, timed N rounds for each of two approaches:
#
#   latchkeyctl   latchkeyctl cleanup DIR --json
#   seed          what the seed documents (../shared/seeds/000_*.txt, 001_*.txt) do:
#                 destroy the browser (SIGTERM, wait for it up to 5 s, then SIGKILL),
#                 wait a fixed 2 s "for file locks", then delete the folder with
#                 up to 3 attempts 2 s apart (rm -rf).
#
# Each round starts a fresh Chromium on a fresh profile, waits until it is up
# (DevToolsActivePort written, then SETTLE seconds so renderer, GPU, network and
# storage services are running), times the approach, and checks that the folder
# is gone and that no process of that profile survives (neither any descendant of
# the browser nor anything whose command line names the folder: pgrep -f DIR).
# Rounds alternate which approach goes first.
#
# Usage: bench/cleanup_bench.sh [-n ROUNDS] [-o OUTDIR]
# Env:   LATCHKEYCTL=path/to/latchkeyctl (default build/default/app/cli/latchkeyctl)
#        CHROMIUM=chromium  SETTLE=1 (seconds after DevToolsActivePort)
#
# Idempotent and self-cleaning: everything lives in a fresh mktemp folder; on exit
# every process it started (the launchers and the browsers' process trees) is
# ended by PID, then the folder is removed. Bounded: each step has a deadline.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
ROUNDS=10
OUTDIR="$here/out"
SETTLE=${SETTLE:-1}
CHROMIUM=${CHROMIUM:-chromium}
LATCHKEYCTL=${LATCHKEYCTL:-$repo/build/default/app/cli/latchkeyctl}
START_TIMEOUT_S=30   # browser start
LK_TIMEOUT_S=60      # hard cap on one latchkeyctl call (its own default deadline is shorter)

while getopts "n:o:h" opt; do
    case $opt in
    n) ROUNDS=$OPTARG ;;
    o) OUTDIR=$OPTARG ;;
    *) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 2 ;;
    esac
done

say() { printf '== %s\n' "$*"; }
warn() { printf 'WARNING: %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 2; }

# --- tools -------------------------------------------------------------------
if ! command -v "$CHROMIUM" >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "installing chromium"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null ||
            { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }
    else
        die "no $CHROMIUM: install it (apt-get install chromium) or set CHROMIUM"
    fi
fi
[ -x "$LATCHKEYCTL" ] ||
    die "no latchkeyctl at $LATCHKEYCTL: build it with 'cmake --preset default && cmake --build build/default' or set LATCHKEYCTL"
[ -n "${EPOCHREALTIME:-}" ] || die "needs bash >= 5 (EPOCHREALTIME)"
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)

# --- scratch area and clean-up -----------------------------------------------
WORK=$(mktemp -d /tmp/latchkey-cleanup-bench.XXXXXX)
mkdir -p "$WORK/.wwebjs_auth" "$WORK/home"
launchers=()

# Every process we started, by PID: the launchers, everything below them, and
# anything whose command line names our (unique) scratch folder.
our_pids() {
    local p
    local -A seen=()
    local queue=("${launchers[@]}")
    while ((${#queue[@]})); do
        p=${queue[0]}
        queue=("${queue[@]:1}")
        [ -n "${seen[$p]:-}" ] && continue
        seen[$p]=1
        # shellcheck disable=SC2207
        queue+=($(pgrep -P "$p" || true))
    done
    for p in $(pgrep -f -- "$WORK" || true); do seen[$p]=1; done
    unset "seen[$$]" "seen[$BASHPID]"
    echo "${!seen[@]}"
}

cleanup() {
    local rc=$? left
    trap - EXIT INT TERM
    left=$(our_pids)
    if [ -n "$left" ]; then
        # shellcheck disable=SC2086
        kill -KILL $left 2>/dev/null || true
    fi
    wait 2>/dev/null || true
    rm -rf -- "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

now_us() { local t=${EPOCHREALTIME/[.,]/}; echo "$t"; }

# start_browser DIR LOG: a launcher (like node/puppeteer) spawns Chromium and
# waits on it, so the browser has a parent that reaps it, as in real use.
# Sets $launcher and $browser.
start_browser() {
    local dir=$1 log=$2 t
    (
        cd "$WORK"
        HOME="$WORK/home" XDG_CONFIG_HOME="$WORK/home/.config" XDG_CACHE_HOME="$WORK/home/.cache" \
            "$CHROMIUM" --headless=new --no-sandbox --disable-background-networking \
            --disable-component-update --no-first-run --disable-gpu --remote-debugging-port=0 \
            --user-data-dir="$dir" about:blank </dev/null >"$log" 2>&1 &
        echo $! >"$dir.pid"
        wait
    ) &
    launcher=$!
    launchers+=("$launcher")
    for ((t = 0; t < START_TIMEOUT_S * 50; t++)); do
        [ -s "$dir/DevToolsActivePort" ] && break
        sleep 0.02
    done
    [ -s "$dir/DevToolsActivePort" ] || return 1
    browser=$(cat "$dir.pid")
    sleep "$SETTLE"
}

# The browser's process tree as "pid:starttime" words, to check survivors
# without being fooled by PID reuse.
tree_of() {
    local p queue=("$1") out=()
    while ((${#queue[@]})); do
        p=${queue[0]}
        queue=("${queue[@]:1}")
        [ -r "/proc/$p/stat" ] || continue
        out+=("$p:$(starttime "$p")")
        # shellcheck disable=SC2207
        queue+=($(pgrep -P "$p" || true))
    done
    echo "${out[@]}"
}
starttime() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $20 }'; }
survivors() { # "pid:start"... -> those still alive with the same start time
    local w p s alive=()
    for w in "$@"; do
        p=${w%%:*} s=${w#*:}
        [ "$(starttime "$p")" = "$s" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$p/status" 2>/dev/null &&
            alive+=("$p")
    done
    echo "${alive[@]}"
}

# --- the two approaches ----------------------------------------------------------
run_latchkeyctl() { # DIR -> sets rc
    timeout "$LK_TIMEOUT_S" "$LATCHKEYCTL" cleanup "$1" --json >"$WORK/lk.out" 2>"$WORK/lk.err" && rc=0 || rc=$?
}

# Faithful to the seeds: destroy() with a 5 s timeout, then force; "Delay after
# cleanup - 2-second wait after destroying client (Windows file lock release
# time)"; then safeDeleteDirectory(dirPath, maxRetries = 3, delay = 2000).
run_seed() { # DIR BROWSER_PID -> sets rc
    local dir=$1 b=$2 t attempt
    kill -TERM "$b" 2>/dev/null || true
    for ((t = 0; t < 500; t++)); do # destroy() awaits the browser's exit (5 s timeout)
        kill -0 "$b" 2>/dev/null || break
        sleep 0.01
    done
    kill -KILL "$b" 2>/dev/null || true
    sleep 2
    rc=1
    for ((attempt = 1; attempt <= 3; attempt++)); do
        if rm -rf -- "$dir" 2>/dev/null && [ ! -e "$dir" ]; then
            rc=0
            break
        fi
        if ((attempt < 3)); then sleep 2; fi
    done
    return 0
}

# --- rounds ------------------------------------------------------------------------
csv="$OUTDIR/cleanup.csv"
echo "round,approach,ms,exit,procs_before,survivors,folder_gone,scan_ms,lk_elapsed_ms,loadavg" >"$csv"
chromium_version=$("$CHROMIUM" --version 2>/dev/null | tail -n 1)
say "$chromium_version; $ROUNDS rounds; settle ${SETTLE}s after DevToolsActivePort; load average $(cut -d' ' -f1-3 /proc/loadavg)"
failures=0
one_round() { # ROUND APPROACH
    local r=$1 a=$2 dir t0 t1 ms before procs alive gone scan_ms lk_ms=- load words
    dir="$WORK/.wwebjs_auth/session-$a-$r"
    if ! start_browser "$dir" "$WORK/chromium-$a-$r.log"; then
        warn "round $r ($a): Chromium did not come up within ${START_TIMEOUT_S}s (log: $(tail -n 2 "$WORK/chromium-$a-$r.log" | tr '\n' ' '))"
        failures=$((failures + 1))
        return
    fi
    before=$(tree_of "$browser")
    procs=$(wc -w <<<"$before")
    # Diagnostic, before the clock starts and for both approaches alike: how long
    # one read-only scan of this machine takes right now (cleanup scans twice).
    t0=$(now_us)
    "$LATCHKEYCTL" holders "$dir" --json >/dev/null 2>&1 || true
    t1=$(now_us)
    scan_ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1000 }')
    load=$(cut -d' ' -f1 /proc/loadavg)
    t0=$(now_us)
    if [ "$a" = latchkeyctl ]; then run_latchkeyctl "$dir"; else run_seed "$dir" "$browser"; fi
    t1=$(now_us)
    ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1000 }')
    # shellcheck disable=SC2086
    alive=$(survivors $before)
    alive="$alive $(pgrep -f -- "$dir" | tr '\n' ' ' || true)"
    read -r -a words <<<"$alive"
    alive="${words[*]}"
    [ -e "$dir" ] && gone=no || gone=yes
    if [ "$a" = latchkeyctl ]; then
        lk_ms=$(tr -d '\n' <"$WORK/lk.out" | grep -o '"elapsed_ms": *[0-9]*' | grep -o '[0-9]*$' || echo -)
    fi
    printf '   round %2d  %-11s %8s ms  exit %s  %2d processes  gone: %-3s  survivors: %-5s (one scan: %s ms, load %s)\n' \
        "$r" "$a" "$ms" "$rc" "$procs" "$gone" "${alive:-none}" "$scan_ms" "$load"
    if [ "$rc" != 0 ] || [ "$gone" = no ] || [ -n "$alive" ]; then
        warn "round $r ($a) did not finish the job (exit $rc, folder gone: $gone, survivors: ${alive:-none})"
        [ "$a" != latchkeyctl ] || printf '   latchkeyctl said: %s %s\n' "$(head -c 600 "$WORK/lk.out")" "$(head -c 300 "$WORK/lk.err")"
        failures=$((failures + 1))
        # shellcheck disable=SC2086
        [ -z "$alive" ] || kill -KILL $alive 2>/dev/null || true
        rm -rf -- "$dir"
    fi
    if [ "$a" = latchkeyctl ]; then cp "$WORK/lk.out" "$OUTDIR/cleanup_latchkeyctl_last.json"; fi
    echo "$r,$a,$ms,$rc,$procs,\"${alive}\",$gone,$scan_ms,$lk_ms,$load" >>"$csv"
    # Let the launcher (our stand-in for node) notice and exit before the next round.
    for ((t0 = 0; t0 < 500; t0++)); do kill -0 "$launcher" 2>/dev/null || break; sleep 0.01; done
    kill -KILL "$launcher" 2>/dev/null || true
    wait "$launcher" 2>/dev/null || true
    rm -f -- "$dir.pid"
    return 0
}
for ((r = 1; r <= ROUNDS; r++)); do
    if ((r % 2)); then
        one_round "$r" latchkeyctl
        one_round "$r" seed
    else
        one_round "$r" seed
        one_round "$r" latchkeyctl
    fi
done

# --- summary -------------------------------------------------------------------------
stats() { # APPROACH -> "n median p90 min max" (p90: nearest rank)
    awk -F, -v a="$1" 'NR > 1 && $2 == a { print $3 }' "$csv" | sort -n | awk '
        { v[++n] = $1 }
        END {
            if (n == 0) { print "0 - - - -"; exit }
            med = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
            k = int(0.9 * n); if (k < 0.9 * n) k++
            printf "%d %.1f %.1f %.1f %.1f\n", n, med, v[k], v[1], v[n]
        }'
}
read -r n_lk med_lk p90_lk min_lk max_lk < <(stats latchkeyctl)
read -r n_sd med_sd p90_sd min_sd max_sd < <(stats seed)
md="$OUTDIR/cleanup.md"
{
    echo "| Approach | Rounds | Median [ms] | p90 [ms] | Min [ms] | Max [ms] |"
    echo "|:---|---:|---:|---:|---:|---:|"
    echo "| \`latchkeyctl cleanup DIR --json\` | $n_lk | $med_lk | $p90_lk | $min_lk | $max_lk |"
    echo "| seed: SIGTERM + wait, sleep 2 s, \`rm -rf\` ×3 | $n_sd | $med_sd | $p90_sd | $min_sd | $max_sd |"
} >"$md"
echo
say "summary (command to folder gone, $chromium_version)"
cat "$md"
verdict=$(awk -v m="$med_lk" 'BEGIN { print (m != "-" && m < 500 ? "met" : "NOT met") }')
printf 'latchkeyctl median %s ms (target < 500 ms: %s); seed approach median %s ms; failed rounds: %d\n' \
    "$med_lk" "$verdict" "$med_sd" "$failures"
scan_med=$(awk -F, 'NR > 1 { print $8 }' "$csv" | sort -n | awk '{ v[++n] = $1 } END { if (n) print (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }')
printf 'one read-only holders scan just before each round: median %s ms; load average now %s\n' \
    "$scan_med" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf 'raw: %s\n' "$csv"
