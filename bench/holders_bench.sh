#!/usr/bin/env bash
# holders_bench.sh — "what holds this session folder?" timed side by side:
#
#   latchkeyctl holders TREE --json
#   lsof +D TREE
#   fuser <every path of the tree>          (what a user types to cover a tree: fuser $(find TREE))
#
# on one generated Chromium-like profile of 2,000 files, with 200 idle processes
# (cwd outside the tree) and 5 holders (open file for reading, open file for
# writing deep in the tree, open directory, cwd inside, file-backed mapping).
# Every tool is first checked to find exactly the 5 holders; then hyperfine
# measures the three commands in one run and exports markdown.
#
# Usage: bench/holders_bench.sh [-r RUNS] [-w WARMUP] [-o OUTDIR] [-p]
#        -p: also profile latchkeyctl on the same set-up (strace -c, perf stat)
#            into OUTDIR/holders_profile.txt
#        -x CMD: also time "CMD TREE" (e.g. a prototype scanner) in the same run
# Env:   LATCHKEYCTL=path/to/latchkeyctl (default build/default/app/cli/latchkeyctl)
#        NFILES=2000 NIDLE=200 (sizes; the issue's target is stated for these)
#
# Idempotent: everything lives in a fresh mktemp folder and every process it
# starts is ended by PID on exit (trap). Bounded: hyperfine runs a fixed number
# of runs under `timeout`.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
RUNS=30
WARMUP=3
OUTDIR="$here/out"
NFILES=${NFILES:-2000}
NIDLE=${NIDLE:-200}
LATCHKEYCTL=${LATCHKEYCTL:-$repo/build/default/app/cli/latchkeyctl}
HYPERFINE_TIMEOUT=${HYPERFINE_TIMEOUT:-900}

PROFILE=0
EXTRA=
while getopts "r:w:o:px:h" opt; do
    case $opt in
    x) EXTRA=$OPTARG ;;
    p) PROFILE=1 ;;
    r) RUNS=$OPTARG ;;
    w) WARMUP=$OPTARG ;;
    o) OUTDIR=$OPTARG ;;
    *) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 2 ;;
    esac
done

say() { printf '== %s\n' "$*"; }
warn() { printf 'WARNING: %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 2; }

# --- tools -------------------------------------------------------------------
need=()
command -v hyperfine >/dev/null || need+=(hyperfine)
command -v lsof >/dev/null || need+=(lsof)
command -v fuser >/dev/null || need+=(psmisc)
command -v cc >/dev/null || need+=(gcc)
if ((${#need[@]})); then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "installing ${need[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null ||
            { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null; }
    else
        die "missing ${need[*]}: install them (apt-get install ${need[*]}) and re-run"
    fi
fi
[ -x "$LATCHKEYCTL" ] ||
    die "no latchkeyctl at $LATCHKEYCTL: build it with 'cmake --preset default && cmake --build build/default' or set LATCHKEYCTL"
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)

# --- scratch area and clean-up -----------------------------------------------
WORK=$(mktemp -d /tmp/latchkey-holders-bench.XXXXXX)
TREE="$WORK/.wwebjs_auth/session-bench"
IDLE="$WORK/idle"
mkdir -p "$IDLE" "$WORK/ready"
pids=()

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if ((${#pids[@]})); then
        kill -TERM "${pids[@]}" 2>/dev/null || true
        wait "${pids[@]}" 2>/dev/null || true
    fi
    rm -rf -- "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the holder helper (compiled once into the scratch folder) ---------------
cat >"$WORK/holder.c" <<'EOF'
/* holder MODE PATH READYFILE: take hold of PATH, say so, then sleep until killed.
 * MODE: read (open O_RDONLY), write (O_WRONLY|O_APPEND), dir (open a directory),
 *       cwd (chdir into it), map (mmap the file, then close the fd: only the mapping holds it). */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
int main(int argc, char **argv)
{
    int fd = -1;
    if (argc != 4) return 2;
    if (!strcmp(argv[1], "read")) fd = open(argv[2], O_RDONLY);
    else if (!strcmp(argv[1], "write")) fd = open(argv[2], O_WRONLY | O_APPEND);
    else if (!strcmp(argv[1], "dir")) fd = open(argv[2], O_RDONLY | O_DIRECTORY);
    else if (!strcmp(argv[1], "cwd")) fd = chdir(argv[2]) == 0 ? 0 : -1;
    else if (!strcmp(argv[1], "map")) {
        fd = open(argv[2], O_RDONLY);
        if (fd >= 0 && mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED) fd = -1;
        else if (fd >= 0) { close(fd); fd = 0; }
    }
    if (fd < 0) { perror(argv[2]); return 1; }
    close(open(argv[3], O_WRONLY | O_CREAT, 0644));
    for (;;) pause();
}
EOF
cc -O2 -o "$WORK/holder" "$WORK/holder.c"

# --- the session tree: a fake Chromium profile of exactly NFILES files ---------
say "generating $NFILES files under $TREE"
D="$TREE/Default"
mkdir -p "$D/Local Storage/leveldb" "$D/Session Storage" "$D/Cache/Cache_Data" \
    "$D/Code Cache/js/index-dir" "$D/Code Cache/wasm/index-dir" "$D/GPUCache" \
    "$D/IndexedDB/https_web.whatsapp.com_0.indexeddb.leveldb" \
    "$D/IndexedDB/https_web.whatsapp.com_0.indexeddb.blob/1/00" \
    "$D/Service Worker/Database" "$D/Service Worker/ScriptCache/index-dir" \
    "$D/Service Worker/CacheStorage/2f1c7a9e0b3d4c5e6f708192a3b4c5d6e7f80912/index-dir" \
    "$D/Network" "$D/Sessions" "$D/blob_storage/3b0c1d2e-aaaa-bbbb-cccc-000000000001" \
    "$TREE/Crashpad/completed" "$TREE/Crashpad/pending" "$TREE/ShaderCache" "$TREE/Safe Browsing"
printf '{"browser":{"enabled_labs_experiments":[]},"profile":{"info_cache":{"Default":{}}}}\n' >"$TREE/Local State"
for f in "First Run" "Last Version" "Variations" "Crashpad/settings.dat" "ShaderCache/data_0" \
    "Safe Browsing/ChromeExtMalware.store.32_13" \
    "Default/Preferences" "Default/Secure Preferences" "Default/Cookies" "Default/Cookies-journal" \
    "Default/History" "Default/History-journal" "Default/Web Data" "Default/Web Data-journal" \
    "Default/Login Data" "Default/Favicons" "Default/Top Sites" "Default/Shortcuts" \
    "Default/Network/Cookies" "Default/Network/Network Persistent State" \
    "Default/Network/TransportSecurity" "Default/Network/Reporting and NEL" \
    "Default/Sessions/Session_13350000000000000" "Default/Sessions/Tabs_13350000000000000" \
    "Default/Local Storage/leveldb/"{000003.log,CURRENT,LOCK,LOG,MANIFEST-000001} \
    "Default/Session Storage/"{000003.log,CURRENT,LOCK,LOG,MANIFEST-000001} \
    "Default/Service Worker/Database/"{000003.log,CURRENT,LOCK,LOG,MANIFEST-000001} \
    "Default/IndexedDB/https_web.whatsapp.com_0.indexeddb.leveldb/"{CURRENT,LOCK,LOG,MANIFEST-000001} \
    "Default/GPUCache/"{index,data_0,data_1,data_2,data_3} \
    "Default/Cache/Cache_Data/"{index,data_0,data_1,data_2,data_3} \
    "Default/Service Worker/CacheStorage/2f1c7a9e0b3d4c5e6f708192a3b4c5d6e7f80912/index-dir/the-real-index"; do
    printf 'x%.0s' {1..64} >"$TREE/$f"
done
# The mapped file needs at least one page.
head -c 8192 /dev/zero >"$D/Cache/Cache_Data/data_1"
# Fill the rest like a real profile: a large flat HTTP cache, code cache,
# service-worker cache storage and IndexedDB blobs.
count=$(find "$TREE" -type f | wc -l)
i=0
fill() { # fill DIR PREFIX N
    local dir=$1 prefix=$2 n=$3 k name
    for ((k = 0; k < n && count < NFILES; k++)); do
        printf -v name '%s%06x' "$prefix" "$i"
        : >"$dir/$name"
        i=$((i + 1)) count=$((count + 1))
    done
}
left=$((NFILES - count))
fill "$D/IndexedDB/https_web.whatsapp.com_0.indexeddb.leveldb" "0" $((left / 20))
fill "$D/IndexedDB/https_web.whatsapp.com_0.indexeddb.blob/1/00" "" $((left / 20))
fill "$D/Service Worker/CacheStorage/2f1c7a9e0b3d4c5e6f708192a3b4c5d6e7f80912" "c0ffee" $((left / 10))
fill "$D/Service Worker/ScriptCache" "" $((left / 20))
fill "$D/Code Cache/js" "5e1d" $((left / 4))
fill "$D/Code Cache/wasm" "a55e" $((left / 20))
fill "$D/Cache/Cache_Data" "f_" "$NFILES"
nfiles=$(find "$TREE" -type f | wc -l)
ndirs=$(find "$TREE" -type d | wc -l)
[ "$nfiles" -eq "$NFILES" ] || die "generated $nfiles files, wanted $NFILES"
# fuser's argument list: every path find prints (files and folders, the tree itself included).
find "$TREE" -print0 >"$WORK/paths0"
npaths=$(tr -cd '\0' <"$WORK/paths0" | wc -c)
say "tree: $nfiles files in $ndirs folders ($npaths paths given to fuser)"

# --- 200 idle processes, cwd outside the tree -----------------------------------
say "starting $NIDLE idle processes (cwd $IDLE)"
for ((k = 0; k < NIDLE; k++)); do
    (cd "$IDLE" && exec sleep 100000) &
    pids+=($!)
done

# --- 5 holders ---------------------------------------------------------------
declare -A want=()
start_holder() { # MODE PATH
    (cd "$IDLE" && exec "$WORK/holder" "$1" "$2" "$WORK/ready/$1") &
    pids+=($!)
    want[$!]=$1
}
start_holder read "$D/Cookies"
start_holder write "$D/Service Worker/CacheStorage/2f1c7a9e0b3d4c5e6f708192a3b4c5d6e7f80912/index-dir/the-real-index"
start_holder dir "$D/IndexedDB/https_web.whatsapp.com_0.indexeddb.leveldb"
start_holder cwd "$D/Local Storage/leveldb"
start_holder map "$D/Cache/Cache_Data/data_1"
for ((t = 0; t < 200; t++)); do
    [ "$(find "$WORK/ready" -type f | wc -l)" -ge 5 ] && break
    sleep 0.05
done
[ "$(find "$WORK/ready" -type f | wc -l)" -ge 5 ] || die "the 5 holders did not all start"
holder_pids=("${!want[@]}")
for p in "${holder_pids[@]}"; do printf '   holder %-5s pid %s\n' "${want[$p]}" "$p"; done
npaths=$(tr -cd '\0' <"$WORK/paths0" | wc -c)

# --- the three commands ----------------------------------------------------------
# xargs passes all paths to ONE fuser (checked below), without a shell's 128 KiB
# per-argument limit on a single command string; -s raises its 128 KiB default.
FUSER_ARGS=(xargs -0 -s 2000000 -a "$WORK/paths0")
ninv=$("${FUSER_ARGS[@]}" sh -c 'echo x' sh | wc -l)
[ "$ninv" -eq 1 ] || die "xargs would split the $npaths paths into $ninv fuser runs"

cmd_lk="$LATCHKEYCTL holders $TREE --json"
cmd_lsof="lsof +D $TREE"
cmd_fuser="xargs -0 -s 2000000 -a $WORK/paths0 fuser"

# --- correctness: does each tool find exactly the 5 holders? --------------------
check() { # NAME FOUND-PIDS...
    local name=$1 p miss=0 extra=0
    shift
    declare -A got=()
    for p in "$@"; do got[$p]=1; done
    for p in "${holder_pids[@]}"; do
        if [ -z "${got[$p]:-}" ]; then
            warn "$name does not find holder '${want[$p]}' (pid $p)"
            miss=$((miss + 1))
        fi
    done
    for p in "${!got[@]}"; do
        if [ -z "${want[$p]:-}" ]; then
            warn "$name reports pid $p, which is not one of the 5 holders ($(tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null | cut -c1-80))"
            extra=$((extra + 1))
        fi
    done
    printf '   %-12s found %d of 5 holders, %d extra\n' "$name" $((5 - miss)) "$extra"
}
say "checking that each tool finds the 5 holders"
set +e
lk_out=$("$LATCHKEYCTL" holders "$TREE" --json 2>"$WORK/lk.err"); lk_rc=$?
set -e
[ "$lk_rc" -eq 0 ] || warn "latchkeyctl holders exited $lk_rc: $(head -c 300 "$WORK/lk.err")"
printf '%s\n' "$lk_out" >"$OUTDIR/holders_latchkeyctl.json"
# holder pids are the "pid" keys before "uninspectable" (held entries carry none).
mapfile -t lk_pids < <(printf '%s' "$lk_out" | tr -d '\n' | sed 's/"uninspectable".*//' |
    grep -o '"pid": *[0-9]*' | grep -o '[0-9]*$' | sort -u)
check latchkeyctl "${lk_pids[@]}"
# Processes this user cannot look into (lsof prints "readlink: Permission denied"
# for them): latchkeyctl must list them as "uninspectable", never drop them.
mapfile -t lk_blind < <(printf '%s' "$lk_out" | tr -d '\n' | sed -n 's/.*"uninspectable": *\[\([^]]*\)\].*/\1/p' |
    grep -o '"pid": *[0-9]*' | grep -o '[0-9]*$' | sort -u)
mapfile -t denied < <( (ls -l /proc/[0-9]*/cwd 2>&1 || true) | sed -n 's|.*/proc/\([0-9]*\)/cwd.*Permission denied.*|\1|p' | sort -u)
printf '   %-12s lists %d processes as uninspectable; this user cannot read the links of %d\n' \
    latchkeyctl "${#lk_blind[@]}" "${#denied[@]}"
for p in "${denied[@]}"; do
    [[ " ${lk_blind[*]} " == *" $p "* ]] ||
        warn "latchkeyctl does not list pid $p ($(cat /proc/"$p"/comm 2>/dev/null)) as uninspectable, yet its fd/cwd/exe links cannot be read"
done
mapfile -t lsof_pids < <(lsof +D "$TREE" 2>/dev/null | awk 'NR > 1 { print $2 }' | sort -u)
check "lsof +D" "${lsof_pids[@]}"
mapfile -t fuser_pids < <("${FUSER_ARGS[@]}" fuser 2>/dev/null | tr -s ' \t' '\n' | grep -E '^[0-9]+$' | sort -u)
check fuser "${fuser_pids[@]}"

# What every tool has to wade through: all processes and their mappings.
procs=(/proc/[0-9]*)
nprocs=${#procs[@]}
nchromium=$(pgrep -c -x chromium || true)
nmaps=$( (cat /proc/[0-9]*/maps 2>/dev/null || true) | wc -l)
say "system: $nprocs processes ($((NIDLE + 5)) of them ours, $nchromium foreign Chromium processes), $nmaps lines in /proc/*/maps, load average $(cut -d' ' -f1-3 /proc/loadavg)"

# --- timing ------------------------------------------------------------------------
say "hyperfine: $WARMUP warm-up + $RUNS runs of each"
# -N: no intermediate shell (nothing to subtract); -i: lsof and fuser exit non-zero
# on some harmless conditions (latchkeyctl's exit status was checked above).
extra=()
[ -z "$EXTRA" ] || extra=(-n "extra: $(basename "${EXTRA%% *}") TREE" "$EXTRA $TREE")
# In the background + wait, so that a signal reaches our trap at once (bash defers
# traps while a foreground command runs); `timeout` passes the TERM on to hyperfine.
timeout "$HYPERFINE_TIMEOUT" hyperfine -N -i --warmup "$WARMUP" --runs "$RUNS" \
    --time-unit millisecond \
    --export-markdown "$OUTDIR/holders.md" --export-json "$OUTDIR/holders.json" \
    -n "latchkeyctl holders TREE --json" "$cmd_lk" \
    -n "lsof +D TREE" "$cmd_lsof" \
    -n "fuser (all $npaths paths of TREE)" "$cmd_fuser" "${extra[@]}" &
pids+=($!)
wait $!

if ((PROFILE)); then
    prof="$OUTDIR/holders_profile.txt"
    say "profiling latchkeyctl into $prof"
    set +e # (head closes its pipes early)
    {
        echo "# strace -c -f $cmd_lk"
        strace -c -f "$LATCHKEYCTL" holders "$TREE" --json 2>&1 >/dev/null | head -n 25
        echo
        echo "# time spent inside syscalls (strace -T), by /proc file kind"
        strace -f -T -e trace=openat,read,readlinkat,getdents64,close -o "$WORK/strace.T" \
            "$LATCHKEYCTL" holders "$TREE" --json >/dev/null 2>&1 || true
        awk '
            function kind(path) { n = split(path, a, "/"); k = a[n]; if (path ~ /^\/proc\/[0-9]+$/ || (path ~ /^[0-9]+$/)) k = "<pid dir>"; return k }
            /openat\(/ && /= [0-9]+ </ { match($0, /"[^"]*"/); f = substr($0, RSTART + 1, RLENGTH - 2); match($0, /= [0-9]+ </); fd = substr($0, RSTART + 2, RLENGTH - 4) + 0; name[fd] = kind(f); t = $NF; gsub(/[<>]/, "", t); T["open " name[fd]] += t; C["open " name[fd]]++; next }
            /read\(/ { match($0, /read\([0-9]+/); fd = substr($0, RSTART + 5, RLENGTH - 5) + 0; t = $NF; gsub(/[<>]/, "", t); T["read " name[fd]] += t; C["read " name[fd]]++; next }
            /readlinkat\(/ { match($0, /readlinkat\([0-9]+, "[^"]*"/); split(substr($0, RSTART, RLENGTH), b, "\""); k = (b[2] ~ /^[0-9]+$/) ? "fd/N" : b[2]; t = $NF; gsub(/[<>]/, "", t); T["readlink " k] += t; C["readlink " k]++; next }
            /getdents64\(/ { t = $NF; gsub(/[<>]/, "", t); T["getdents64"] += t; C["getdents64"]++; next }
            /close\(/ { t = $NF; gsub(/[<>]/, "", t); T["close"] += t; C["close"]++; next }
            END { for (k in T) { tot += T[k] } printf "%8.1f ms total in these syscalls (strace inflates each call: compare shares, not totals)\n", tot * 1000; for (k in T) printf "%8.1f ms %5.1f%%  %6d calls  %s\n", T[k] * 1000, 100 * T[k] / tot, C[k], k | "sort -rn"; close("sort -rn") }
        ' "$WORK/strace.T" | head -n 16
        echo
        echo "# perf stat -r 10 $cmd_lk"
        perf stat -r 10 "$LATCHKEYCTL" holders "$TREE" --json 2>&1 >/dev/null | grep -v '^$' || echo "(perf not available)"
    } >"$prof" 2>&1
    set -e
    cat "$prof"
fi

# --- summary -------------------------------------------------------------------------
# hyperfine's markdown rows: | `name` | mean ± sd | min | max | relative |
read -r lk_mean lk_sd lsof_mean lsof_sd fu_mean fu_sd < <(awk -F'|' '
    /^\| `/ { gsub(/ /, "", $3); split($3, a, "±"); m[++n] = a[1]; s[n] = a[2] }
    END { print m[1], s[1], m[2], s[2], m[3], s[3] }' "$OUTDIR/holders.md")
r_lsof=$(awk -v a="$lsof_mean" -v b="$lk_mean" 'BEGIN { printf "%.1f", a / b }')
r_fuser=$(awk -v a="$fu_mean" -v b="$lk_mean" 'BEGIN { printf "%.2f", a / b }')
verdict_lsof=$(awk -v r="$r_lsof" 'BEGIN { print (r >= 5 ? "met" : "NOT met") }')
verdict_fuser=$(awk -v r="$r_fuser" 'BEGIN { print (r >= 1 ? "met" : "NOT met") }')
echo
say "summary ($nfiles files, $NIDLE idle processes, 5 holders; mean ± σ over $RUNS runs)"
printf '   %-34s %10s ± %s ms\n' "latchkeyctl holders TREE --json" "$lk_mean" "$lk_sd"
printf '   %-34s %10s ± %s ms\n' "lsof +D TREE" "$lsof_mean" "$lsof_sd"
printf '   %-34s %10s ± %s ms\n' "fuser (every path)" "$fu_mean" "$fu_sd"
printf '   lsof +D / latchkeyctl = %sx  (target >= 5x: %s)\n' "$r_lsof" "$verdict_lsof"
printf '   fuser   / latchkeyctl = %sx  (target >= 1x: %s)\n' "$r_fuser" "$verdict_fuser"
printf '   load average at the end: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '   markdown: %s\n' "$OUTDIR/holders.md"
