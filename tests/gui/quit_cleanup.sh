#!/usr/bin/env bash
# Quitting leaves nothing of the app behind: every Chromium the app started
# ends, and the session folders are free (no process holds them).
#  1. Two sessions started through --show-qr; `latchkey --quit` returns only
#     once they have stopped, the app exits 0, no Chromium of this test's
#     folders is left, and latchkeyctl finds no holders on either folder.
#  2. The same with SIGTERM to the app instead of --quit.
#  3. The same with SIGINT (Ctrl-C in the terminal that started it).
. "$(dirname "$0")/lib.sh"

S=$WORK/s
mkdir -p "$S"
export LATCHKEY_SITE_URL="$BASE?seed=$((RANDOM % 9000 + 1000))&rotate_ms=60000"

bus_has_app() {
    dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus.ListNames 2>/dev/null | grep -q '"app.latchkey.Latchkey"'
}
has_browser() { browser_of "$1" >/dev/null; }
profile_procs() { pgrep -f -- "--user-data-dir=$1" || true; }
no_holders() { # PATH: latchkeyctl sees nothing holding it
    local h
    h=$("$CTL" holders "$1" --json 2>/dev/null) || return 1
    [ "$(echo "$h" | jq '.holders | length')" = 0 ]
}
no_lock() { # PATH: Chromium closed cleanly, it left no profile lock behind
    [ "$("$CTL" holders "$1" --json 2>/dev/null | jq '.locks | length')" = 0 ]
}
exited() { ! kill -0 "$1" 2>/dev/null; }

# start_app NAME: the primary, in the background; sets APP_PID.
start_app() {
    "$APP" --hidden >"$WORK/app-$1.log" 2>&1 &
    APP_PID=$!
    track "$APP_PID"
    check "$1: the app is up" wait_for 30 bus_has_app
}
# start_sessions NAME FOLDER...: --show-qr each; their browsers run.
start_sessions() {
    local name=$1 f
    shift
    for f in "$@"; do
        timeout 60 "$APP" --show-qr "$f" >/dev/null 2>>"$WORK/client.err"
        check "$name: --show-qr $(basename "$f") hands over" test $? = 0
    done
    for f in "$@"; do
        check "$name: the browser of $(basename "$f") runs" wait_for 60 has_browser "$f"
    done
}
# ended NAME HOW FOLDER...: the app is gone and left nothing behind.
ended() {
    local name=$1 how=$2 rc f
    shift 2
    check "$name: the app exits after $how" wait_for 60 exited "$APP_PID"
    wait "$APP_PID" 2>/dev/null
    rc=$?
    check "$name: with status 0 (got $rc)" test "$rc" = 0
    for f in "$@"; do
        check "$name: no process of $(basename "$f")'s profile is left" test -z "$(profile_procs "$f")"
        check "$name: latchkeyctl finds no holders in $(basename "$f")" no_holders "$f"
        check "$name: the browser closed cleanly: no profile lock left in $(basename "$f")" \
            no_lock "$f"
    done
    check "$name: no Chromium of this test's folders is left" test -z "$(our_chromium)"
    check "$name: the name is free on the bus" wait_for 10 sh -c "! dbus-send --session --print-reply \
        --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.ListNames | grep -q latchkey"
    if [ "$failed" -gt 0 ]; then
        echo "--- app log ($name)"
        tail -30 "$WORK/app-$name.log"
    fi
}

# --- 1. --quit --------------------------------------------------------------------
start_app quit
start_sessions quit "$S/session-a" "$S/session-b"
shot quit-before >/dev/null
timeout 90 "$APP" --quit >"$WORK/quit.out" 2>&1
rc=$?
check "quit: latchkey --quit exits 0 (got $rc: $(head -c 200 "$WORK/quit.out"))" test "$rc" = 0
# --quit answers once the sessions have stopped: nothing to wait for now.
check "quit: when --quit returns, session-a's browser has already ended" \
    test -z "$(profile_procs "$S/session-a")"
check "quit: and session-b's" test -z "$(profile_procs "$S/session-b")"
ended quit "--quit" "$S/session-a" "$S/session-b"

# --- 2. SIGTERM -------------------------------------------------------------------
start_app sigterm
start_sessions sigterm "$S/session-c"
kill -TERM "$APP_PID"
ended sigterm SIGTERM "$S/session-c"

# --- 3. SIGINT --------------------------------------------------------------------
start_app sigint
start_sessions sigint "$S/session-d"
kill -INT "$APP_PID"
ended sigint SIGINT "$S/session-d"

echo "screenshots: $SHOTS"
finish
