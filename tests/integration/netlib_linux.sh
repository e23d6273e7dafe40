#!/usr/bin/env bash
# latchkeyctl binds libwebsockets and libcurl on first use: holders and
# cleanup run without loading them, the browser commands load them.
CTL=$1 HELPER=$2
. "$(dirname "$0")/lib.sh"

loaded() { # loaded LOG NAME: the dynamic loader ran NAME's initialiser
    grep -q "calling init: .*/$2" "$1"
}

S="$WORK/sessions/session-1"
make_profile "$S"

readelf -d "$CTL" > "$WORK/dynamic"
check "latchkeyctl does not link libwebsockets" bash -c "! grep -q 'NEEDED.*libwebsockets' '$WORK/dynamic'"
check "latchkeyctl does not link libcurl" bash -c "! grep -q 'NEEDED.*libcurl' '$WORK/dynamic'"

h=$(start_helper --open "$S/Default/Cookies")
LD_DEBUG=libs "$CTL" holders "$S" --json > "$WORK/holders.json" 2> "$WORK/holders.ld"
check "holders exits 0" test $? -eq 0
check "holders still finds the holder" test \
    "$(jq --argjson p "$h" '[.holders[] | select(.pid == $p)] | length' "$WORK/holders.json")" = 1
check "holders loads no libwebsockets" bash -c "! grep -q 'calling init: .*/libwebsockets' '$WORK/holders.ld'"
check "holders loads no libcurl" bash -c "! grep -q 'calling init: .*/libcurl' '$WORK/holders.ld'"

LD_DEBUG=libs "$CTL" cleanup "$S" --json > "$WORK/cleanup.json" 2> "$WORK/cleanup.ld"
check "cleanup exits 0 and removes the folder" test $? -eq 0 -a ! -e "$S"
check "cleanup loads no libwebsockets" bash -c "! grep -q 'calling init: .*/libwebsockets' '$WORK/cleanup.ld'"

# A browser command binds both. /bin/true stands in for a browser that
# exits at once: the DevTools client is up before the launch fails.
make_profile "$S"
LD_DEBUG=libs "$CTL" qr "$S" --chromium /bin/true --timeout 5 --json > "$WORK/qr.json" 2> "$WORK/qr.ld"
check "qr on a browser that exits fails with exit 1" test $? -eq 1
check "qr loads libwebsockets" loaded "$WORK/qr.ld" libwebsockets.so
check "qr loads libcurl" loaded "$WORK/qr.ld" libcurl.so
check "qr says the browser exited" grep -q 'exited' "$WORK/qr.json"

finish
