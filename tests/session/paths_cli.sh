#!/usr/bin/env bash
# Paths as people type them: every command gives the same answer for a
# session named by a relative path (x, ./x, x/, ../p/x, through a symlinked
# parent) as for its absolute path, and reports the absolute path.
CTL=$1 HELPER=$2 SERVE=$3 FIXTURES=$4
. "$(dirname "$0")/lib.sh"

A="$WORK/bot/.wwebjs_auth"
S="$A/session-p"
mkdir -p "$A" "$WORK/elsewhere"
ln -s "$A" "$WORK/linked-auth"
make_profile "$S"
h=$(start_helper --open "$S/Default/Cookies")

# What may differ between two runs: times, and the path itself (a symlinked
# parent is reported as typed, made absolute; checked on its own below).
norm() {
    jq -S 'walk(if type == "object" then del(.elapsed_ms, .start_time, .uptime_ms, .qr_age_ms,
            .rtt_ms, .memory_bytes, .uninspectable, .message) else . end)' "$1" |
        sed "s#$S#<S>#g; s#$WORK/linked-auth/session-p#<S>#g"
}
# same_json NAME CMD...: CMD with the absolute path for PATH, then with each
# typed form (run from the folder it is relative to): the same exit, the same JSON.
same_json() {
    local name=$1 pair dir form rc rc0
    shift
    "$CTL" "${@/PATH/$S}" > "$WORK/abs.json" 2>/dev/null; rc0=$?
    norm "$WORK/abs.json" > "$WORK/abs.norm"
    for pair in "$WORK|bot/.wwebjs_auth/session-p" "$WORK|./bot/.wwebjs_auth/session-p" \
                "$WORK|bot/.wwebjs_auth/session-p/" "$WORK/elsewhere|../bot/.wwebjs_auth/session-p" \
                "$WORK|linked-auth/session-p" "$A|session-p"; do
        dir=${pair%%|*} form=${pair#*|}
        (cd "$dir" && "$CTL" "${@/PATH/$form}" > "$WORK/rel.json" 2>/dev/null); rc=$?
        if [ $rc -ne $rc0 ] || [ "$(norm "$WORK/rel.json")" != "$(cat "$WORK/abs.norm")" ]; then
            echo "  $name: '$form' from $dir gave exit $rc (absolute: $rc0)"
            diff <(norm "$WORK/rel.json") "$WORK/abs.norm" | head -10
            return 1
        fi
    done
}
reports_abs() { # reports_abs FILE KEY: the report names the absolute path
    test "$(jq -r "$2" "$1")" = "$S"
}

check "holders: the same JSON for every typed form" same_json holders holders PATH --json
(cd "$WORK" && "$CTL" holders bot/.wwebjs_auth/session-p --json > "$WORK/h.json")
check "holders: reports the absolute path" reports_abs "$WORK/h.json" .path
check "cleanup --dry-run: the same JSON" same_json cleanup cleanup PATH --dry-run --json
check "unlock --dry-run: the same JSON" same_json unlock unlock PATH --dry-run --json
(cd "$WORK" && "$CTL" unlock ./bot/.wwebjs_auth/session-p/ --dry-run --json > "$WORK/u.json")
check "unlock: reports the absolute path" reports_abs "$WORK/u.json" .path
check "status: the same JSON" same_json status status PATH --json
check "sessions --root: the same JSON" same_json sessions sessions --root "PATH/.." --json
# The root itself a link (a bot's .wwebjs_auth linked elsewhere): followed,
# and the session named through it is still known for what it is.
"$CTL" sessions --root "$WORK/linked-auth" --json > "$WORK/sl.json"
check "sessions --root LINK: lists the session through the link, as whatsapp-web.js's" \
    test "$(jq -r '.[0] | "\(.path) \(.kind)"' "$WORK/sl.json")" = "$WORK/linked-auth/session-p wwebjs-local"
kill "$h"; gone "$h"

# With a browser: qr attaches, status sees its endpoint, stop closes it.
URL="$BASE?seed=21&rotate_ms=60000"
"$CHROMIUM" --headless=new --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --no-first-run --remote-debugging-port=0 \
    --user-data-dir="$S" "$URL" >/dev/null 2>&1 &
bot=$!
track "$bot"
for i in $(seq 1 1000); do [ -s "$S/DevToolsActivePort" ] && break; sleep 0.02; done
check "qr: the same JSON (attached, same code)" same_json qr qr PATH --json --timeout 30
(cd "$WORK" && "$CTL" qr bot/.wwebjs_auth/session-p --json --timeout 30 > "$WORK/q.json")
check "qr: attached to the running browser by a relative path" test "$(jq -r .attached "$WORK/q.json")" = true
(cd "$WORK" && "$CTL" status bot/.wwebjs_auth/session-p --json > "$WORK/s.json")
check "status by a relative path finds the DevTools endpoint and the page" \
    test "$(jq -r '"\(.browser.endpoint != null) \(.page.state)"' "$WORK/s.json")" = "true qr"
(cd "$WORK" && "$CTL" stop bot/.wwebjs_auth/session-p/ --json > "$WORK/stop.json")
check "stop by a relative path: Browser.close went out" test "$(jq -r .browser_close "$WORK/stop.json")" = true
check "stop: it ended, and the report names the absolute path" \
    test "$(jq -r '"\(.result) \(.path)"' "$WORK/stop.json")" = "stopped $S"
check "stop: the browser is gone" gone "$bot"

# link by a relative path: the phone links, link exits 0 and frees the folder.
(cd "$WORK/elsewhere" && "$CTL" link ../bot/.wwebjs_auth/session-p \
    --site-url "$BASE?seed=22&link_after_ms=500" --timeout 60 > "$WORK/link.txt" 2>&1)
check "link by ../ path: exit 0" test $? -eq 0
check "link: names the absolute path" grep -qF "$S" "$WORK/link.txt"
finish
