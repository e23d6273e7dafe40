#!/usr/bin/env bash
# Paths as people type them, on Windows: latchkeyctl.exe under wine gives the
# same answer (exit code and JSON) for a session named by any spelling of its
# path as for its absolute path Z:\..., and its reports name that absolute
# path. The Linux counterpart is tests/session/paths_cli.sh.
#
# The spellings (FORMS below): Z:/x, z:\x, \\?\Z:\x, Z:\x\, Z:x (drive-relative),
# x, .\x, x/, ..\x, y\..\x, the folder's own name from its parent, UNC paths
# (\\localhost\share\x, \\?\UNC\localhost\share\x, //localhost/share/x/), and
# a parent that is a link (a Unix symlink, which wine shows as one). The
# commands: holders, cleanup and unlock (with --dry-run on one held folder,
# and for real on a folder made and held anew for each spelling), status and
# sessions --root; then against a real browser qr, status, stop and link.
#
# The browser is a native Linux Chromium on the fixture page, its
# DevToolsActivePort in the session folder as a bot's browser has it:
# latchkeyctl.exe finds it there and speaks DevTools over wine's sockets.
# Windows cannot see a Linux process, so lock_helper.exe named chrome.exe,
# with --user-data-dir on its command line and the profile's lockfile held,
# stands for the browser's Windows process: status counts the session as
# running and stop, after Browser.close, ends it as it would end Chrome.
#
#   paths_cli.sh WINE LATCHKEYCTL.EXE LOCK_HELPER.EXE FIXTURES
# (WINEPREFIX and WINEDEBUG come from ctest.)
WINE=$1 CTL=$2 LOCKER=$3 FIXTURES=$4
. "$(dirname "$0")/../integration/lib.sh"

CHROMIUM=${LATCHKEY_CHROMIUM:-$(command -v chromium || command -v google-chrome || true)}
[ -n "$CHROMIUM" ] || { bad "no Chromium (installer/deps/debian.sh test installs it)"; finish; exit 1; }
command -v jq >/dev/null || { bad "jq is missing"; finish; exit 1; }

winpath() { "$WINE" winepath -w "$1" </dev/null 2>/dev/null | tr -d '\r'; }

# ctl OUT ARGS...: latchkeyctl.exe ARGS from the current folder; its standard
# output (without wine's \r) in OUT, its standard error in OUT.err; returns
# its exit code.
ctl() {
    local out=$1
    shift
    "$WINE" "$CTL" "$@" </dev/null 2>"$out.err" | tr -d '\r' >"$out"
    return "${PIPESTATUS[0]}"
}

A=$WORK/bot/.wwebjs_auth
S=$A/session-p
mkdir -p "$A" "$WORK/elsewhere" "$WORK/out" "$WORK/bin"
ln -s "$A" "$WORK/linked-auth"
make_profile "$S"
W_WIN=$(winpath "$WORK")
S_WIN=$(winpath "$S")
[[ "$S_WIN" == Z:\\*\\bot\\.wwebjs_auth\\session-p ]] ||
    { bad "winepath gave '$S_WIN' for $S"; finish; exit 1; }
cp "$LOCKER" "$WORK/bin/chrome.exe"

# UNC paths: wine serves \\localhost\SHARE from the prefix's
# dosdevices/unc/localhost/SHARE (no SMB; a link there is the share), so the
# test makes one, named after its work folder, and removes it at exit.
SHARE=${WORK##*/}
UNC_LINK=${WINEPREFIX:-}/dosdevices/unc/localhost/$SHARE
UNC="\\\\localhost\\$SHARE\\bot\\.wwebjs_auth\\session-p"
if [ -n "${WINEPREFIX:-}" ] && mkdir -p "${UNC_LINK%/*}" && ln -s "$WORK" "$UNC_LINK"; then
    trap 'rm -f "$UNC_LINK"; cleanup_all' EXIT
else
    bad "cannot serve $UNC from the wine prefix (WINEPREFIX='${WINEPREFIX:-}')"
fi

# Each spelling: FOLDER|TYPED|REPORTED. TYPED is given from FOLDER (the Unix
# current folder, which wine makes the Windows one); REPORTED is the absolute
# path the reports must name: the canonical one, except through a link or a
# share (reported as typed, made absolute, as on Linux). cleanup and unlock
# report the folder they hold, by its real path, for every form.
LINKED="$W_WIN\\linked-auth\\session-p"
FORMS=(
    "$WORK|${S_WIN//\\//}|$S_WIN"
    "$WORK|z${S_WIN:1}|$S_WIN"
    "$WORK|\\\\?\\$S_WIN|$S_WIN"
    "$WORK|$S_WIN\\|$S_WIN"
    "$WORK|Z:bot\\.wwebjs_auth\\session-p|$S_WIN"
    "$WORK|bot\\.wwebjs_auth\\session-p|$S_WIN"
    "$WORK|.\\bot\\.wwebjs_auth\\session-p|$S_WIN"
    "$WORK|bot/.wwebjs_auth/session-p/|$S_WIN"
    "$WORK/elsewhere|..\\bot\\.wwebjs_auth\\session-p|$S_WIN"
    "$WORK/elsewhere|..\\elsewhere\\..\\bot\\.wwebjs_auth\\.\\session-p|$S_WIN"
    "$A|session-p|$S_WIN"
    "$WORK|$UNC|$UNC"
    "$WORK|\\\\?\\UNC\\${UNC#\\\\}|$UNC"
    "$WORK|${UNC//\\//}/|$UNC"
)
# Through a linked parent: every command but cleanup and unlock, which on
# Windows refuse a path through a link (checked below).
THROUGH_LINK="$WORK|linked-auth\\session-p|$LINKED"
USE=("${FORMS[@]}" "$THROUGH_LINK")

# What may differ between two runs: times, process ids (a holder started
# anew for each run), and the path as REPORTED (checked on its own).
norm() { # norm FILE REPORTED
    jq -S --arg s "$S_WIN" --arg r "$2" '
        walk(if type == "object" then del(.elapsed_ms, .start_time, .uptime_ms, .qr_age_ms,
                 .rtt_ms, .memory_bytes, .uninspectable, .message, .pid, .ppid, .browser_pid,
                 .owner_pid)
             elif type == "string" then split($r) | join("<S>") | split($s) | join("<S>")
             else . end)' "$1" 2>&1
}

# same_json NAME CMD...: CMD with the absolute path Z:\... for PATH, then with
# each typed form (run from its folder): the same exit code, the same JSON.
# SETUP runs before every run, so that each finds the same situation. Each
# run's output stays in $WORK/out/NAME.N.json for reports_abs, the absolute
# path's in NAME.abs.json and its exit code in NAME.abs.rc.
SETUP=:
same_json() {
    local name=$1 pair dir form want rc rc0 i=0 ok=0
    shift
    $SETUP || echo "  $name: setup failed"
    (cd "$WORK" && ctl "$WORK/out/$name.abs.json" "${@/PATH/"$S_WIN"}")
    rc0=$?
    echo $rc0 >"$WORK/out/$name.abs.rc"
    norm "$WORK/out/$name.abs.json" "$S_WIN" >"$WORK/abs.norm"
    for pair in "${USE[@]}"; do
        i=$((i + 1))
        IFS='|' read -r dir form want <<<"$pair"
        $SETUP || echo "  $name: setup failed before '$form'"
        (cd "$dir" && ctl "$WORK/out/$name.$i.json" "${@/PATH/"$form"}")
        rc=$?
        if [ $rc -ne $rc0 ] || [ "$(norm "$WORK/out/$name.$i.json" "$want")" != "$(cat "$WORK/abs.norm")" ]; then
            echo "  $name: '$form' from $dir gave exit $rc (absolute: $rc0)"
            diff <(norm "$WORK/out/$name.$i.json" "$want") "$WORK/abs.norm" | head -10
            head -c 300 "$WORK/out/$name.$i.json.err"
            ok=1
        fi
    done
    return $ok
}
# reports_abs NAME KEY [real]: for every form, the report's KEY (a jq path)
# is the absolute path the form must be reported as (with "real": the
# canonical one).
reports_abs() {
    local name=$1 key=$2 pair dir form want got i=0 ok=0
    for pair in "${USE[@]}"; do
        i=$((i + 1))
        IFS='|' read -r dir form want <<<"$pair"
        [ "${3:-}" != real ] || want=$S_WIN
        got=$(jq -r "$key" "$WORK/out/$name.$i.json" 2>/dev/null)
        if [ "$got" != "$want" ]; then
            echo "  $name: '$form' from $dir reported '$got', want '$want'"
            ok=1
        fi
    done
    return $ok
}

# start_win READY PROGRAM ARGS...: a Windows program (lock_helper.exe, under
# any name) in the background, its READY file a Windows path; waits until it
# has written it. Prints the Unix pid of the wine process. Setting up is not
# what is tested: a program that ended, or did not get ready within 60 s, is
# shown with its own message and started again, up to 3 times.
start_win() {
    local ready=$1 unix err pid try
    shift
    unix=$WORK/${ready##*\\}
    for try in 1 2 3; do
        rm -f "$unix"
        err=$WORK/start_win.$try.$RANDOM.err
        "$WINE" "$@" </dev/null >/dev/null 2>"$err" &
        pid=$!
        track "$pid"
        wait_for 60 ready_or_ended "$unix" "$pid"
        if [ -s "$unix" ]; then echo "$pid"; return 0; fi
        echo "$* did not get ready (try $try, $(alive "$pid" && echo "still running" || echo ended)):" >&2
        sed 's/^/    /' "$err" >&2
        kill -9 "$pid" 2>/dev/null
        gone_long "$pid"
    done
    return 1
}
ready_or_ended() { test -s "$1" || ! alive "$2"; }
not_alive() { ! alive "$1"; }
gone_long() { wait_for 60 not_alive "$1"; }

# --- 1. one held folder: holders, cleanup and unlock --dry-run, status, sessions ---
echo "# 1. one held folder (at ${SECONDS} s)"
h=$(start_win "$W_WIN\\ready.h" "$LOCKER" hold "$S_WIN\\Default\\Cookies" "$W_WIN\\ready.h")
check "lock_helper.exe holds the session's Cookies" test -n "$h"
check "holders: the same JSON for every typed form" same_json holders holders PATH --json
check "holders: each reports the absolute path" reports_abs holders .path
check "holders: the holder is found (by every form)" \
    test "$(jq '.holders | length' "$WORK/out/holders.abs.json")" -ge 1
USE=("${FORMS[@]}")
check "cleanup --dry-run: the same JSON" same_json cleanup-dry cleanup PATH --dry-run --json
check "cleanup --dry-run: each reports the real path" reports_abs cleanup-dry .path real
check "unlock --dry-run: the same JSON" same_json unlock-dry unlock PATH --dry-run --json
check "unlock --dry-run: each reports the real path" reports_abs unlock-dry .path real
USE=("${FORMS[@]}" "$THROUGH_LINK")
check "status: the same JSON" same_json status-held status PATH --json
check "status: each reports the absolute path" reports_abs status-held .path
check "sessions --root: the same JSON" same_json sessions sessions --root 'PATH\..' --json
check "sessions --root: each lists the session by its absolute path" reports_abs sessions '.[0].path'
kill "$h" 2>/dev/null
gone_long "$h"

# --- 2. cleanup and unlock for real: each run on the folder made anew and held
# by a "browser" (the stand-in chrome.exe) that they end.
echo "# 2. cleanup and unlock (at ${SECONDS} s)"
HELD=
end_held() { [ -z "$HELD" ] || { kill "$HELD" 2>/dev/null; gone_long "$HELD"; }; }
# The stand-in has no window: a window would start wine's desktop process
# (explorer.exe) as its child, some runs before a snapshot and some after.
start_held() {
    HELD=$(start_win "$W_WIN\\ready.c" "$WORK/bin/chrome.exe" hold "$S_WIN\\lockfile" \
        "$W_WIN\\ready.c" "--user-data-dir=$S_WIN")
}
fresh_held() {
    end_held
    rm -rf "$S"
    make_profile "$S"
    start_held
}
SETUP=fresh_held USE=("${FORMS[@]}")
check "unlock: the same JSON" same_json unlock unlock PATH --json
check "unlock: each reports the real path" reports_abs unlock .path real
check "unlock: it ended the browser and unlocked" \
    test "$(jq -r '"\(.result) \(.killed | length)"' "$WORK/out/unlock.abs.json")" = "unlocked 1"
check "cleanup: the same JSON" same_json cleanup cleanup PATH --json
check "cleanup: each reports the real path" reports_abs cleanup .path real
check "cleanup: it ended the browser and removed the folder" \
    test "$(jq -r '"\(.result) \(.killed | length)"' "$WORK/out/cleanup.abs.json")" = "removed 1"
check "cleanup: the folder is gone" test ! -e "$S"
SETUP=: USE=("${FORMS[@]}" "$THROUGH_LINK")

# Through a linked parent, cleanup and unlock refuse on Windows (a link on
# the way could be swapped under them; tests/windows/test_tree_win.c): exit
# 2, the browser and the folder left alone, and the message says why.
refused_through_link() { # refused_through_link COMMAND [--dry-run]
    fresh_held
    (cd "$WORK" && ctl "$WORK/out/$1-link.json" "$@" 'linked-auth\session-p' --json)
    [ "$? $(jq -r .result "$WORK/out/$1-link.json")" = "2 refused" ] && alive "$HELD" &&
        [ -f "$S/Default/Cookies" ] && grep -q "symbolic link" "$WORK/out/$1-link.json.err"
}
check "cleanup through a linked parent: refused, nothing touched" refused_through_link cleanup
check "unlock --dry-run through a linked parent: refused" refused_through_link unlock --dry-run
end_held

# --- 3. a real browser: qr, status, stop, link ------------------------------------
echo "# 3. a real browser (at ${SECONDS} s)"
# start_bot URL VIEW: a fresh Chromium on URL in the session folder and its
# Windows stand-in, once the last one is gone; waits until the page shows VIEW
# (qr, linked) as status reads it by the absolute path.
BOT=
start_bot() {
    end_held
    [ -z "$BOT" ] || { kill "$BOT" 2>/dev/null; gone_long "$BOT"; }
    rm -f "$S/DevToolsActivePort"
    mkdir -p "$S"
    "$CHROMIUM" --headless=new --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --no-first-run --remote-debugging-port=0 \
        --user-data-dir="$S" "$1" >>"$WORK/bot.log" 2>&1 &
    BOT=$!
    track "$BOT"
    wait_for 120 test -s "$S/DevToolsActivePort" || { echo "no DevToolsActivePort" >&2; return 1; }
    start_held || return 1
    wait_for 120 page_is "$2" || { echo "the page did not show '$2'" >&2; return 1; }
}
page_is() {
    (cd "$WORK" && ctl "$WORK/page.json" status "$S_WIN" --json) &&
        [ "$(jq -r .page.state "$WORK/page.json")" = "$1" ]
}
# A browser on the page for each run that needs one (stop ends it).
BOT_URL='' BOT_VIEW=''
bot_up() {
    if [ -n "$BOT" ] && alive "$BOT" && alive "$HELD"; then return 0; fi
    start_bot "$BOT_URL" "$BOT_VIEW"
}

# The code stays for ten minutes: every run sees the same one.
BOT_URL="file://$FIXTURES/whatsapp.html?seed=21&rotate_ms=600000" BOT_VIEW=qr
check "a Chromium serves the page from the session folder" bot_up
SETUP=bot_up
check "qr: the same JSON (attached, the same code)" same_json qr qr PATH --json --timeout 60
check "qr: each reports the absolute path" reports_abs qr .path
check "qr: attached to the running browser, read its code" \
    test "$(jq -r '"\(.attached) \(.state) \(.qr | startswith("2@"))"' "$WORK/out/qr.abs.json")" = "true qr true"
check "status: the same JSON" same_json status status PATH --json
check "status: each reports the absolute path" reports_abs status .path
check "status finds the browser, its DevTools endpoint and the page" \
    test "$(jq -r '"\(.profile) \(.browser.endpoint != null) \(.page.state)"' \
        "$WORK/out/status.abs.json")" = "running true qr"
check "stop: the same JSON (a browser started anew for each)" same_json stop stop PATH --json
check "stop: each reports the absolute path" reports_abs stop .path
check "stop: Browser.close went out, and it stopped" \
    test "$(jq -r '"\(.browser_close) \(.result)"' "$WORK/out/stop.abs.json")" = "true stopped"
check "stop: the last browser is gone" gone_long "$BOT"

# link: the phone linked a moment after the page loaded; link attaches, sees
# it linked, exits 0 and leaves the bot's browser running.
BOT_URL="file://$FIXTURES/whatsapp.html?seed=22&link_after_ms=500" BOT_VIEW=linked
check "link: the same JSON" same_json link link PATH --json --timeout 60
check "link: each reports the absolute path" reports_abs link .path
check "link: exit 0, linked" \
    test "$(cat "$WORK/out/link.abs.rc") $(jq -r .state "$WORK/out/link.abs.json")" = "0 linked"
check "link: the bot's browser still runs" alive "$BOT"
echo "# done (at ${SECONDS} s)"
finish
