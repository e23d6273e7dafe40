#!/usr/bin/env bash
# Stamina: the tray app keeps one session through 100 crash-and-heal cycles,
# the renderer and the browser killed from outside (SIGKILL) in turn, real
# Chromium on the fixture page. Each cycle waits until the dashboard row
# (read over AT-SPI) shows the heal: a new browser pid, or one more restart,
# and "Waiting for a scan" again. Afterwards: every Chromium process of the
# profile belongs to the current browser, the app has no zombie child, its
# descriptors and threads are back at their level after cycle 10, and it
# still answers and quits leaving nothing behind.
#
# Env: SOAK_CYCLES (100); SOAK_LOG=FILE appends "cycle rss_kb fds threads"
# after each cycle (bench/soak_bench.sh reads it).
. "$(dirname "$0")/lib.sh"
. "$LK_GUI_DIR/../session/owner_lib.sh"

use_atspi
CYCLES=${SOAK_CYCLES:-100}
# One AT-SPI client for the whole run (a11y_dashboard serve, on fds 7 and 8):
# the app's accessibility bridge keeps memory for every client that ever
# connected, and this test measures the app's memory.
a11y_start() {
    mkfifo "$WORK/a11y.in" "$WORK/a11y.out"
    "$PY" -m a11y_dashboard "$APP_PID" serve <"$WORK/a11y.in" >"$WORK/a11y.out" 2>>"$WORK/a11y.err" &
    track "$!"
    exec 7>"$WORK/a11y.in" 8<"$WORK/a11y.out"
}
# a11y COMMAND ARGS...: one question; its answer on stdout, its status returned.
a11y() {
    local line
    (IFS=$'\t'; printf '%s\n' "$*") >&7
    while IFS= read -r -t 120 line <&8; do
        case $line in "END "*) return "${line#END }" ;; esac
        printf '%s\n' "$line"
    done
    return 1
}
cell() { a11y cell "$1" "$2" 2>/dev/null; }
row_is() { [ "$(cell "$1" State)" = "$2" ]; }
dash_up() { a11y rows >/dev/null 2>&1; }
waiting() { row_is soak "Waiting for a scan"; }

S=$LATCHKEY_HOME/sessions/soak
make_profile "$S"
LATCHKEY_SITE_URL="$BASE?rotate_ms=600000" "$APP" >"$WORK/app.log" 2>&1 &
APP_PID=$!
track "$APP_PID"
a11y_start
app_on_bus dash_up
check "the session is listed" wait_for 40 row_is soak "Not running"
a11y select soak && a11y press Start
check "Start runs the session" wait_for 90 waiting

# The row shows the heal: restarts went past R and the page is back; after
# a browser kill, the row's pid is a new one (not B) that runs the profile.
healed_row() {
    local r p
    r=$(cell soak Restarts)
    [ -n "$r" ] && [ "$r" -gt "$1" ] && waiting || return 1
    [ -z "$2" ] && return 0
    p=$(cell soak "Browser PID")
    [ -n "$p" ] && [ "$p" != "$2" ] && [ "$p" = "$(browser_of "$S")" ]
}
soak_cycle() {
    local r rs b
    r=$(cell soak Restarts)
    if [ $(($1 % 2)) -eq 1 ]; then
        rs=$(renderers_of "$S" | tr '\n' ' ')
        [ -n "$rs" ] || { echo "cycle $1: no renderer" >&2; return 1; }
        # shellcheck disable=SC2086
        kill -9 $rs
        wait_for 180 healed_row "${r:-0}" ""
    else
        b=$(browser_of "$S")
        [ -n "$b" ] || { echo "cycle $1: no browser" >&2; return 1; }
        kill -9 "$b"
        wait_for 180 healed_row "${r:-0}" "$b"
    fi
}

healed=0
for n in $(seq 1 "$CYCLES"); do
    if ! soak_cycle "$n"; then
        bad "cycle $n healed ($( [ $((n % 2)) -eq 1 ] && echo renderer || echo browser) killed)"
        break
    fi
    healed=$n
    if [ "$n" -eq 10 ]; then
        FD10=$(fd_count "$APP_PID") TH10=$(thread_count "$APP_PID")
        shot cycle-10 >/dev/null
    fi
    [ -z "${SOAK_LOG:-}" ] ||
        echo "$n $(rss_kb "$APP_PID") $(fd_count "$APP_PID") $(thread_count "$APP_PID")" >>"$SOAK_LOG"
done
shot after >/dev/null
check "all $CYCLES crash-and-heal cycles healed (got $healed)" test "$healed" -eq "$CYCLES"
check "the row counts every restart ($(cell soak Restarts))" test "$(cell soak Restarts)" -ge "$CYCLES"
check "no Chromium process is left from an earlier browser" wait_for 60 one_generation "$S"
check "the app has no zombie child" test "$(zombies_of "$APP_PID")" -eq 0
fds_back() { [ "$(fd_count "$APP_PID")" -le "$FD10" ]; }
threads_back() { [ "$(thread_count "$APP_PID")" -le "$TH10" ]; }
check "the app's descriptors are back at their level after cycle 10 (${FD10:-?}; now $(fd_count "$APP_PID"))" \
    wait_for 60 fds_back
check "the app's threads are back at their level after cycle 10 (${TH10:-?}; now $(thread_count "$APP_PID"))" \
    wait_for 60 threads_back
a11y select soak && a11y press Stop
check "Stop ends the session's browser" wait_for 60 no_chromium_on "$S"
timeout 60 "$APP" --quit >>"$WORK/app.log" 2>&1
# Status 0: under the sanitizers a leak or an error would make it another.
check "latchkey --quit ends the app with status 0" exit_is "$APP_PID" 0
check "no Chromium is left" no_chromium_on "$S"
[ "$failed" -eq 0 ] || { echo "--- app log"; tail -30 "$WORK/app.log"; }
finish
