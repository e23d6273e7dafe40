#!/usr/bin/env bash
# latchkeyctl qr / link / status / stop / sessions against real headless
# Chromium and the fixture page that behaves like WhatsApp Web's login.
CTL=$1 HELPER=$2 SERVE=$3 FIXTURES=$4
. "$(dirname "$0")/lib.sh"
R="$WORK/bot/.wwebjs_auth"
mkdir -p "$R"

# The first payload of a seeded page, as Chromium itself renders it.
first_ref() {
    "$CHROMIUM" --headless=new --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --no-first-run --user-data-dir="$WORK/dump-profile" \
        --virtual-time-budget=2000 --dump-dom "$1" 2>/dev/null |
        grep -o 'data-ref="[^"]*"' | head -1 | sed 's/^data-ref="//; s/"$//'
}
no_holders() { [ "$("$CTL" holders "$1" --json | jq '.holders | length')" = 0 ]; }
jq_true() { jq -e "$@" >/dev/null; } # jq_true FILTER FILE: the filter yields true

# --- qr: owned browser, payload equals the page's data-ref ------------------
URL1="$BASE?seed=7&rotate_ms=60000"
want=$(first_ref "$URL1")
check "the fixture renders a data-ref" test -n "$want"
"$CTL" qr "$R/session-a" --json --site-url "$URL1" --timeout 60 > "$WORK/qr.json"
check "qr exits 0" test $? -eq 0
check "qr state is qr" test "$(jq -r .state "$WORK/qr.json")" = qr
check "qr payload is the page's data-ref" test "$(jq -r .qr "$WORK/qr.json")" = "$want"
check "qr_source data-ref, owned browser" test "$(jq -r '"\(.qr_source) \(.attached)"' "$WORK/qr.json")" = "data-ref false"
check "qr leaves no process holding the folder" no_holders "$R/session-a"

"$CTL" qr "$R/session-a" --png "$WORK/qr.png" --site-url "$URL1" --timeout 60 > "$WORK/qr.txt"
check "qr --png exits 0" test $? -eq 0
check "the PNG decodes to the payload" test "$(zbarimg -q --raw "$WORK/qr.png" 2>/dev/null)" = "$want"
check "the terminal QR is drawn with half blocks" grep -q "▀" "$WORK/qr.txt"

# --- already linked: exit 3 --------------------------------------------------
"$CTL" qr "$R/session-b" --json --site-url "$BASE?rotate_ms=60000#link" --timeout 60 > "$WORK/linked.json"
check "qr on a linked session exits 3" test $? -eq 3
check "state linked, no qr" test "$(jq -r '"\(.state) \(.qr)"' "$WORK/linked.json")" = "linked null"

# --- link: follows the rotations until linked --------------------------------
"$CTL" link "$R/session-c" --json --site-url "$BASE?rotate_ms=400&rotations=3&then=linked" --timeout 60 > "$WORK/link.json"
check "link exits 0 once linked" test $? -eq 0
check "link printed every QR it saw, then linked" test "$(jq -r .state "$WORK/link.json" | tail -1)" = linked
check "link saw the rotations" test "$(jq -s 'map(select(.state == "qr") | .qr) | unique | length' "$WORK/link.json")" -ge 3
check "link reports rotations" test "$(jq -s 'last | .rotations' "$WORK/link.json")" -ge 3
check "link leaves the folder free for the bot" no_holders "$R/session-c"

# --- canvas only: a PNG of the canvas ----------------------------------------
"$CTL" qr "$R/session-d" --json --png "$WORK/canvas.png" --site-url "$BASE?canvas_only=1&rotate_ms=60000" --timeout 60 > "$WORK/canvas.json"
check "canvas-only qr exits 0" test $? -eq 0
check "canvas-only: qr null, source canvas" test "$(jq -r '"\(.qr) \(.qr_source)"' "$WORK/canvas.json")" = "null canvas"
check "canvas-only: the PNG is an image" test "$(head -c 8 "$WORK/canvas.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a

# --- conflict, logout, a page that never loads -------------------------------
"$CTL" qr "$R/session-e" --json --site-url "$BASE?rotate_ms=60000#conflict" --timeout 30 > "$WORK/conflict.json"
check "conflict: exit 1" test $? -eq 1
check "conflict: state conflict" test "$(jq -r .state "$WORK/conflict.json")" = conflict
says_conflict() {
    jq_true '.error | test("WhatsApp is open in another window or tab") and test("Take over") and
        test("close the other") and (test("timed out") | not)' "$1"
}
check "conflict: the error says WhatsApp is open elsewhere and how to take over" \
    says_conflict "$WORK/conflict.json"
start=$(date +%s)
"$CTL" link "$R/session-e2" --json --site-url "$BASE?rotate_ms=60000#conflict" --timeout 60 > "$WORK/conflict-link.json" 2>/dev/null
check "link on a conflict: exit 1" test $? -eq 1
check "link on a conflict: says so, not a timeout" says_conflict "$WORK/conflict-link.json"
check "link on a conflict: gives up at once, not at its timeout" test $(( $(date +%s) - start )) -le 30
"$CTL" qr "$R/session-f" --json --site-url "$BASE?post_logout=1&rotate_ms=60000" --timeout 30 > "$WORK/logout.json"
check "logged out: a QR is shown, exit 0" test $? -eq 0
check "logged out: state logged_out" test "$(jq -r .state "$WORK/logout.json")" = logged_out
start=$(date +%s)
"$CTL" qr "$R/session-g" --json --site-url "http://127.0.0.1:$PORT/hang" --timeout 4 > "$WORK/hang.json" 2>"$WORK/hang.err"
check "never loads: exit 1" test $? -eq 1
check "never loads: it says it timed out" grep -q "timed out" "$WORK/hang.err"
check "never loads: the JSON error says timed out, and the last state" \
    jq_true '.error | test("^timed out after 4 s waiting for the QR code \\(last state [a-z_]+")' "$WORK/hang.json"
check "never loads: gives up near its timeout" test $(( $(date +%s) - start )) -le 20
check "never loads: nothing left running" no_holders "$R/session-g"

# --- attach: a browser the bot started ---------------------------------------
P="$R/session-bot"
URLB="$BASE?seed=11&rotate_ms=60000"
wantb=$(first_ref "$URLB")
"$CHROMIUM" --headless=new --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --no-first-run --remote-debugging-port=0 \
    --user-data-dir="$P" "$URLB" >/dev/null 2>&1 &
bot=$!
track "$bot"
for i in $(seq 1 1000); do [ -s "$P/DevToolsActivePort" ] && break; sleep 0.02; done
"$CTL" qr "$P" --json --timeout 30 > "$WORK/attach.json"
check "attach: qr exits 0" test $? -eq 0
check "attach: attached true" test "$(jq -r .attached "$WORK/attach.json")" = true
check "attach: the bot page's payload" test "$(jq -r .qr "$WORK/attach.json")" = "$wantb"
check "attach: the bot's browser still runs" alive "$bot"
"$CTL" status "$P" --json > "$WORK/status.json"
check "status: profile running" test "$(jq -r .profile "$WORK/status.json")" = running
check "status: browser pid is the bot's" test "$(jq -r .browser.pid "$WORK/status.json")" = "$bot"
check "status: a browser the bot (here: this shell) started is not owned" \
    test "$(jq -r .browser.owned "$WORK/status.json")" = false
check "status: its launcher is this shell, alive, and it is not orphaned" test \
    "$(jq -r '.browser | "\(.launcher.pid) \(.launcher.alive) \(.orphaned)"' "$WORK/status.json")" = "$$ true false"
"$CTL" status "$P" > "$WORK/status.txt"
check "status text: exit 0" test $? -eq 0
check "status text: the profile state" grep -qx "  profile   running" "$WORK/status.txt"
check "status text: browser pid, the bot using it, DevTools endpoint" grep -Eq \
    "^  browser   pid $bot, used by a running bot: bash pid $$, DevTools ws://127\.0\.0\.1:[0-9]+/devtools/browser/" "$WORK/status.txt"
check "status text: page state and URL" grep -qxF "  page      qr  $URLB" "$WORK/status.txt"
qr_lines() { grep -A1 -xF "  qr        $1" "$2" | grep -Eqx " +shown [0-9]+ (s|min), [0-9]+ rotations?"; }
check "status text: the QR, its age and rotations" qr_lines "$wantb" "$WORK/status.txt"
check "status text: health (processes, memory, round trip, uptime, restarts)" grep -Eqx \
    "  health    [0-9]+ processes, [0-9]+ MB, DevTools round trip [0-9]+ ms, up [0-9]+ (s|min), [0-9]+ restarts" \
    "$WORK/status.txt"
check "status text: the holders, as the holders command prints them" \
    grep -Eq "^    chromium-browser +pid $bot +" "$WORK/status.txt"
check "status: page state qr with the payload" test "$(jq -r '"\(.page.state) \(.page.qr)"' "$WORK/status.json")" = "qr $wantb"
check "status: health counts the processes" test "$(jq '.health.processes' "$WORK/status.json")" -ge 2
check "status: holders listed" test "$(jq '.holders | length' "$WORK/status.json")" -ge 1
check "status: health has uptime, memory and round trip" test \
    "$(jq '.health | (.uptime_ms > 0) and (.memory_bytes > 0) and (.rtt_ms >= 0) and (.qr_age_ms >= 0)' "$WORK/status.json")" = true
# Memory counts shared pages once (Pss), not once per process like RSS does.
tree() { echo "$1"; for c in $(ps -o pid= --ppid "$1"); do tree "$c"; done; }
rss_kib=$(ps -o rss= -p "$(tree "$bot" | paste -sd,)" | awk '{s += $1} END {print s + 0}')
check "status: memory counts shared pages once (below the summed RSS)" \
    test "$(jq .health.memory_bytes "$WORK/status.json")" -lt "$((rss_kib * 1024))"
check "attach left the page where it was" test "$(jq -r .page.url "$WORK/status.json")" = "$URLB"
"$CTL" stop "$P" > "$WORK/stop.txt"
check "stop exits 0" test $? -eq 0
check "stop ended the bot's browser" gone "$bot"
check "stop leaves no process of the tree" no_holders "$P"
check "stop verified with the holder scan that nothing holds the folder" \
    grep -q "verified: nothing holds the folder" "$WORK/stop.txt"
"$CTL" stop "$P" > "$WORK/stop2.txt"
check "stop again: exit 0" test $? -eq 0
check "stop again says not running" grep -q "not running" "$WORK/stop2.txt"
"$CTL" status "$P" --json > "$WORK/status2.json"
check "status after stop: idle or stale lock" grep -Eq '"profile": "(idle|stale_lock)"' "$WORK/status2.json"

# --- attach by the --remote-debugging-port on the command line ---------------
P2="$R/session-fixed-port"
# A port that was free a moment ago. Chromium writes no DevToolsActivePort for
# a port given on its command line (only for port 0): it says on stderr when
# it listens. Should another program take the port first, Chromium cannot
# listen there: then another port.
for try in 1 2 3; do
    FIXED=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "$CHROMIUM" --headless=new --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --no-first-run --remote-debugging-port=$FIXED \
        --user-data-dir="$P2" "$URLB" >"$WORK/fixed.log" 2>&1 &
    bot2=$!
    track "$bot2"
    for i in $(seq 1 600); do
        grep -q "DevTools listening on ws://127.0.0.1:$FIXED/" "$WORK/fixed.log" && break
        alive "$bot2" || break
        sleep 0.1
    done
    grep -q "DevTools listening on ws://127.0.0.1:$FIXED/" "$WORK/fixed.log" && break
    echo "# port $FIXED: Chromium does not listen there: $(grep -i devtools "$WORK/fixed.log" | head -2)"
    kill -9 "$bot2" 2>/dev/null; gone "$bot2"
done
check "fixed port: no DevToolsActivePort to find it by" test ! -e "$P2/DevToolsActivePort"
"$CTL" qr "$P2" --json --timeout 30 > "$WORK/fixed.json"
check "fixed port: qr attaches through the command line's port" test \
    "$(jq -r '"\(.attached) \(.qr)"' "$WORK/fixed.json")" = "true $wantb"
"$CTL" stop "$P2" >/dev/null
check "fixed port: stop ends it" gone "$bot2"

# --- a browser without DevTools holds the profile: refuse, say who ------------
Q="$R/session-busy"
"$CHROMIUM" --headless=new --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --no-first-run --user-data-dir="$Q" about:blank >/dev/null 2>&1 &
busy=$!
track "$busy"
for i in $(seq 1 1000); do [ -L "$Q/SingletonLock" ] && break; sleep 0.02; done
"$CTL" qr "$Q" --json --site-url "$URL1" --timeout 20 > "$WORK/busy.json" 2>"$WORK/busy.err"
check "busy profile: qr exits 1" test $? -eq 1
check "busy profile: the error names the holder" grep -q "$busy" "$WORK/busy.err"
check "busy profile: the other browser keeps running" alive "$busy"
kill "$busy" 2>/dev/null; gone "$busy"

# --- owned: a browser latchkeyctl started -------------------------------------
O="$R/session-owned"
"$CTL" link "$O" --json --site-url "$BASE?rotate_ms=60000&link_after_ms=10000" --timeout 60 > "$WORK/owned-link.json" 2>/dev/null &
linker=$!
track "$linker"
for i in $(seq 1 1000); do [ -s "$O/DevToolsActivePort" ] && break; sleep 0.02; done
"$CTL" status "$O" --json > "$WORK/owned.json"
check "owned: status sees the browser running while link waits" test "$(jq -r .profile "$WORK/owned.json")" = running
check "owned: a browser latchkeyctl link started is owned" test "$(jq -r .browser.owned "$WORK/owned.json")" = true
check "owned: its parent is that latchkeyctl" test "$(ps -o ppid= -p "$(jq -r .browser.pid "$WORK/owned.json")" | tr -d ' ')" = "$linker"
wait "$linker"
check "owned: link still exits 0 once linked" test $? -eq 0
check "owned: link leaves the folder free" no_holders "$O"

# --- attach with no Chromium to be found ---------------------------------------
NOCHROME=(env -u LATCHKEY_CHROMIUM PATH=/nonexistent)
P3="$R/session-bot-nochrome"
URLC="$BASE?seed=13&rotate_ms=60000"
wantc=$(first_ref "$URLC")
"$CHROMIUM" --headless=new --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --no-first-run --remote-debugging-port=0 \
    --user-data-dir="$P3" "$URLC" >/dev/null 2>&1 &
bot3=$!
track "$bot3"
for i in $(seq 1 1000); do [ -s "$P3/DevToolsActivePort" ] && break; sleep 0.02; done
"${NOCHROME[@]}" "$CTL" qr "$P3" --json --timeout 30 > "$WORK/nochrome.json" 2>"$WORK/nochrome.err"
check "no local Chromium: qr still attaches, exit 0" test $? -eq 0
check "no local Chromium: attached, with the page's data-ref" \
    test "$(jq -r '"\(.attached) \(.qr)"' "$WORK/nochrome.json")" = "true $wantc"
"${NOCHROME[@]}" "$CTL" stop "$P3" --json > "$WORK/stop3.json"
check "stop --json: exit 0" test $? -eq 0
check "stop --json: stopped and verified" \
    test "$(jq -r '"\(.result) \(.verified) \(.browser_pid)"' "$WORK/stop3.json")" = "stopped true $bot3"
check "stop --json: nothing holds it" no_holders "$P3"
"${NOCHROME[@]}" "$CTL" qr "$R/session-nochrome" --json --site-url "$URL1" --timeout 10 > "$WORK/nochrome2.json" 2>"$WORK/nochrome2.err"
check "nothing runs it, no Chromium found: qr exits 1" test $? -eq 1
check "nothing runs it, no Chromium found: the error names the missing browser and the fix" \
    jq_true '.state == "failed" and (.error | test("Chromium") and test("LATCHKEY_CHROMIUM") and test("--chromium"))' \
    "$WORK/nochrome2.json"
check "... and stderr says how to set it" grep -q "LATCHKEY_CHROMIUM=" "$WORK/nochrome2.err"

# --- stop: odd paths, files, missing folders, something left holding ----------
W="$WORK/we\"ird\\name"
mkdir -p "$W"
"$CTL" stop "$W" --json > "$WORK/stop-weird.json"
check "stop --json, quote and backslash in the path: exit 0" test $? -eq 0
check "stop --json, quote and backslash in the path: valid JSON, .path is the input" \
    test "$(jq -r .path "$WORK/stop-weird.json")" = "$W"
"$CTL" stop "$W-missing" --json > "$WORK/stop-weird2.json"
check "stop --json, odd path that does not exist: .path and not_running" \
    test "$(jq -r '"\(.path)|\(.result)"' "$WORK/stop-weird2.json")" = "$W-missing|not_running"
"$CTL" stop "$WORK/port" > /dev/null 2>"$WORK/stop-file.err"
check "stop FILE: exit 2" test $? -eq 2
check "stop FILE: says it is not a folder" grep -q "is not a folder" "$WORK/stop-file.err"
"$CTL" stop "$R/session-never-made" > "$WORK/stop-missing.txt"
check "stop on a missing folder: exit 0 (idempotent)" test $? -eq 0
check "stop on a missing folder: nothing to stop" grep -q "not running, nothing to stop" "$WORK/stop-missing.txt"
H="$R/session-held"
"$CHROMIUM" --headless=new --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --no-first-run --remote-debugging-port=0 \
    --user-data-dir="$H" "$BASE?rotate_ms=60000#link" >/dev/null 2>&1 &
bot4=$!
track "$bot4"
for i in $(seq 1 1000); do [ -s "$H/DevToolsActivePort" ] && break; sleep 0.02; done
for i in $(seq 1 20); do "$CTL" status "$H" > "$WORK/status-linked.txt"; grep -q "^  page      linked" "$WORK/status-linked.txt" && break; sleep 0.1; done
check "status text: a linked page's WhatsApp Web version" \
    grep -qx "  web app   WhatsApp Web 2.3000.1018400000" "$WORK/status-linked.txt"
holder=$(start_helper --open "$H/Default/bot-notes")
"$CTL" stop "$H" > "$WORK/stop-held.txt"
check "stop, something else still holds the folder: exit 1" test $? -eq 1
check "stop, something else still holds the folder: names its pid and name" \
    grep -q "hold_helper (pid $holder) still holds" "$WORK/stop-held.txt"
check "stop, something else still holds the folder: the browser did end" gone "$bot4"
kill "$holder" 2>/dev/null; gone "$holder"

# --- sessions: discovery from one snapshot ------------------------------------
mkdir -p "$WORK/bot/tokens/shop/Default" "$R/RemoteAuth-x/Default"
"$CTL" sessions --root "$WORK/bot" --json > "$WORK/sessions.json"
check "sessions exits 0" test $? -eq 0
check "sessions finds LocalAuth sessions" test "$(jq -r --arg p "$R/session-a" '.[] | select(.path == $p) | .kind' "$WORK/sessions.json")" = wwebjs-local
check "sessions finds wppconnect tokens" test "$(jq -r --arg p "$WORK/bot/tokens/shop" '.[] | select(.path == $p) | .kind' "$WORK/sessions.json")" = wppconnect
check "sessions finds RemoteAuth" test "$(jq -r --arg p "$R/RemoteAuth-x" '.[] | select(.path == $p) | .kind' "$WORK/sessions.json")" = wwebjs-remote
"$CTL" sessions --root "$WORK/bot" > "$WORK/sessions.txt"
check "sessions prints one line each" test "$(wc -l < "$WORK/sessions.txt")" -eq "$(jq length "$WORK/sessions.json")"

# --- no browser: --json still prints its one object -----------------------------
"$CTL" qr "$R/session-nobrowser" --json --chromium "$WORK/no-such-browser" > "$WORK/nob.json" 2>"$WORK/nob.err"
check "no browser: qr exits 1" test $? -eq 1
check "no browser: JSON says failed with the reason" \
    test "$(jq -r '"\(.state) \(.error | length > 0)"' "$WORK/nob.json")" = "failed true"
check "no browser: the reason is on stderr too" grep -q "no-such-browser" "$WORK/nob.err"

# --- bad input -----------------------------------------------------------------
"$CTL" qr "$WORK/port" 2>/dev/null; check "qr on a file: exit 2" test $? -eq 2
"$CTL" qr "$R/x" --site-url "ftp://nope" 2>/dev/null; check "bad --site-url: exit 2" test $? -eq 2
"$CTL" link "$R/x" --timeout 0 2>/dev/null; check "bad --timeout: exit 2" test $? -eq 2
"$CTL" status 2>/dev/null; check "status without PATH: exit 2" test $? -eq 2
finish
