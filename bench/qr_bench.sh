#!/usr/bin/env bash
# qr_bench.sh — time from command to QR payload in hand, three contenders side
# by side in one run, N rounds, on the local WhatsApp-like fixture page:
#
#   latchkeyctl  latchkeyctl qr PROFILE --json --site-url URL --chromium CHROMIUM
#   puppeteer    node bench/qr_puppeteer.mjs: puppeteer-core launches the same
#                Chromium with Latchkey's flags, opens URL, waits for [data-ref],
#                prints its value, closes the browser
#   floor        Chromium alone: CHROMIUM FLAGS --dump-dom URL (the payload is
#                read from the dumped DOM)
#
# Every contender uses the same Chromium binary, the same flags (read from the
# command line of the browser latchkeyctl itself starts during the warm-up),
# a fresh profile folder and the same page with the same seed in a round, and is
# timed by payload_timer (payload_timer.c, built here) from just before fork()
# to the moment its payload is readable on its stdout; the exit time is recorded
# too. Rounds alternate the order. After each run the script checks that the
# payload is a valid fixture payload (2@ref,key,key,0), that all three contenders
# read the same payload in a round, and that no process of that profile is left.
#
# Usage: bench/qr_bench.sh [-n ROUNDS] [-w WARMUP] [-x BROWSERS] [-o OUTDIR]
#        -x: keep BROWSERS idle headless Chromiums (not any contender's, 9 processes
#        each) running throughout, as on a host that already runs bot sessions
# Env:   LATCHKEYCTL=build/default/app/cli/latchkeyctl
#        CHROMIUM=/usr/lib/chromium/chromium (the real binary, not Debian's
#          /usr/bin/chromium wrapper script, which adds flags of its own)
#        NODE=node  PUPPETEER_CORE_DIR=/tmp/latchkey-bench-npm (npm-installs
#          puppeteer-core@PUPPETEER_VERSION there when missing; never in the repo)
#        PUPPETEER_VERSION=24.43.1  FIXTURE_SERVE=build/default/tests/browser/fixture_serve
#
# Self-cleaning: a fresh mktemp folder; on exit every process it started (the
# fixture server, anything whose command line names the scratch folder) is
# ended by PID, then the folder is removed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
ROUNDS=10
WARMUP=1
BROWSERS=0
OUTDIR="$here/out"
LATCHKEYCTL=${LATCHKEYCTL:-$repo/build/default/app/cli/latchkeyctl}
CHROMIUM=${CHROMIUM:-/usr/lib/chromium/chromium}
NODE=${NODE:-node}
PUPPETEER_VERSION=${PUPPETEER_VERSION:-24.43.1}
PUPPETEER_CORE_DIR=${PUPPETEER_CORE_DIR:-/tmp/latchkey-bench-npm}
FIXTURE_SERVE=${FIXTURE_SERVE:-$repo/build/default/tests/browser/fixture_serve}
RUN_TIMEOUT_S=60

while getopts "n:w:x:o:h" opt; do
    case $opt in
    n) ROUNDS=$OPTARG ;;
    w) WARMUP=$OPTARG ;;
    x) BROWSERS=$OPTARG ;;
    o) OUTDIR=$OPTARG ;;
    *) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 2 ;;
    esac
done

say() { printf '== %s\n' "$*"; }
warn() { printf 'WARNING: %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 2; }

# --- tools -------------------------------------------------------------------
[ -x "$CHROMIUM" ] || die "no Chromium at $CHROMIUM (apt-get install chromium, or set CHROMIUM)"
[ -x "$LATCHKEYCTL" ] || die "no latchkeyctl at $LATCHKEYCTL: cmake --preset default && cmake --build build/default"
[ -x "$FIXTURE_SERVE" ] || die "no fixture server at $FIXTURE_SERVE: cmake --build build/default"
command -v "$NODE" >/dev/null || die "no node (apt-get install nodejs, or set NODE)"
command -v cc >/dev/null || die "no C compiler"
if [ ! -f "$PUPPETEER_CORE_DIR/node_modules/puppeteer-core/package.json" ]; then
    say "installing puppeteer-core@$PUPPETEER_VERSION into $PUPPETEER_CORE_DIR"
    mkdir -p "$PUPPETEER_CORE_DIR"
    (cd "$PUPPETEER_CORE_DIR" && { [ -f package.json ] || echo '{"private":true}' >package.json; } &&
        npm install --no-audit --no-fund --save-exact "puppeteer-core@$PUPPETEER_VERSION" >/dev/null 2>&1) ||
        die "npm install puppeteer-core@$PUPPETEER_VERSION failed"
fi
pptr_version=$(cd "$PUPPETEER_CORE_DIR" && "$NODE" -p 'require("puppeteer-core/package.json").version')
[ "$pptr_version" = "$PUPPETEER_VERSION" ] ||
    warn "puppeteer-core in $PUPPETEER_CORE_DIR is $pptr_version, not $PUPPETEER_VERSION"
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)

# --- scratch area and clean-up -----------------------------------------------
WORK=$(mktemp -d /tmp/latchkey-qr-bench.XXXXXX)
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
    [ -z "${left// /}" ] || kill -KILL $left 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf -- "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cc -O2 -o "$WORK/payload_timer" "$here/payload_timer.c" || die "cannot build payload_timer"
TIMER="$WORK/payload_timer"
# One environment for all three: nothing from this user's real Chromium config.
export HOME="$WORK/home" XDG_CONFIG_HOME="$WORK/home/.config" XDG_CACHE_HOME="$WORK/home/.cache"
export PUPPETEER_CORE_DIR
unset LATCHKEY_SITE_URL LATCHKEY_CHROMIUM

# --- the fixture server ----------------------------------------------------------
lifetime=$(((ROUNDS + WARMUP) * 3 * RUN_TIMEOUT_S + 120))
"$FIXTURE_SERVE" --root "$repo/tests/fixtures" --port-file "$WORK/port" --lifetime "$lifetime" \
    >"$WORK/serve.out" 2>&1 &
server=$!
for ((t = 0; t < 250; t++)); do [ -s "$WORK/port" ] && break; sleep 0.02; done
[ -s "$WORK/port" ] || die "the fixture server did not start: $(cat "$WORK/serve.out")"
PORT=$(cat "$WORK/port")
# A QR that stays put for the whole run: every contender reads rotation 0.
url_for() { echo "http://127.0.0.1:$PORT/whatsapp.html?rotate_ms=60000&rotations=5&seed=$1"; }

# --- Latchkey's flags, from the browser latchkeyctl really starts -------------------
# Falls back to the list in core/browser/launch.c when the capture misses.
capture_flags() {
    local p="$WORK/profiles/flags" pid t b=
    "$LATCHKEYCTL" qr "$p" --json --site-url "$(url_for 1)" --chromium "$CHROMIUM" --timeout 30 \
        >"$WORK/flags.out" 2>&1 &
    pid=$!
    for ((t = 0; t < 1500; t++)); do
        b=$(pgrep -f -- "--user-data-dir=$p" | while read -r q; do
            tr '\0' '\n' <"/proc/$q/cmdline" 2>/dev/null | grep -q '^--type=' || { echo "$q"; break; }
        done || true)
        [ -z "$b" ] || break
        sleep 0.005
    done
    [ -n "$b" ] && tr '\0' '\n' <"/proc/$b/cmdline" >"$WORK/flags.argv" 2>/dev/null || true
    wait "$pid" || true
    rm -rf -- "$p"
    [ -s "$WORK/flags.argv" ]
}
FLAGS=()
if capture_flags; then
    # argv[0], the profile, the debugging port and the first page are per-run.
    mapfile -t FLAGS < <(sed '1d' "$WORK/flags.argv" | grep -v -e '^--user-data-dir=' \
        -e '^--remote-debugging-port=' -e '^[a-z]*:' -e '^$')
    flag_source="captured from the browser latchkeyctl started"
else
    mapfile -t FLAGS < <(sed -n '/lean_flags\[\] = {/,/^};/p' "$repo/core/browser/launch.c" |
        grep -o '^ *"--[^"]*"' | tr -d ' "')
    [ "$(id -u)" = 0 ] && FLAGS+=(--no-sandbox)
    FLAGS+=(--headless=new)
    flag_source="read from core/browser/launch.c (capture missed)"
    warn "could not capture latchkeyctl's browser command line; using launch.c's list"
fi
((${#FLAGS[@]})) || die "no flags"
printf '%s\n' "${FLAGS[@]}" >"$OUTDIR/qr_flags.txt"

for ((x = 1; x <= BROWSERS; x++)); do
    "$CHROMIUM" --headless=new --no-sandbox --user-data-dir="$WORK/foreign/browser-$x" about:blank \
        >/dev/null 2>&1 &
    extra+=($!)
done
((BROWSERS == 0)) || sleep 3

# --- the contenders ------------------------------------------------------------------
run_one() { # CONTENDER PROFILE URL -> sets res (the payload_timer line)
    local c=$1 p=$2 u=$3
    case $c in
    latchkeyctl)
        res=$("$TIMER" json "$RUN_TIMEOUT_S" "$WORK/out.$c" "$WORK/err.$c" -- \
            "$LATCHKEYCTL" qr "$p" --json --site-url "$u" --chromium "$CHROMIUM" --timeout 30) ;;
    puppeteer)
        res=$("$TIMER" line "$RUN_TIMEOUT_S" "$WORK/out.$c" "$WORK/err.$c" -- \
            "$NODE" "$here/qr_puppeteer.mjs" "$CHROMIUM" "$p" "$u" "${FLAGS[@]}") ;;
    floor)
        # No --remote-debugging-port here: with it, --dump-dom never exits
        # (the browser stays up for the DevTools client).
        res=$("$TIMER" dom "$RUN_TIMEOUT_S" "$WORK/out.$c" "$WORK/err.$c" -- \
            "$CHROMIUM" "${FLAGS[@]}" "--user-data-dir=$p" --dump-dom "$u") ;;
    esac
}
field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" <<<"$2"; }
valid_payload() { [[ $1 =~ ^2@[A-Za-z0-9+/=]+,[A-Za-z0-9+/=]+,[A-Za-z0-9+/=]+,0$ ]]; }

csv="$OUTDIR/qr.csv"
echo "round,contender,position,payload_ms,exit_ms,rc,valid,same_as_floor,survivors,loadavg" >"$csv"
chromium_version=$("$CHROMIUM" --version 2>/dev/null | tail -n 1)
say "$chromium_version, puppeteer-core $pptr_version, node $("$NODE" --version); $ROUNDS rounds (+$WARMUP warm-up); fixture on port $PORT"
say "flags ($flag_source): ${FLAGS[*]}"
say "load average $(cut -d' ' -f1-3 /proc/loadavg); $(ls /proc | grep -c '^[0-9]') processes, $(pgrep -c -f "$CHROMIUM" || true) of them Chromium"
failures=0
declare -A payload_of

one() { # ROUND POSITION CONTENDER [warm]
    local r=$1 pos=$2 c=$3 warm=${4:-} p u pms ems rc pl ok same alive late load
    p="$WORK/profiles/r$r-$c"
    if [ -n "$warm" ]; then u=$(url_for $((900 + ${r#w}))); else u=$(url_for $((1000 + r))); fi
    load=$(cut -d' ' -f1 /proc/loadavg)
    run_one "$c" "$p" "$u"
    pms=$(field payload_ms "$res") ems=$(field exit_ms "$res") rc=$(field rc "$res") pl=$(field payload "$res")
    alive=$(pgrep -f -- "--user-data-dir=$p" | tr '\n' ' ' || true)
    alive=${alive% }
    late=
    if [ -n "$alive" ]; then
        # Still there at exit: slow to go, or left behind? Give it 2 s, then end it.
        sleep 2
        late=$(pgrep -f -- "--user-data-dir=$p" | tr '\n' ' ' || true)
        # shellcheck disable=SC2086
        [ -z "${late// /}" ] || kill -KILL $late 2>/dev/null || true
    fi
    valid_payload "$pl" && ok=yes || ok=no
    payload_of[$r.$c]=$pl
    rm -rf -- "$p"
    if [ -n "$warm" ]; then
        printf '   warm-up  %-11s payload %7s ms  exit %7s ms  rc %s  valid %s\n' "$c" "$pms" "$ems" "$rc" "$ok"
        return 0
    fi
    printf '   round %2d  %-11s payload %7s ms  exit %7s ms  rc %s  valid %-3s  survivors: %s\n' \
        "$r" "$c" "$pms" "$ems" "$rc" "$ok" "${alive:-none}${late:+ (still there 2 s later: $late)}"
    if [ "$rc" != 0 ] || [ "$ok" != yes ] || [ -n "$alive" ]; then
        warn "round $r ($c): rc $rc, payload valid: $ok, survivors at exit: ${alive:-none}"
        printf '   stdout: %s\n   stderr: %s\n' "$(head -c 400 "$WORK/out.$c" | tr '\n' ' ')" \
            "$(grep -v -i dbus "$WORK/err.$c" | tail -n 3 | tr '\n' ' ')"
        failures=$((failures + 1))
    fi
    echo "$r,$c,$pos,$pms,$ems,$rc,$ok,-,\"$alive\",$load" >>"$csv"
}

for ((w = 1; w <= WARMUP; w++)); do
    for c in floor puppeteer latchkeyctl; do one "w$w" 0 "$c" warm; done
done
order=(latchkeyctl puppeteer floor)
for ((r = 1; r <= ROUNDS; r++)); do
    if ((r % 2)); then seq=("${order[@]}"); else seq=(floor puppeteer latchkeyctl); fi
    pos=0
    for c in "${seq[@]}"; do
        pos=$((pos + 1))
        one "$r" "$pos" "$c"
    done
    # Same page, same seed: all three must have read the same payload.
    for c in latchkeyctl puppeteer; do
        if [ "${payload_of[$r.$c]}" = "${payload_of[$r.floor]}" ]; then same=yes; else same=no; fi
        sed -i "s/^$r,$c,\([^,]*,[^,]*,[^,]*,[^,]*,[^,]*\),-,/$r,$c,\1,$same,/" "$csv"
        [ "$same" = yes ] || { warn "round $r: $c read ${payload_of[$r.$c]:0:40}..., the DOM says ${payload_of[$r.floor]:0:40}..."; failures=$((failures + 1)); }
    done
    sed -i "s/^$r,floor,\([^,]*,[^,]*,[^,]*,[^,]*,[^,]*\),-,/$r,floor,\1,yes,/" "$csv"
done

# --- summary ---------------------------------------------------------------------------
stats() { # CONTENDER COLUMN -> "n median p90 min max" (p90: nearest rank)
    awk -F, -v c="$1" -v k="$2" 'NR > 1 && $2 == c && $k >= 0 { print $k }' "$csv" | sort -n | awk '
        { v[++n] = $1 }
        END {
            if (n == 0) { print "0 - - - -"; exit }
            med = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
            k = int(0.9 * n); if (k < 0.9 * n) k++
            printf "%d %.1f %.1f %.1f %.1f\n", n, med, v[k], v[1], v[n]
        }'
}
md="$OUTDIR/qr.md"
declare -A med
{
    echo "| Contender | Rounds | Payload median [ms] | p90 | min | max | Exit median [ms] | p90 | min | max |"
    echo "|:---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for c in latchkeyctl puppeteer floor; do
        read -r n m9 p9 mi mx < <(stats "$c" 4)
        read -r _ em ep emi emx < <(stats "$c" 5)
        med[$c]=$m9
        case $c in
        latchkeyctl) label='`latchkeyctl qr P --json --site-url URL`' ;;
        puppeteer) label="Puppeteer-core $pptr_version script" ;;
        floor) label='Chromium `--dump-dom URL` (floor)' ;;
        esac
        echo "| $label | $n | $m9 | $p9 | $mi | $mx | $em | $ep | $emi | $emx |"
    done
} >"$md"
echo
say "summary: command to payload on stdout, and to exit"
cat "$md"
r_pp=$(awk -v a="${med[latchkeyctl]}" -v b="${med[puppeteer]}" 'BEGIN { printf "%.2f", a / b }')
r_fl=$(awk -v a="${med[latchkeyctl]}" -v b="${med[floor]}" 'BEGIN { printf "%.2f", a / b }')
v_pp=$(awk -v r="$r_pp" 'BEGIN { print (r <= 0.8 ? "met" : "NOT met") }')
v_fl=$(awk -v r="$r_fl" 'BEGIN { print (r <= 1.2 ? "met" : "NOT met") }')
printf 'latchkeyctl / puppeteer (medians, to payload): %sx  (target <= 0.8x: %s)\n' "$r_pp" "$v_pp"
printf 'latchkeyctl / floor     (medians, to payload): %sx  (target <= 1.2x: %s)\n' "$r_fl" "$v_fl"
# Paired, round by round: the three ran back to back, so background load
# weighs on all of them alike within a round.
paired() { # A B -> "median min max" of A/B per round
    awk -F, -v a="$1" -v b="$2" 'NR > 1 { v[$1 "," $2] = $4; r[$1] = 1 }
        END { for (k in r) if (v[k "," a] > 0 && v[k "," b] > 0) print v[k "," a] / v[k "," b] }' "$csv" |
        sort -n | awk '{ x[++n] = $1 } END { if (!n) { print "- - -"; exit }
            printf "%.2f %.2f %.2f\n", (n % 2) ? x[(n + 1) / 2] : (x[n / 2] + x[n / 2 + 1]) / 2, x[1], x[n] }'
}
read -r pm pmin pmax < <(paired latchkeyctl puppeteer)
read -r fm fmin fmax < <(paired latchkeyctl floor)
printf 'per round: latchkeyctl / puppeteer median %sx (%s..%s); latchkeyctl / floor median %sx (%s..%s)\n' \
    "$pm" "$pmin" "$pmax" "$fm" "$fmin" "$fmax"
printf 'failed checks: %d; load average now %s\n' "$failures" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf 'raw: %s\n' "$csv"
