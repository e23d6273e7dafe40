#!/usr/bin/env bash
# latchkeyctl cleanup: ends exactly the holders, removes exactly the folder.
CTL=$1 HELPER=$2
. "$(dirname "$0")/lib.sh"

R="$WORK/sessions"
S="$R/session-1"
D="$R/session-10"
OUT="$WORK/outside"
make_profile "$S"
make_profile "$D"
mkdir -p "$OUT/keep"
echo precious > "$OUT/keep/file"

# A symlink inside the session to a folder outside it, read-only files and
# folders, and a tree of 2,000 files.
ln -s "$OUT/keep" "$S/Default/link-out"
ln -s "$OUT/keep/file" "$S/file-link"
mkdir -p "$S/ro"; echo x > "$S/ro/a"; chmod 0444 "$S/ro/a"; chmod 0555 "$S/ro"
for d in $(seq 1 20); do
    mkdir -p "$S/Default/Cache/d$d"
    for f in $(seq 1 100); do : > "$S/Default/Cache/d$d/f$f"; done
done
check "tree has 2,000+ files" test "$(find "$S" -type f | wc -l)" -ge 2000

h1=$(start_helper --open "$S/Default/Cookies" --map "$S/Default/History")
h2=$(start_helper --cwd "$S/Default" --open "$S/Default/Preferences" --ignore-term)
# Its current folder is all it has inside: on Linux that blocks nothing.
h3=$(start_helper --cwd "$S/Default/Cache")
decoy=$(start_helper --open "$D/Default/Cookies" --cwd "$D")

# Dry run first: the plan, and nothing touched.
"$CTL" cleanup "$S" --dry-run --json > "$WORK/plan.json"
check "dry run exits 0" test $? -eq 0
check "dry run result is planned" test "$(jq -r .result "$WORK/plan.json")" = planned
check "dry run plans both holders" test \
    "$(jq --argjson a "$h1" --argjson b "$h2" '[.holders[] | select((.pid == $a or .pid == $b) and .killable)] | length' "$WORK/plan.json")" = 2
check "dry run says what deleting loses" \
    jq -e '.loses.files >= 2000 and .loses.bytes > 0' "$WORK/plan.json"
"$CTL" cleanup "$S" --dry-run | grep -q "loses the login: [0-9]* files"
check "dry run says so in words too" test $? -eq 0
check "dry run ended nobody" alive "$h1"
check "dry run deleted nothing" test -f "$S/Default/Cookies"

"$CTL" cleanup "$S" --json --timeout 10 > "$WORK/clean.json"
rc=$?
check "cleanup exits 0" test $rc -eq 0
check "result is removed" test "$(jq -r .result "$WORK/clean.json")" = removed
check "session folder is gone" test ! -e "$S"
check "holder 1 ended" gone "$h1"
check "holder 2 (ignores SIGTERM) ended" gone "$h2"
check "holder 1 ended gracefully" test \
    "$(jq -r --argjson p "$h1" '.killed[] | select(.pid == $p) | .how' "$WORK/clean.json")" = graceful
check "holder 2 was forced" test \
    "$(jq -r --argjson p "$h2" '.killed[] | select(.pid == $p) | .how' "$WORK/clean.json")" = forced
check "nothing left" test "$(jq '.left | length' "$WORK/clean.json")" = 0
check "decoy on session-10 still running" alive "$decoy"
check "a process whose only link is its current folder is spared" alive "$h3"
check "and listed as spared with the reason" \
    jq -e --argjson p "$h3" '.spared[] | select(.pid == $p) | .why | test("current folder")' "$WORK/clean.json"
check "decoy's folder intact" test -f "$D/Default/Cookies"
check "symlink target outside survived" test "$(cat "$OUT/keep/file")" = precious
check "elapsed_ms reported" test "$(jq '.elapsed_ms >= 0' "$WORK/clean.json")" = true

# Idempotent: cleaning what is gone succeeds and says so.
"$CTL" cleanup "$S" --json > "$WORK/again.json"
check "second cleanup exits 0" test $? -eq 0
check "second cleanup says already_clean" test "$(jq -r .result "$WORK/again.json")" = already_clean
"$CTL" cleanup "$S" | grep -q "already clean"
check "human output says already clean" test $? -eq 0

# Guard rails: exit 2, nothing touched.
refused() { # refused PATH [options...]
    local before after
    before=$(ls -A "$1" 2>/dev/null | md5sum)
    "$CTL" cleanup "$@" --json > "$WORK/refused.json" 2> "$WORK/refused.err"
    local rc=$?
    after=$(ls -A "$1" 2>/dev/null | md5sum)
    [ $rc -eq 2 ] && [ "$before" = "$after" ] && [ -s "$WORK/refused.err" ] &&
        [ "$(jq -r .result "$WORK/refused.json")" = refused ]
}
check "refuses /" refused /
check "refuses / even with --any-folder" refused / --any-folder
check "refuses \$HOME" refused "$HOME" --any-folder
mkdir -p "$WORK/home"; make_profile "$WORK/home"
check "refuses a home that looks like a profile" env HOME="$WORK/home" bash -c "$(declare -f refused); CTL='$CTL' WORK='$WORK' refused '$WORK/home'"
check "refuses /usr" refused /usr --any-folder
mkdir -p "$WORK/plain"; echo data > "$WORK/plain/notes.txt"
check "refuses a folder that is not a profile" refused "$WORK/plain"
check "the non-profile folder is intact" test -f "$WORK/plain/notes.txt"
grep -q -- "--any-folder" "$WORK/refused.err"
check "refusal explains --any-folder" test $? -eq 0
ln -s "$D" "$WORK/link-session"
check "refuses a link to a session" refused "$WORK/link-session"
check "the linked session is intact" test -f "$D/Default/Cookies"
"$CTL" cleanup "$WORK/plain" --any-folder --json > "$WORK/any.json"
check "--any-folder cleans a plain folder" test ! -e "$WORK/plain"
"$CTL" cleanup "$WORK/x" --timeout 0 2>/dev/null
check "bad --timeout: exit 2" test $? -eq 2
make_profile "$R/session-reboot"
"$CTL" cleanup "$R/session-reboot" --on-reboot 2> "$WORK/reboot.err"
check "--on-reboot is no longer offered: exit 2" test $? -eq 2
check "and says why" grep -q "no longer offered" "$WORK/reboot.err"
check "and nothing was touched" test -f "$R/session-reboot/Default/Cookies"

# Quarantine: a file that cannot be removed (immutable) keeps the folder; it
# is moved aside so the session name is free, and the report says what is
# left. An older quarantined session in the trash is not touched.
Q="$R/session-q"
make_profile "$Q"
mkdir -p "$R/.latchkey-trash/session-old-1"
echo old > "$R/.latchkey-trash/session-old-1/keep"
echo stuck > "$Q/Default/stuck"
if [ "$(id -u)" -eq 0 ] && chattr +i "$Q/Default/stuck" 2>/dev/null; then
    "$CTL" cleanup "$Q" --json --timeout 3 > "$WORK/q.json"
    rc=$?
    qdir=$(jq -r .quarantine "$WORK/q.json")
    chattr -i "$qdir/Default/stuck" 2>/dev/null
    check "quarantine: exit 1 (something is left)" test $rc -eq 1
    check "quarantine: result quarantined" test "$(jq -r .result "$WORK/q.json")" = quarantined
    check "quarantine: session name is free" test ! -e "$Q"
    check "quarantine: moved under .latchkey-trash" test -d "$qdir" -a "$(dirname "$qdir")" = "$R/.latchkey-trash"
    check "quarantine: the stuck file is reported as left, with why" \
        jq -e '[.left[] | select(test("stuck could not be removed: not permitted"))] | length == 1' "$WORK/q.json"
    check "quarantine: an older quarantined session survives" \
        test "$(cat "$R/.latchkey-trash/session-old-1/keep")" = old
else
    bad "quarantine test needs root and chattr on $WORK (CI runs as root on ext4)"
fi
finish
