#!/usr/bin/env bash
# Kill & clean up never hurts anything else: real mounts, real processes,
# real races. Run as root (CI is): bind mounts, tmpfs, mount namespaces and
# other users' homes need it. After each case, every file outside the target
# is intact byte for byte and nothing outside the plan was signalled.
CTL=$1 HELPER=$2
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
    bad "the safety tests need root (mounts, namespaces, other users); CI runs as root"
    finish
    exit 1
fi

# What a tree holds, byte for byte: names, types, modes, sizes, contents.
manifest() {
    (cd "$1" && find . -printf '%p %y %m %s %l\n' | sort && find . -type f -exec sha256sum {} + | sort)
}
intact() { # intact DIR SAVED-MANIFEST
    [ "$(manifest "$1")" = "$(cat "$2")" ]
}
outside_tree() { # outside_tree DIR: a folder of someone's work
    mkdir -p "$1/sub/deeper"
    echo thesis > "$1/thesis.txt"
    head -c 100000 /dev/urandom > "$1/sub/data.bin"
    echo notes > "$1/sub/deeper/notes"
    chmod 0555 "$1/sub/deeper"
}
# A decoy that records every signal it gets: nothing outside the plan is signalled.
decoy() { # decoy FILE-IT-HOLDS LOG
    start_helper --open "$1" --on-term "echo TERM >> '$2'"
}
unsignalled() { [ ! -s "$1" ]; }

R="$WORK/r"
mkdir -p "$R"

# --- 1. bind mounts inside the session and as the session itself ------------
OUTB="$WORK/work"
outside_tree "$OUTB"
manifest "$OUTB" > "$WORK/outb.manifest"
S1="$R/session-bind"
make_profile "$S1"
mkdir -p "$S1/Default/mnt" "$S1/a/b/c/mnt"
mount --bind "$OUTB" "$S1/Default/mnt" && mounts+=("$S1/Default/mnt")
mount --bind "$OUTB" "$S1/a/b/c/mnt" && mounts+=("$S1/a/b/c/mnt")
d1=$(decoy "$OUTB/thesis.txt" "$WORK/d1.log")
"$CTL" cleanup "$S1" --json --timeout 5 > "$WORK/bind.json"
rc=$?
check "bind mounts inside: exit 1 (something is left, and says why)" test $rc -eq 1
check "bind mounts inside: the outside folder is intact byte for byte" intact "$OUTB" "$WORK/outb.manifest"
check "bind mounts inside: both mount points named with the reason" test \
    "$(jq '[.left[] | select(test("mnt could not be removed: a mount point: unmount it first"))] | length' "$WORK/bind.json")" = 2
check "bind mounts inside: not moved aside (the mounts stay where they are)" \
    test "$(jq -r '"\(.result) \(.quarantine)"' "$WORK/bind.json")" = "partial null"
check "bind mounts inside: the rest of the session is removed" test ! -e "$S1/Default/Cookies" -a ! -e "$S1/Local State"
check "bind mounts inside: the JSON is valid" jq -e . "$WORK/bind.json" >/dev/null
check "bind mounts inside: the decoy holding a file outside was not signalled" unsignalled "$WORK/d1.log"
check "bind mounts inside: the decoy still runs" alive "$d1"
umount "$S1/Default/mnt" "$S1/a/b/c/mnt"

S2="$R/session-is-a-mount"
mkdir -p "$S2"
mount --bind "$OUTB" "$S2" && mounts+=("$S2")
"$CTL" cleanup "$S2" --json --any-folder > "$WORK/bindtop.json" 2> "$WORK/bindtop.err"
check "a session that is itself a bind mount: refused (exit 2)" test $? -eq 2
check "and the refusal says it is a mount point" grep -q "mount point" "$WORK/bindtop.err"
check "and the mounted folder is intact" intact "$OUTB" "$WORK/outb.manifest"
"$CTL" unlock "$S2" --any-folder > /dev/null 2>&1
check "unlock refuses it too (exit 2)" test $? -eq 2
umount "$S2"

S3="$R/session-tmpfs"
make_profile "$S3"
mkdir -p "$S3/Default/cache"
mount -t tmpfs tmpfs "$S3/Default/cache" && mounts+=("$S3/Default/cache")
echo inside > "$S3/Default/cache/file"
"$CTL" cleanup "$S3" --json --timeout 5 > "$WORK/tmpfs.json"
check "a tmpfs inside: exit 1" test $? -eq 1
check "a tmpfs inside: what is mounted there is not emptied" test "$(cat "$S3/Default/cache/file")" = inside
check "a tmpfs inside: named as a mount point" \
    jq -e '[.left[] | select(test("cache could not be removed: a mount point"))] | length == 1' "$WORK/tmpfs.json"
umount "$S3/Default/cache"

# With statx's mount ids unavailable (kernels before 5.8) the mount table decides.
S4="$R/session-bind-mountinfo"
make_profile "$S4"
mkdir -p "$S4/Default/mnt"
mount --bind "$OUTB" "$S4/Default/mnt" && mounts+=("$S4/Default/mnt")
LATCHKEY_FORCE_MOUNTINFO=1 "$CTL" cleanup "$S4" --json --timeout 5 > "$WORK/mi.json"
check "mount table fallback: exit 1" test $? -eq 1
check "mount table fallback: the outside folder is intact" intact "$OUTB" "$WORK/outb.manifest"
umount "$S4/Default/mnt"

# --- 2. a parent swapped for a symlink while the holders end ----------------
SYS="$WORK/sys"
mkdir -p "$SYS/etc"
echo root-only > "$SYS/etc/passwd"
manifest "$SYS" > "$WORK/sys.manifest"
A="$WORK/alice"
mkdir -p "$A/w/etc/Default"
echo c > "$A/w/etc/Default/Cookies"
swapper=$(start_helper --open "$A/w/etc/Default/Cookies" \
    --on-term "mv '$A/w' '$A/w.orig' && ln -s '$SYS' '$A/w'")
"$CTL" cleanup "$A/w/etc" --any-folder --json --timeout 10 > "$WORK/swap.json"
rc=$?
check "parent swapped during the kill phase: the holder ended (and swapped)" test -L "$A/w"
check "parent swapped: exit 1, nothing claimed removed" test $rc -eq 1 -a "$(jq -r .result "$WORK/swap.json")" = partial
check "parent swapped: the folder it points to now is intact" intact "$SYS" "$WORK/sys.manifest"
check "parent swapped: the report says it moved and nothing was deleted" \
    jq -e '[.left[] | select(test("nothing was deleted"))] | length == 1' "$WORK/swap.json"
check "parent swapped: the real session is still there, where it went" test -f "$A/w.orig/etc/Default/Cookies"

# The same, but the session folder itself replaced by another folder.
B="$WORK/bob"
mkdir -p "$B/session-r/Default" "$WORK/other-r"
echo mine > "$WORK/other-r/keep"
manifest "$WORK/other-r" > "$WORK/other-r.manifest"
echo c > "$B/session-r/Default/Cookies"
replacer=$(start_helper --open "$B/session-r/Default/Cookies" \
    --on-term "mv '$B/session-r' '$B/session-r.old' && mv '$WORK/other-r' '$B/session-r'")
"$CTL" cleanup "$B/session-r" --json --timeout 10 > "$WORK/replace.json"
check "session replaced during the kill phase: exit 1" test $? -eq 1
check "the folder put in its place is intact" intact "$B/session-r" "$WORK/other-r.manifest"
gone "$replacer"; gone "$swapper"

# --- 3. stop under a wrapper whose command line names the profile ------------
S5="$R/session-wrapped"
make_profile "$S5"
chrome5=$(start_chrome --user-data-dir="$S5" --open "$S5/Default/Cookies")
cat > "$WORK/wrapper.sh" <<EOF
#!/bin/bash
# A launcher that passes the flag on, as xvfb-run or strace would.
"$CTL" stop "$S5" --timeout 5 > "$WORK/wrapped-stop.out" 2>&1
echo "\$?" > "$WORK/wrapped-stop.rc"
sleep 30
EOF
chmod +x "$WORK/wrapper.sh"
"$WORK/wrapper.sh" --user-data-dir="$S5" &
wrapper=$!
track "$wrapper"
for i in $(seq 1 1500); do [ -s "$WORK/wrapped-stop.rc" ] && break; sleep 0.01; done
check "stop under a wrapper: latchkeyctl finished on its own (not killed)" \
    grep -qx '[01]' "$WORK/wrapped-stop.rc"
check "stop under a wrapper: the wrapper (its parent) still runs" alive "$wrapper"
check "stop under a wrapper: the profile's Chromium was stopped" gone "$chrome5"
kill "$wrapper" 2>/dev/null

# --- 4. a program the browser opened, with unsaved work ----------------------
S6="$R/session-editor"
make_profile "$S6"
chrome6=$(start_chrome --user-data-dir="$S6" --open "$S6/Default/Cookies" \
    --spawn "trap 'echo saved > \"$WORK/editor.saved\"; exit 0' TERM; echo \$\$ > '$WORK/editor.pid'; while :; do sleep 1; done")
for i in $(seq 1 500); do [ -s "$WORK/editor.pid" ] && break; sleep 0.01; done
editor=$(cat "$WORK/editor.pid")
"$CTL" holders "$S6" --json > "$WORK/editor-holders.json"
check "a non-Chromium descendant is listed as a descendant, not killable" test \
    "$(jq -r --argjson p "$editor" '.holders[] | select(.pid == $p) | "\(.kind) \(.killable)"' "$WORK/editor-holders.json")" = "descendant false"
"$CTL" cleanup "$S6" --json --timeout 10 > "$WORK/editor.json"
check "cleanup with an editor the browser opened: the folder is removed" test ! -e "$S6"
check "the editor was spared: still running" alive "$editor"
check "the editor was never signalled (it would have saved)" test ! -e "$WORK/editor.saved"
check "the browser itself was asked first (graceful)" test \
    "$(jq -r --argjson p "$chrome6" '.killed[] | select(.pid == $p) | .how' "$WORK/editor.json")" = graceful
check "the report lists the editor as spared" \
    jq -e --argjson p "$editor" '[.spared[] | select(.pid == $p)] | length == 1' "$WORK/editor.json"
kill "$editor" 2>/dev/null

# --- 5. processes in another mount namespace ---------------------------------
NS="$WORK/ns"
mkdir -p "$NS/session-ns/Default" "$NS/other/Default" "$NS/elsewhere"
echo mine > "$NS/session-ns/Default/Cookies"
echo theirs > "$NS/other/Default/Cookies"
# Same path, other folder: in its namespace $NS/session-ns is $NS/other.
unshare -m --propagation private bash -c \
    "mount --bind '$NS/other' '$NS/session-ns' && exec '$HELPER' --open '$NS/session-ns/Default/Cookies' --ready '$WORK/ns1.ready'" &
ns1=$!
track "$ns1"
# Other path, same folder: it sees the session at $NS/elsewhere.
unshare -m --propagation private bash -c \
    "mount --bind '$NS/session-ns' '$NS/elsewhere' && exec '$HELPER' --open '$NS/elsewhere/Default/Cookies' --ready '$WORK/ns2.ready'" &
ns2=$!
track "$ns2"
for i in $(seq 1 500); do [ -e "$WORK/ns1.ready" ] && [ -e "$WORK/ns2.ready" ] && break; sleep 0.01; done
"$CTL" holders "$NS/session-ns" --json > "$WORK/ns.json"
check "another namespace, same path, other folder: not a holder" \
    jq -e --argjson p "$ns1" '[.holders[] | select(.pid == $p)] | length == 0' "$WORK/ns.json"
check "another namespace, other path, same folder: found by identity" \
    jq -e --argjson p "$ns2" '[.holders[] | select(.pid == $p)] | length == 1' "$WORK/ns.json"
"$CTL" cleanup "$NS/session-ns" --json --timeout 10 > "$WORK/ns-clean.json"
check "cleanup: the process holding another folder at the same path still runs" alive "$ns1"
check "cleanup: the one holding this folder was ended" gone "$ns2"
check "cleanup: the other folder is intact" test "$(cat "$NS/other/Default/Cookies")" = theirs
kill "$ns1" 2>/dev/null

# --- 6. homes, browsers' own profiles, apps' data ------------------------------
U=lktest$$
UH="$WORK/homes/$U"
mkdir -p "$(dirname "$UH")"
if useradd -M -d "$UH" -s /usr/sbin/nologin "$U" 2>/dev/null; then
    mkdir -p "$UH/.wwebjs_auth/session-mine/Default" "$UH/Documents"
    make_profile "$UH"
    manifest "$UH" > "$WORK/uh.manifest"
    "$CTL" cleanup "$UH" --any-folder --dry-run > /dev/null 2> "$WORK/home.err"
    check "another user's home: refused even with --any-folder" test $? -eq 2
    check "and named as a home folder" grep -q "home folder" "$WORK/home.err"
    "$CTL" cleanup "$(dirname "$UH")" --any-folder --dry-run > /dev/null 2>&1
    check "a folder containing another user's home: refused" test $? -eq 2
    "$CTL" cleanup "$UH/Documents" --any-folder > /dev/null 2>&1
    check "their Documents: refused" test $? -eq 2
    check "their home is intact" intact "$UH" "$WORK/uh.manifest"
    "$CTL" cleanup "$UH/.wwebjs_auth/session-mine" --json > "$WORK/theirs.json"
    check "a bot session inside their home is still a session: cleaned" test ! -e "$UH/.wwebjs_auth/session-mine"
    userdel "$U" 2>/dev/null
else
    bad "useradd is needed to test other users' homes"
fi
FH="$WORK/fakehome"
for app in google-chrome Signal Code; do
    make_profile "$FH/.config/$app"
    make_profile "$FH/.config/$app/Default/../Profile 1"
done
manifest "$FH" > "$WORK/fh.manifest"
for app in google-chrome Signal Code; do
    (cd "$FH" && HOME="$FH" "$CTL" cleanup ".config/$app" --any-folder --dry-run >/dev/null 2>&1)
    check "the user's own $app data: refused even with --any-folder" test $? -eq 2
done
(cd "$FH" && HOME="$FH" "$CTL" cleanup ".config/google-chrome/Profile 1" --any-folder >/dev/null 2>&1)
check "a profile inside the user's Chrome: refused" test $? -eq 2
check "the fake home is intact" intact "$FH" "$WORK/fh.manifest"
mkdir -p "$WORK/plainprofile"; make_profile "$WORK/plainprofile"
"$CTL" cleanup "$WORK/plainprofile" --dry-run >/dev/null 2>&1
check "a plain profile that is not a bot's session: refused without --any-folder" test $? -eq 2
"$CTL" cleanup /var/lib/dpkg --any-folder --dry-run >/dev/null 2>&1
check "/var/lib/dpkg: refused even with --any-folder" test $? -eq 2
"$CTL" cleanup /var/cache --any-folder --dry-run >/dev/null 2>&1
check "/var/cache: refused even with --any-folder" test $? -eq 2

# --- 7. paths resolved as the kernel does, failing closed ----------------------
P="$WORK/phys"
mkdir -p "$P/a/b" "$P/a/session-6/Default" "$P/session-6/Default"
echo kernel > "$P/a/session-6/Default/f"
echo lexical > "$P/session-6/Default/f"
ln -s a/b "$P/lnk"
(cd "$P" && "$CTL" cleanup lnk/../session-6 --json > "$WORK/phys.json")
check "lnk/..: the folder the kernel names (a/session-6) is the one removed" test ! -e "$P/a/session-6"
check "lnk/..: the folder the text names (./session-6) is intact" test "$(cat "$P/session-6/Default/f")" = lexical
check "lnk/..: the report names the real path" test "$(jq -r .path "$WORK/phys.json")" = "$P/a/session-6"
ln -s loop "$P/loop"
"$CTL" cleanup "$P/loop/session-x" > /dev/null 2> "$WORK/loop.err"
check "a path that cannot be resolved (a link loop): refused, exit 2" test $? -eq 2

# --- 8. a FIFO or a device where DevToolsActivePort should be ------------------
F="$R/session-fifo"
make_profile "$F"
mkfifo "$F/DevToolsActivePort"
start=$(date +%s)
timeout 30 "$CTL" qr "$F" --json --timeout 3 --chromium /bin/false > "$WORK/fifo.json" 2>/dev/null
rc=$?
check "a FIFO as DevToolsActivePort: qr returns on its own (no hang)" test $rc -ne 124
check "and fails (exit 1) well within its timeout" test $rc -eq 1 -a $(( $(date +%s) - start )) -le 10
timeout 30 "$CTL" status "$F" --json > /dev/null 2>&1
check "status does not hang on it either" test $? -ne 124
rm "$F/DevToolsActivePort"; ln -s /dev/zero "$F/DevToolsActivePort"
timeout 30 "$CTL" qr "$F" --json --timeout 3 --chromium /bin/false > /dev/null 2>&1
check "a link to a device as DevToolsActivePort: not followed, no hang" test $? -eq 1

# --- 9. an escape sequence in a process name -------------------------------------
E="$R/session-esc"
make_profile "$E"
esc=$(printf 'ok\033[2J\033[31mx')
mkdir -p "$WORK/escbin"; cp "$HELPER" "$WORK/escbin/$esc"
he=$(HELPER="$WORK/escbin/$esc" start_helper --open "$E/Default/Cookies")
"$CTL" holders "$E" > "$WORK/esc.txt"
"$CTL" cleanup "$E" --dry-run > "$WORK/esc-plan.txt"
check "holders text: no raw escape character reaches the terminal" bash -c "! grep -q $'\033' '$WORK/esc.txt'"
check "the plan text: no raw escape character either" bash -c "! grep -q $'\033' '$WORK/esc-plan.txt'"
check "the name is shown escaped" grep -qF 'ok\x1b[2J' "$WORK/esc.txt"
"$CTL" holders "$E" --json > "$WORK/esc.json"
check "the JSON keeps the exact name" test \
    "$(jq -r --argjson p "$he" '.holders[] | select(.pid == $p) | .name' "$WORK/esc.json")" = "${esc:0:15}"
kill "$he"

check "nothing outside the targets was signalled (decoy log empty)" unsignalled "$WORK/d1.log"
finish
