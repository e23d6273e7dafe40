#!/usr/bin/env bash
# A live headless Chromium on the profile and a second one on another profile:
# cleanup ends the first browser's whole tree and removes its folder; the
# second browser keeps running.
CTL=$1 HELPER=$2
. "$(dirname "$0")/lib.sh"

CHROMIUM=${LATCHKEY_CHROMIUM:-$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)}
if [ -z "$CHROMIUM" ]; then
    bad "no Chromium found (installer/deps/debian.sh test installs it)"
    finish; exit 1
fi

start_chromium() { # start_chromium PROFILE -> browser pid (from DevToolsActivePort's owner)
    local dir=$1 i
    mkdir -p "$dir"
    "$CHROMIUM" --headless=new --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --no-first-run --remote-debugging-port=0 \
        --user-data-dir="$dir" about:blank >/dev/null 2>&1 &
    track "$!"
    for i in $(seq 1 1500); do
        if [ -s "$dir/DevToolsActivePort" ] && [ -L "$dir/SingletonLock" ]; then
            readlink "$dir/SingletonLock" | sed 's/.*-//'
            return 0
        fi
        sleep 0.02
    done
    echo "Chromium did not start on $dir" >&2
    return 1
}

A="$WORK/bots/.wwebjs_auth/session-a"
B="$WORK/bots/.wwebjs_auth/session-b"
pa=$(start_chromium "$A") || { bad "chromium A started"; finish; exit 1; }
pb=$(start_chromium "$B") || { bad "chromium B started"; finish; exit 1; }
check "browser A is running" alive "$pa"
check "browser B is running" alive "$pb"
tree_a() { pgrep -f -- "--user-data-dir=$A" | sort; }
na=$(tree_a | wc -l)
check "browser A has a process tree" test "$na" -ge 2

"$CTL" holders "$A" --json > "$WORK/h.json"
check "holders: browser A is chromium-browser" test \
    "$(jq -r --argjson p "$pa" '.holders[] | select(.pid == $p) | .kind' "$WORK/h.json")" = chromium-browser
check "holders: A's other processes are chromium-child" test \
    "$(jq '[.holders[] | select(.kind == "chromium-child")] | length' "$WORK/h.json")" -ge 1
check "holders: every process of A's tree is listed" test \
    "$(jq -r '.holders[] | select(.kind | startswith("chromium")) | .pid' "$WORK/h.json" | sort | comm -23 <(tree_a) - | wc -l)" = 0
check "holders: browser B is not a holder of A" test \
    "$(jq --argjson p "$pb" '[.holders[] | select(.pid == $p)] | length' "$WORK/h.json")" = 0
check "holders: A's SingletonLock is live" test \
    "$(jq -r '.locks[0] | "\(.owner_pid) \(.stale)"' "$WORK/h.json")" = "$pa false"
check "holders: A's Cookies or profile files are held" test \
    "$(jq '[.holders[] | select(.pid == '"$pa"') | .held[]] | length' "$WORK/h.json")" -ge 1

"$CTL" cleanup "$A" --json > "$WORK/c.json"
rc=$?
check "cleanup exits 0" test $rc -eq 0
check "cleanup result removed" test "$(jq -r .result "$WORK/c.json")" = removed
check "profile A is gone" test ! -e "$A"
check "browser A was ended" gone "$pa"
check "no process of A's tree survives" test -z "$(tree_a)"
check "browser A was killed gracefully" test \
    "$(jq -r --argjson p "$pa" '.killed[] | select(.pid == $p) | .how' "$WORK/c.json")" = graceful
check "browser B is still running" alive "$pb"
check "profile B is intact" test -s "$B/DevToolsActivePort"
"$CTL" holders "$B" --json | jq -e --argjson p "$pb" '[.holders[] | select(.pid == $p and .kind == "chromium-browser")] | length == 1' >/dev/null
check "B is still seen as running its profile" test $? -eq 0
finish
