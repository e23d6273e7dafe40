# Shared by the one-owner and soak scripts (sourced after integration/lib.sh).

# The renderer processes of a profile.
renderers_of() {
    local p
    for p in $(profile_pids "$1"); do
        cmdline_of "$p" | grep -Eq -- '(^| )--type=renderer( |$)' && echo "$p"
    done
    return 0
}
jqe() { jq -e "$@" >/dev/null; }
# link_bg DIR NAME [ARGS...]: `latchkeyctl link --json` on DIR in the
# background, its lines in $WORK/NAME.out and its messages in
# $WORK/NAME.err; its pid in LP.
link_bg() {
    local dir=$1 name=$2
    shift 2
    "$CTL" link "$dir" --json --timeout 600 "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
    LP=$!
    track "$LP"
}
link_shows_qr() { grep -q '"state":"qr"' "$WORK/$1.out"; }
# Every Chromium process of profile DIR is in its current browser's group:
# none is left over from an earlier browser.
one_generation() {
    local b p
    b=$(browser_of "$1") || return 1
    for p in $(profile_pids "$1"); do
        [ "$(ps -o pgid= -p "$p" | tr -d ' ')" = "$b" ] || [ ! -e "/proc/$p" ] || return 1
    done
}
no_chromium_on() { [ -z "$(profile_pids "$1")" ]; }

# exit_is PID CODE: waits for PID (a job of this shell) and checks its status.
# exit_is PID CODE [SECONDS]: waits (180 s at most) for PID, a job of this
# shell, to end and checks its status (LAST_EXIT: the status, or "running").
exit_is() {
    local end=$((SECONDS + ${3:-180})) rc=0
    while alive "$1"; do
        [ $SECONDS -lt "$end" ] || { LAST_EXIT=running; return 1; }
        sleep 0.2
    done
    wait "$1" || rc=$?
    LAST_EXIT=$rc
    [ "$rc" = "$2" ]
}

# holds_for SECONDS COMMAND...: COMMAND stays true for the whole span (an
# observation window: nothing may come back in it).
holds_for() {
    local end=$((SECONDS + $1))
    shift
    while [ $SECONDS -lt "$end" ]; do "$@" || return 1; sleep 0.5; done
}

# page_state DIR: the page's state as latchkeyctl status reads it (attached).
page_state() { "$CTL" status "$1" --json 2>/dev/null | jq -r '.page.state // "none"'; }
page_is() { [ "$(page_state "$1")" = "$2" ]; }
# a new browser, other than OLD, runs DIR and its page shows a QR code
healed_browser() { local b; b=$(browser_of "$1") && [ "$b" != "$2" ] && page_is "$1" qr; }
# none of the renderers OLD... runs DIR any more, and its page shows a QR code
healed_renderer() {
    local dir=$1 p
    shift
    for p in "$@"; do kill -0 "$p" 2>/dev/null && return 1; done
    page_is "$dir" qr
}

fd_count() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
thread_count() { ls "/proc/$1/task" 2>/dev/null | wc -l; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
# Zombies among PID's children.
zombies_of() { ps -o stat= --ppid "$1" 2>/dev/null | grep -c '^Z' || true; }
