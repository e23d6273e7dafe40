#!/usr/bin/env bash
# latchkeyctl holders against real processes holding real files.
CTL=$1 HELPER=$2
. "$(dirname "$0")/lib.sh"

S="$WORK/sessions/session-1"
D="$WORK/sessions/session-10"
make_profile "$S"
make_profile "$D"
mkdir -p "$S/Default/Cache"

h=$(start_helper --open "$S/Default/Cookies" --cwd "$S/Default/Cache" --map "$S/Default/History")
decoy=$(start_helper --open "$D/Default/Cookies" --cwd "$D")
out="$WORK/holders.json"
"$CTL" holders "$S" --json > "$out"
check "holders exits 0 when the scan ran" test $? -eq 0
check "output is JSON with the folder" test "$(jq -r .path "$out")" = "$S"
how() { jq -r --argjson p "$1" --arg f "$2" \
    '.holders[] | select(.pid == $p) | .held[] | select(.path == $f) | .how' "$out"; }
check "open file found as file" test "$(how "$h" "$S/Default/Cookies")" = file
check "cwd found as cwd" test "$(how "$h" "$S/Default/Cache")" = cwd
check "mapped file found as mapping" test "$(how "$h" "$S/Default/History")" = mapping
check "helper classified as other and killable" test \
    "$(jq -r --argjson p "$h" '.holders[] | select(.pid == $p) | "\(.kind) \(.killable) \(.ppid > 0) \(.start_time != null) \(.user)"' "$out")" = "other true true true $(id -un)"
check "decoy on session-10 is not a holder of session-1" test \
    "$(jq --argjson p "$decoy" '[.holders[] | select(.pid == $p)] | length' "$out")" = 0
check "no path outside session-1 reported" test \
    "$(jq --arg s "$S" '[.holders[].held[].path | select(. != $s and (startswith($s + "/") | not))] | length' "$out")" = 0
check "uninspectable and locks are arrays" test \
    "$(jq -r '"\(.uninspectable | type) \(.locks | type)"' "$out")" = "array array"
"$CTL" holders "$D" --json | jq -e --argjson p "$decoy" '[.holders[] | select(.pid == $p)] | length == 1' >/dev/null
check "decoy is found for its own folder" test $? -eq 0

# The folder reached through a symlink is the same folder.
ln -s "$S" "$WORK/link-to-session"
"$CTL" holders "$WORK/link-to-session" --json | jq -e --argjson p "$h" '[.holders[] | select(.pid == $p)] | length == 1' >/dev/null
check "holders through a symlinked path" test $? -eq 0

# A stale SingletonLock (a dead pid on this host) and a live one.
ln -s "$(hostname)-999999" "$D/SingletonLock"
"$CTL" holders "$D" --json > "$out"
check "stale SingletonLock reported as stale" test \
    "$(jq -r '.locks[0] | "\(.owner_pid) \(.stale)"' "$out")" = "999999 true"
rm "$D/SingletonLock"; ln -s "$(hostname)-$decoy" "$D/SingletonLock"
check "lock owned by a live non-Chromium is stale too" test \
    "$("$CTL" holders "$D" --json | jq -r '.locks[0].stale')" = true

# Bad input: exit 2, message on stderr.
"$CTL" holders "$WORK/nope" 2>"$WORK/err"; rc=$?
check "missing folder exits 2" test $rc -eq 2
check "missing folder says so" grep -q "does not exist" "$WORK/err"
"$CTL" holders "$S/Local State" 2>/dev/null
check "a file is not a folder: exit 2" test $? -eq 2
"$CTL" holders 2>/dev/null
check "no path: exit 2" test $? -eq 2
"$CTL" holders "$S" --bogus 2>/dev/null
check "unknown option: exit 2" test $? -eq 2

# Human output names the holder and how.
"$CTL" holders "$S" > "$WORK/human"
check "human output lists the helper pid" grep -q "pid $h" "$WORK/human"
check "human output shows how" grep -q "mapping" "$WORK/human"
check "helper still alive after holders (read-only command)" alive "$h"
finish
