#!/usr/bin/env bash
# Stamina: `latchkeyctl link` keeps one session through 100 crash-and-heal
# cycles, the renderer and the browser killed from outside (SIGKILL) in
# turn, on real headless Chromium and the fixture page. Each cycle waits
# until link shows the page's QR code again (the page makes a new one at
# every load); `latchkeyctl status` reads it after cycle 10 and at the end.
# Afterwards: every Chromium process of the profile belongs to the current
# browser (none leaked from an earlier one), link has no zombie child, and
# its descriptors and threads are back at their level after cycle 10. Then
# `stop` ends it cleanly.
#
# Env: SOAK_CYCLES (100); SOAK_LOG=FILE appends "cycle rss_kb fds threads"
# after each cycle (bench/soak_bench.sh reads it).
CTL=$1 HELPER=$2 SERVE=$3 FIXTURES=$4
FIXTURE_LIFETIME=3600
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/owner_lib.sh"
export LATCHKEY_HOME=$WORK/home
CYCLES=${SOAK_CYCLES:-100}
URL="$BASE?rotate_ms=600000"
S="$WORK/bot/.wwebjs_auth/session-soak"

link_bg "$S" link --site-url "$URL" --timeout 3600
check "link shows a QR code" wait_for 90 link_shows_qr link
check "status reads the page" wait_for 60 page_is "$S" qr

# The page makes a new QR code at every load (no seed), and link prints
# each new one: a heal shows as one more QR line in its output.
qr_lines() { grep -c '"state":"qr"' "$WORK/link.out"; }
more_qr() { [ "$(qr_lines)" -gt "$1" ]; }
gone_all() { local p; for p in "$@"; do kill -0 "$p" 2>/dev/null && return 1; done; return 0; }
# soak_cycle N: kills the renderer (odd N) or the browser (even N), waits
# for the heal: the killed processes gone, the page's QR code back (and
# after a browser kill, a new browser on the profile). Fails when it does
# not come.
soak_cycle() {
    local rs b q
    q=$(qr_lines)
    if [ $(($1 % 2)) -eq 1 ]; then
        rs=$(renderers_of "$S" | tr '\n' ' ')
        [ -n "$rs" ] || { echo "cycle $1: no renderer" >&2; return 1; }
        # shellcheck disable=SC2086
        kill -9 $rs
        # shellcheck disable=SC2086
        wait_for 180 gone_all $rs && wait_for 180 more_qr "$q"
    else
        b=$(browser_of "$S")
        [ -n "$b" ] || { echo "cycle $1: no browser" >&2; return 1; }
        kill -9 "$b"
        wait_for 180 more_qr "$q" && wait_for 60 has_new_browser "$b"
    fi
}
has_new_browser() { local b; b=$(browser_of "$S") && [ "$b" != "$1" ]; }

healed=0
for n in $(seq 1 "$CYCLES"); do
    if ! soak_cycle "$n"; then
        bad "cycle $n healed ($( [ $((n % 2)) -eq 1 ] && echo renderer || echo browser) killed)"
        break
    fi
    healed=$n
    if [ "$n" -eq 10 ]; then
        FD10=$(fd_count "$LP") TH10=$(thread_count "$LP")
        check "after 10 cycles status reads the page's QR code" wait_for 60 page_is "$S" qr
    fi
    [ -z "${SOAK_LOG:-}" ] || echo "$n $(rss_kb "$LP") $(fd_count "$LP") $(thread_count "$LP")" >>"$SOAK_LOG"
done
check "all $CYCLES crash-and-heal cycles healed (got $healed)" test "$healed" -eq "$CYCLES"
check "link still runs" kill -0 "$LP"
check "status reads the page's QR code after the soak" wait_for 60 page_is "$S" qr
check "no Chromium process is left from an earlier browser" wait_for 60 one_generation "$S"
check "link has no zombie child" test "$(zombies_of "$LP")" -eq 0
fds_back() { [ "$(fd_count "$LP")" -le "$FD10" ]; }
threads_back() { [ "$(thread_count "$LP")" -le "$TH10" ]; }
check "link's descriptors are back at their level after cycle 10 (${FD10:-?}; now $(fd_count "$LP"))" \
    wait_for 60 fds_back
check "link's threads are back at their level after cycle 10 (${TH10:-?}; now $(thread_count "$LP"))" \
    wait_for 60 threads_back
"$CTL" stop "$S" >"$WORK/stop.out" 2>&1
check "stop exits 0 after the soak" test $? -eq 0
check "link stands down (exit 4)" exit_is "$LP" 4
check "no Chromium is left on the folder" no_chromium_on "$S"
[ "$failed" -eq 0 ] || { echo "--- link"; tail -5 "$WORK/link.err"; }
finish
