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

# A Chromium that rewrote its command line as one string (setproctitle), with
# spaces in its profile path and in another flag's value.
J="$WORK/with space/session-j"
mkdir -p "$J"; make_profile "$J"
hj=$(start_helper --enable-crash-reporter=",built on Debian 12" --user-data-dir="$J" --type=renderer --join-cmdline)
check "joined command line: the helper really has one NUL" \
    test "$(tr -cd '\0' < /proc/"$hj"/cmdline | wc -c)" -eq 1
"$CTL" holders "$J" --json > "$WORK/joined.json"
check "joined command line: recognised as a child of this profile's Chromium" test \
    "$(jq -r --argjson p "$hj" '.holders[] | select(.pid == $p) | .kind' "$WORK/joined.json")" = chromium-child
kill "$hj"; gone "$hj"

# Seen from an unprivileged user: what it cannot look into is reported as
# uninspectable, never dropped; another user's Chromium is listed but spared.
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
    U="$WORK/pub/session-u"
    mkdir -p "$U"; make_profile "$U"
    chmod 755 "$WORK" "$WORK/pub"; chmod -R a+rX "$U"
    cp "$CTL" "$WORK/ctl"; chmod 755 "$WORK/ctl"
    hu=$(start_helper --open "$U/Default/Cookies")
    hc=$(start_chrome --user-data-dir="$U")
    as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
    as_nobody "$WORK/ctl" holders "$U" --json > "$WORK/nobody.json" 2>"$WORK/nobody.err"
    check "unprivileged holders exits 0" test $? -eq 0
    check "root's helper is listed as uninspectable with the reason" test \
        "$(jq -r --argjson p "$hu" '.uninspectable[] | select(.pid == $p) | .reason' "$WORK/nobody.json")" = \
        "permission denied (run as root to see it)"
    check "root's Chromium of this profile is listed" test \
        "$(jq -r --argjson p "$hc" '.holders[] | select(.pid == $p) | "\(.kind) \(.killable)"' "$WORK/nobody.json")" = \
        "chromium-browser false"
    check "and spared because it belongs to root" \
        jq -e --argjson p "$hc" '.holders[] | select(.pid == $p) | .why_not | test("user root")' "$WORK/nobody.json"
    as_nobody "$WORK/ctl" holders "$U" > "$WORK/nobody.txt"
    check "human output says processes could not be inspected" grep -q "could not be inspected" "$WORK/nobody.txt"
    as_nobody "$WORK/ctl" cleanup "$U" --json --timeout 3 > "$WORK/nobody-clean.json"
    check "unprivileged cleanup leaves root's processes alone" test \
        "$(jq --argjson p "$hc" '[.spared[] | select(.pid == $p)] | length' "$WORK/nobody-clean.json")" = 1
    check "root's Chromium still runs" alive "$hc"
    check "root's holder still runs" alive "$hu"
else
    bad "the unprivileged-view test needs root and the user nobody (CI runs as root)"
fi

# A process that exits while the scan reads it is reported as not inspected,
# never dropped in silence. Short-lived processes, started without a pause,
# make sure some exit between the listing of /proc and their turn.
( while :; do /bin/true; done ) >/dev/null 2>&1 &
churn=$!
track "$churn"
seen=0
for i in $(seq 1 50); do
    if "$CTL" holders "$S" --json |
        jq -e '[.uninspectable[] | select(.reason == "exited during the scan")] | length > 0' >/dev/null; then
        seen=1
        break
    fi
done
kill "$churn" 2>/dev/null
wait "$churn" 2>/dev/null
check "a process that exited during the scan is listed as uninspectable ($i scans)" test "$seen" -eq 1
finish
