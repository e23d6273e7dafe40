#!/usr/bin/env bash
# A session folder whose browser has a hostile DevTools endpoint
# (fake_devtools --forever): one that accepts and never answers (mute), one
# that answers garbage, one that closes in the middle of a message. For each:
#  - qr and link return by themselves within their --timeout (plus the few
#    seconds their own stop takes) with exit 1 and an error that says what
#    failed; status returns with exit 0 and no page; none of them ends the
#    endpoint's process (they did not start it), nor a decoy elsewhere.
#  - stop returns within its --timeout: it ends that folder's browser (its
#    job) and nothing else.
CTL=$1 HELPER=$2 SERVE=$3 FIXTURES=$4 FAKE=$5
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/owner_lib.sh"
export LATCHKEY_HOME=$WORK/home

# The hostile browser is a browser by its executable's name, as the doctor
# tells browsers from bots that merely pass --user-data-dir on.
mkdir -p "$WORK/bin" && cp "$FAKE" "$WORK/bin/chrome"
FAKE=$WORK/bin/chrome
make_profile "$WORK/other"
decoy=$(start_helper --open "$WORK/other/Default/Cookies")
T=10
# bounded CMD...: runs CMD, ended if it is still running long after any
# timeout it was given (exit 124 then: it hung).
bounded() { timeout 120 "$@"; }

for mode in mute garbage midclose; do
    P=$WORK/sessions/session-$mode
    make_profile "$P"
    "$FAKE" --forever "$mode" --user-data-dir="$P" >"$WORK/$mode.port" 2>"$WORK/$mode.fake.err" &
    F=$!
    track "$F"
    check "$mode: the hostile browser serves its port" wait_for 30 test -s "$P/DevToolsActivePort"

    bounded "$CTL" qr "$P" --json --timeout $T >"$WORK/$mode.qr" 2>"$WORK/$mode.qr.err"
    rc=$?
    check "$mode: qr returns by itself with exit 1 (got $rc)" test "$rc" -eq 1
    check "$mode: qr's JSON says what failed: $(jq -r .error "$WORK/$mode.qr" 2>/dev/null)" \
        jqe '.state != "qr" and (.error | test("DevTools"))' "$WORK/$mode.qr"
    bounded "$CTL" link "$P" --timeout $T >"$WORK/$mode.link" 2>"$WORK/$mode.link.err"
    rc=$?
    check "$mode: link returns by itself with exit 1 (got $rc)" test "$rc" -eq 1
    check "$mode: link says what failed: $(tail -1 "$WORK/$mode.link.err")" \
        grep -q "^latchkeyctl: not linked: .*DevTools" "$WORK/$mode.link.err"
    bounded "$CTL" status "$P" --json >"$WORK/$mode.status" 2>&1
    rc=$?
    check "$mode: status returns by itself with exit 0 (got $rc)" test "$rc" -eq 0
    check "$mode: status sees the folder's browser and reads no page" \
        jqe --argjson f "$F" '.profile == "running" and .browser.pid == $f and (.page == null or .page.state != "qr")' \
        "$WORK/$mode.status"
    check "$mode: qr, link and status left the hostile browser running" alive "$F"
    check "$mode: and the decoy" alive "$decoy"

    bounded "$CTL" stop "$P" --timeout $T >"$WORK/$mode.stop" 2>&1
    rc=$?
    check "$mode: stop returns by itself with exit 0 (got $rc: $(head -1 "$WORK/$mode.stop"))" test "$rc" -eq 0
    check "$mode: stop ended the folder's browser" gone "$F"
    check "$mode: nothing runs on the folder any more" no_chromium_on "$P"
    check "$mode: stop spared the decoy" alive "$decoy"
done
finish
