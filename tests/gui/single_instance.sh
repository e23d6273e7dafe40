#!/usr/bin/env bash
# One latchkey per user session: a second `latchkey ...` hands its command
# line to the running one and exits, with paths taken relative to ITS folder.
#  1. Bad input, with and without a running instance: a clear message on
#     stderr and exit status 2; the same message in Indonesian.
#  2. `latchkey --hidden` starts the primary; `latchkey --show-qr session-new`
#     from another folder exits 0, no second latchkey keeps running, and the
#     primary opens the QR window of <that folder>/session-new and runs its
#     session (real Chromium, the fixture page).
#  3. --quit ends the primary and the browser it started.
. "$(dirname "$0")/lib.sh"

S=$WORK/s
CALLER=$WORK/caller
mkdir -p "$S" "$CALLER" "$WORK/elsewhere"
echo not-a-folder >"$S/file"
export LATCHKEY_SITE_URL="$BASE?seed=$((RANDOM % 9000 + 1000))&rotate_ms=60000"

bus_has_app() {
    dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus.ListNames 2>/dev/null | grep -q '"app.latchkey.Latchkey"'
}
no_app() { ! bus_has_app; }
has_browser() { browser_of "$1" >/dev/null; }
# The latchkey processes running now (this build's executable).
instances() {
    local p n=0
    for p in $(pgrep -x latchkey || true); do
        # This test's instances only: other tests may run latchkey meanwhile.
        [ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$(readlink -f "$APP")" ] &&
            tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null | grep -qx "LATCHKEY_HOME=$LATCHKEY_HOME" &&
            n=$((n + 1))
    done
    echo "$n"
}
# run_bad NAME WANT-IN-STDERR ARGS...: exit status 2 and the message on stderr.
run_bad() {
    local name=$1 want=$2 rc
    shift 2
    (cd "$CALLER" && timeout 30 "$APP" "$@") >"$WORK/out" 2>"$WORK/err"
    rc=$?
    check "$name: exit 2 (got $rc)" test "$rc" = 2
    check "$name: stderr says '$want'" grep -qF -- "$want" "$WORK/err"
    check "$name: nothing on stdout" test ! -s "$WORK/out"
}

# --- 1. bad input, nothing running --------------------------------------------
run_bad "--show-qr without a folder" "--show-qr needs a session folder" --show-qr
run_bad "--doctor without a folder" "--doctor needs a session folder" --doctor
run_bad "--show-qr followed by an option" "--show-qr needs a session folder" --show-qr --hidden
run_bad "--show-qr on a file" "is a file, not a session folder" --show-qr "$S/file"
run_bad "--doctor on a file (relative)" "is a file, not a session folder" --doctor ../s/file
run_bad "an unknown option" "unknown option --frobnicate" --frobnicate
run_bad "a stray argument" "unexpected argument" "$S"
run_bad "--quit with another option" "--quit cannot be combined" --quit --show-qr "$S"
LANGUAGE=id LANG=C.UTF-8 LC_ALL= "$APP" --show-qr "$S/file" >/dev/null 2>"$WORK/err.id"
check "Indonesian: the message is translated ($(head -1 "$WORK/err.id"))" \
    grep -q "adalah berkas, bukan folder sesi" "$WORK/err.id"
check "bad input started no instance" test "$(instances)" = 0
check "bad input did not take the name on the bus" no_app
out=$("$APP" --version)
rc=$?
check "--version exits 0 and prints the version ($out)" \
    test "$rc" = 0 -a -n "$(echo "$out" | grep -E '^latchkey [0-9]+\.[0-9]+\.[0-9]+$')"
out=$("$APP" --quit 2>&1)
rc=$?
check "--quit with nothing running exits 0 and says so ($out)" test "$rc" = 0 -a -n "$out"
check "--quit with nothing running started nothing" test "$(instances)" = 0

# --- 2. the primary, and a second latchkey that hands over ---------------------
# Its settings file is broken: the app starts with the defaults and keeps the
# file aside rather than overwrite it later.
mkdir -p "$LATCHKEY_HOME"
printf '{"roots": ["/x",' >"$LATCHKEY_HOME/settings.json"
(cd "$WORK/elsewhere" && exec "$APP" --hidden) >"$WORK/app.log" 2>&1 &
APP_PID=$!
track "$APP_PID"
check "the primary owns app.latchkey.Latchkey on the session bus" wait_for 30 bus_has_app
check "the primary keeps running (--hidden: tray only)" alive "$APP_PID"
check "--hidden opens no window" \
    test -z "$(xdotool search --onlyvisible --pid "$APP_PID" --name . 2>/dev/null)"
kept_aside() { [ "$(cat "$LATCHKEY_HOME/settings.json.broken" 2>/dev/null)" = '{"roots": ["/x",' ]; }
# The name is taken before the first command runs, which loads the settings.
check "the broken settings file is kept aside as settings.json.broken" wait_for 20 kept_aside
check "and the app says so" wait_for 10 grep -q "settings file .* could not be read" "$WORK/app.log"

run_bad "with an instance: --show-qr on a file" "is a file, not a session folder" \
    --show-qr ../s/file
run_bad "with an instance: an unknown option" "unknown option --nope" --nope
check "the primary survived bad input" alive "$APP_PID"

start=$SECONDS
(cd "$S" && timeout 60 "$APP" --show-qr session-new) >"$WORK/client.out" 2>"$WORK/client.err"
rc=$?
check "the second latchkey --show-qr exits 0 (got $rc: $(head -c 300 "$WORK/client.err"))" test "$rc" = 0
check "and it did so without waiting for the session ($((SECONDS - start)) s)" \
    test $((SECONDS - start)) -lt 20
check "only one latchkey runs" test "$(instances)" = 1
check "the relative folder was taken from the caller's folder" test -d "$S/session-new"
check "nothing was made next to the primary" test ! -e "$WORK/elsewhere/session-new"
WIN=$(window_of "session-new — " 60)
check "the QR window of session-new opens" test -n "$WIN"
if [ -n "$WIN" ]; then
    check "it belongs to the primary" test "$(xdotool getwindowpid "$WIN" 2>/dev/null)" = "$APP_PID"
    check "its title names the session ($(xdotool getwindowname "$WIN"))" \
        sh -c "xdotool getwindowname '$WIN' | grep -q '^session-new — '"
fi
shot window >/dev/null
check "the primary runs the session's browser" wait_for 60 has_browser "$S/session-new"

(cd "$S" && timeout 60 "$APP" --show-qr ./session-new/) >>"$WORK/client.out" 2>>"$WORK/client.err"
check "a second --show-qr on the same folder also exits 0" test $? = 0
sleep 1
check "still one QR window for it" \
    test "$(xdotool search --onlyvisible --name "session-new — " 2>/dev/null | wc -l)" = 1
check "still one latchkey" test "$(instances)" = 1

# --- 3. quit ----------------------------------------------------------------
timeout 90 "$APP" --quit >/dev/null 2>&1
check "--quit exits 0" test $? = 0
check "the primary is gone" wait_for 30 sh -c "! kill -0 $APP_PID 2>/dev/null"
wait "$APP_PID" 2>/dev/null
check "the primary exited with status 0" test $? = 0
check "no Chromium of this test's folders is left" test -z "$(our_chromium)"
check "the name is free again" no_app
if [ "$failed" -gt 0 ]; then
    echo "--- app log"
    tail -50 "$WORK/app.log"
fi
echo "screenshots: $SHOTS"
finish
