#!/usr/bin/env bash
# latchkeyctl unlock against real Chromium: a bot's browser left orphaned by
# a killed launcher is ended, only the lock files go, the login stays, and a
# new browser starts on the folder at once. Also: orphan or live bot in
# holders, status and sessions; the README's bot snippet, run by node.
CTL=$1 HELPER=$2 SERVE=$3 FIXTURES=$4 README=$5
. "$(dirname "$0")/lib.sh"
command -v node >/dev/null || { bad "no node (installer/deps/debian.sh test installs nodejs)"; finish; exit 1; }
URL="$BASE?remember=1&link_after_ms=300&seed=5&rotate_ms=60000"
R="$WORK/bot"
S="$R/.wwebjs_auth/session-bot1"
mkdir -p "$R/.wwebjs_auth"
FLAGS=(--headless=new --no-sandbox --disable-gpu --disable-background-networking
       --disable-component-update --no-first-run --remote-debugging-port=0)
DUMP=("${FLAGS[@]:0:5}" --dump-dom about:blank) # one page load, then exit

# A bot's launcher (here a shell standing in for node) starts Chromium on S
# and keeps running; prints the launcher's pid, the browser's in $WORK/browser.
start_bot() {
    rm -f "$S/DevToolsActivePort" "$WORK/browser"
    bash -c '"$0" "${@:1:$#-1}" & echo $! > "${@: -1}"; wait' "$CHROMIUM" "${FLAGS[@]}" \
        --user-data-dir="$S" "$URL" "$WORK/browser" >/dev/null 2>&1 &
    local launcher=$!
    track "$launcher"
    for i in $(seq 1 1500); do [ -s "$S/DevToolsActivePort" ] && [ -s "$WORK/browser" ] && break; sleep 0.02; done
    track "$(cat "$WORK/browser")"
    echo "$launcher"
}
strings_has() { grep -qa "$1" "$2"; } # the cookie's name is stored in clear

# --- the session is linked once, and keeps its login in the profile ----------
"$CTL" link "$S" --site-url "$URL" --timeout 60 > /dev/null 2>&1
check "link: the session links (exit 0)" test $? -eq 0
echo "my bot's notes" > "$S/marker.txt"
check "the login is in the profile (its cookie)" strings_has wa_login "$S/Default/Cookies"
manifest_of() { sha256sum "$S/marker.txt" | cut -d' ' -f1; }
marker=$(manifest_of)

# --- the bot crashes: its launcher is killed, its Chromium is left -------------
launcher=$(start_bot)
browser=$(cat "$WORK/browser")
"$CTL" qr "$S" --json --timeout 20 > /dev/null
check "the bot's browser opened linked (qr exit 3)" test $? -eq 3
"$CTL" holders "$S" --json > "$WORK/live.json"
check "live bot: holders names its launcher, alive, not orphaned" test \
    "$(jq -r --argjson p "$browser" '.holders[] | select(.pid == $p) | "\(.launcher.pid) \(.launcher.alive) \(.orphaned)"' "$WORK/live.json")" = "$launcher true false"
"$CTL" unlock "$S" --dry-run --json > "$WORK/live-plan.json"
check "live bot: unlock's plan warns that the bot will lose its browser" \
    jq -e --arg l "$launcher" '[.warnings[] | select(test("bash pid " + $l + " is using this session"))] | length == 1' "$WORK/live-plan.json"
kill -9 "$launcher"
gone "$launcher"
for i in $(seq 1 500); do [ "$(ps -o ppid= -p "$browser" | tr -d ' ')" != "$launcher" ] && break; sleep 0.01; done
check "the orphaned browser still runs" alive "$browser"

"$CTL" holders "$S" --json > "$WORK/orphan.json"
check "holders: the browser is orphaned, its launcher unknown" test \
    "$(jq -r --argjson p "$browser" '.holders[] | select(.pid == $p) | "\(.kind) \(.orphaned) \(.launcher)"' "$WORK/orphan.json")" = "chromium-browser true null"
"$CTL" holders "$S" | grep -q "orphaned: its launcher exited"
check "holders text says orphaned" test $? -eq 0
"$CTL" status "$S" --json > "$WORK/orphan-status.json"
check "status: orphaned" test "$(jq -r '"\(.browser.pid) \(.browser.orphaned)"' "$WORK/orphan-status.json")" = "$browser true"
"$CTL" status "$S" | grep -Eq "^  browser   pid $browser, orphaned: its launcher exited"
check "status text says orphaned" test $? -eq 0
"$CTL" sessions --root "$R" --json > "$WORK/orphan-sessions.json"
check "sessions: orphaned" test \
    "$(jq -r --arg s "$S" '.[] | select(.path == $s) | "\(.browser.pid) \(.browser.orphaned)"' "$WORK/orphan-sessions.json")" = "$browser true"
check "sessions counts the holders holders lists" test \
    "$(jq -r --arg s "$S" '.[] | select(.path == $s) | .holders' "$WORK/orphan-sessions.json")" = \
    "$("$CTL" holders "$S" --json | jq '.holders | length')"

# --- unlock: end exactly it, remove only the locks ---------------------------------
"$CTL" unlock "$S" --dry-run > "$WORK/plan.txt"
check "dry run: the plan ends the orphan and keeps the login" \
    grep -q "remove the lock files that keep the next browser from starting; keep the login" "$WORK/plan.txt"
check "dry run: nothing ended" alive "$browser"
"$CTL" unlock "$S" --json > "$WORK/unlock.json"
check "unlock exits 0" test $? -eq 0
check "unlock: result unlocked" test "$(jq -r .result "$WORK/unlock.json")" = unlocked
check "unlock: the orphaned browser ended" gone "$browser"
check "unlock: it was asked first (graceful)" test \
    "$(jq -r --argjson p "$browser" '.killed[] | select(.pid == $p) | .how' "$WORK/unlock.json")" = graceful
check "unlock: SingletonLock removed" jq -e '[.removed[] | select(endswith("/SingletonLock"))] | length == 1' "$WORK/unlock.json"
check "unlock: the folder is still there" test -d "$S/Default"
check "unlock: the marker is byte for byte what it was" test "$(manifest_of)" = "$marker"
check "unlock: Default/Cookies still holds the login" strings_has wa_login "$S/Default/Cookies"
check "unlock: no lock left" test ! -e "$S/SingletonLock" -a ! -e "$S/SingletonSocket" -a ! -e "$S/SingletonCookie"
check "unlock: the dead browser's DevToolsActivePort is gone too" test ! -e "$S/DevToolsActivePort"

# A new browser on the same folder starts at once, and is still linked.
"$CHROMIUM" "${FLAGS[@]}" --user-data-dir="$S" "$URL" > "$WORK/again.log" 2>&1 &
again=$!
track "$again"
for i in $(seq 1 1500); do [ -s "$S/DevToolsActivePort" ] && break; sleep 0.02; done
check "a new Chromium starts on the folder" test -s "$S/DevToolsActivePort"
check "and keeps running (no 'already running')" alive "$again"
check "no profile lock error" bash -c "! grep -qiE 'already running|profile.*in use' '$WORK/again.log'"
"$CTL" qr "$S" --json --timeout 20 > /dev/null
check "the session is still linked: no QR to scan (qr exit 3)" test $? -eq 3
"$CTL" stop "$S" > /dev/null
check "stop ends it" gone "$again"

# A lock left by another machine (a container gets a new host name on every
# start): Chromium refuses the profile until the lock goes.
rm -f "$S/SingletonLock"; ln -s "latchkey-other-host-4242" "$S/SingletonLock"
timeout 60 "$CHROMIUM" "${DUMP[@]}" --user-data-dir="$S" > /dev/null 2> "$WORK/foreign.log"
check "a lock from another host: Chromium will not start on the folder" \
    grep -qi "another computer" "$WORK/foreign.log"
"$CTL" holders "$S" --json > "$WORK/foreign.json"
check "holders reports that lock (not stale: another host's)" test \
    "$(jq -r '.locks[0] | "\(.owner_pid) \(.stale)"' "$WORK/foreign.json")" = "4242 false"
"$CTL" unlock "$S" --json > "$WORK/foreign-unlock.json"
check "unlock removes it (exit 0)" test $? -eq 0 -a ! -L "$S/SingletonLock"
timeout 60 "$CHROMIUM" "${DUMP[@]}" --user-data-dir="$S" > /dev/null 2> "$WORK/foreign2.log"
check "and Chromium starts on the folder again" test $? -eq 0
check "without a word about another computer" bash -c "! grep -qi 'another computer' '$WORK/foreign2.log'"

# Idempotent; a folder that does not exist yet is not locked.
"$CTL" unlock "$S" --json > "$WORK/unlock2.json"
check "unlock again: exit 0, nothing to end" test $? -eq 0 -a "$(jq '.killed | length' "$WORK/unlock2.json")" = 0
"$CTL" unlock "$R/.wwebjs_auth/session-new" > /dev/null
check "unlock of a session that does not exist yet: exit 0" test $? -eq 0
"$CTL" unlock "$S/marker.txt" > /dev/null 2>&1
check "unlock of a file: exit 2" test $? -eq 2

# --- the README's lines, as a whatsapp-web.js bot runs them before initialize --
launcher=$(start_bot)
browser=$(cat "$WORK/browser")
kill -9 "$launcher"; gone "$launcher"
awk '/<!-- bot-unlock -->/ {on = 1; next} on && /^```js/ {code = 1; next} code && /^```/ {exit} code' \
    "$README" > "$WORK/unlock-snippet.js"
check "the README has the bot's unlock lines" grep -q "latchkeyctl" "$WORK/unlock-snippet.js"
cat > "$WORK/bot.js" <<EOF
// What a bot does: the README's lines, then its own start (here: Chromium on
// the same folder, as Puppeteer would start it).
const clientId = 'bot1';
$(cat "$WORK/unlock-snippet.js")
const { spawn } = require('child_process');
const b = spawn(process.env.CHROMIUM, [...JSON.parse(process.env.FLAGS), '--user-data-dir=' + dir,
                process.env.URL], { stdio: 'ignore' });
require('fs').writeFileSync(process.env.PIDFILE, String(b.pid));
b.on('exit', () => process.exit(0));
EOF
(cd "$R" && PATH="$(dirname "$CTL"):$PATH" CHROMIUM="$CHROMIUM" URL="$URL" PIDFILE="$WORK/bot-browser" \
    FLAGS="$(printf '%s\n' "${FLAGS[@]}" | jq -R . | jq -s -c .)" node "$WORK/bot.js" > "$WORK/bot.log" 2>&1 &
    echo $! > "$WORK/bot.pid")
track "$(cat "$WORK/bot.pid")"
for i in $(seq 1 1500); do [ -s "$WORK/bot-browser" ] && [ -s "$S/DevToolsActivePort" ] && break; sleep 0.02; done
check "README lines: the crashed bot's orphan was ended" gone "$browser"
check "README lines: the bot's new browser runs" alive "$(cat "$WORK/bot-browser" 2>/dev/null || echo 0)"
track "$(cat "$WORK/bot-browser" 2>/dev/null)"
"$CTL" qr "$S" --json --timeout 20 > /dev/null
check "README lines: the bot is still linked (qr exit 3)" test $? -eq 3
"$CTL" stop "$S" > /dev/null
finish
