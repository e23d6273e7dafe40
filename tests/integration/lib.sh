# Shared by the integration scripts: checks that count, helpers that clean up.
# Usage: source lib.sh; the caller sets CTL (latchkeyctl) and HELPER (hold_helper).
set -u
passed=0
failed=0
pids=()
mounts=()
WORK=$(mktemp -d /tmp/latchkey-test.XXXXXX)

# Processes to end at exit. A file, not an array: helpers are often started
# inside $(...), a subshell whose variables die with it.
track() { echo "$1" >> "$WORK/.pids"; }

cleanup_all() {
    local m p
    for m in "${mounts[@]}"; do umount -l "$m" 2>/dev/null || true; done
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    if [ -f "$WORK/.pids" ]; then
        while read -r p; do kill -9 "$p" 2>/dev/null || true; done < "$WORK/.pids"
    fi
    # LK_TEST_KEEP=1: the work folder stays, to be looked at.
    if [ -n "${LK_TEST_KEEP:-}" ]; then
        echo "# kept: $WORK"
        return 0
    fi
    # A killed browser's helper processes may still write into its profile
    # for a moment after it is gone.
    local try
    for try in 1 2 3 4 5 6 7 8 9 10; do
        rm -rf "$WORK" 2>/dev/null && return 0
        sleep 0.5
    done
    rm -rf "$WORK"
}
trap cleanup_all EXIT

# wait_for SECONDS COMMAND...: until COMMAND succeeds. It is tried once more
# at the deadline, so that a slow COMMAND on a loaded machine still gets its
# last look.
wait_for() {
    local end=$((SECONDS + $1))
    shift
    while :; do
        "$@" && return 0
        [ "$SECONDS" -lt "$end" ] || return 1
        sleep 0.2
    done
}

# Processes whose command line names the profile DIR (the pattern never
# matches pgrep's own command line).
profile_pids() { pgrep -f -- "[-]-user-data-dir=$1( |\$)" || true; }
# A process's command line on one line. (Chromium's zygote children rewrite
# theirs into one space-separated string.) Empty once it has ended.
cmdline_of() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null; }
# The main (not --type=) Chromium process of a profile. A process that ends
# while this looks is skipped, not taken for the browser.
browser_of() {
    local p c
    for p in $(profile_pids "$1"); do
        c=$(cmdline_of "$p")
        [ -n "$c" ] || continue
        printf '%s\n' "$c" | grep -Eq -- '(^| )--type=' || { echo "$p"; return 0; }
    done
    return 1
}

ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }
check() { # check "description" command...
    local what=$1; shift
    if "$@"; then ok "$what"; else bad "$what"; fi
}
finish() {
    [ "$failed" -eq 0 ] || [ -z "${XVFB_PID:-}" ] || display_report
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}

# start_xvfb WxH: a private X server of the test's own. -displayfd lets it
# pick a free number; the display counts as started only once a client has
# connected, found the root window unmarked (a server nobody else uses) and
# read back a mark naming this test (-noreset keeps it, and everything else,
# while no client is connected). A start that fails that (a slow start under
# load, a number two servers raced for) is ended and tried again.
# Exports DISPLAY; XVFB_PID is the server.
start_xvfb() {
    local try i n pid unmarked mark="LK_TEST_DISPLAY_OWNER(STRING) = \"$WORK\""
    for try in 1 2 3; do
        : >"$WORK/display"
        Xvfb -displayfd 3 -screen 0 "$1x24" -nolisten tcp -noreset 3>"$WORK/display" >"$WORK/xvfb.log" 2>&1 &
        pid=$!
        track "$pid"
        disown "$pid" # ended at exit without a "Killed" line
        for i in $(seq 1 1200); do
            [ -s "$WORK/display" ] && break
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.05
        done
        n=$(head -1 "$WORK/display")
        if [[ "$n" =~ ^[0-9]+$ ]] &&
            unmarked=$(DISPLAY=":$n" xprop -root LK_TEST_DISPLAY_OWNER 2>/dev/null) &&
            [[ "$unmarked" != *=* ]] &&
            DISPLAY=":$n" xprop -root -f LK_TEST_DISPLAY_OWNER 8s -set LK_TEST_DISPLAY_OWNER "$WORK" &&
            [ "$(DISPLAY=":$n" xprop -root LK_TEST_DISPLAY_OWNER 2>/dev/null)" = "$mark" ]; then
            export DISPLAY=":$n"
            XVFB_PID=$pid
            return 0
        fi
        echo "# Xvfb start $try: display ':$n' is not this test's own; trying again" >&2
        sed 's/^/# xvfb: /' "$WORK/xvfb.log" >&2
        kill -9 "$pid" 2>/dev/null
    done
    bad "no X server of this test's own came up (3 tries)"
    return 1
}

# display_report: after a failure, whether the test's X server still runs
# and answers as its own, and who listens on X sockets (evidence for a
# display that went away under the test).
display_report() {
    echo "# display $DISPLAY: server pid $XVFB_PID $(kill -0 "$XVFB_PID" 2>/dev/null && echo alive || echo gone)," \
        "answers: $(xprop -root LK_TEST_DISPLAY_OWNER 2>&1 | head -1)"
    ss -xlp 2>/dev/null | grep -F .X11-unix | sed 's/^/# listening: /'
    sed 's/^/# xvfb: /' "$WORK/xvfb.log"
}

# A folder that looks like a Chromium profile.
make_profile() {
    mkdir -p "$1/Default"
    echo '{}' > "$1/Local State"
    echo cookies > "$1/Default/Cookies"
}

# start_helper ARGS...: starts hold_helper, waits until it holds everything,
# prints its pid.
start_helper() {
    local marker="$WORK/ready.$RANDOM$RANDOM" i
    "$HELPER" "$@" --ready "$marker" >/dev/null 2>&1 &
    local pid=$!
    track "$pid"
    for i in $(seq 1 500); do
        [ -e "$marker" ] && { echo "$pid"; return 0; }
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.01
    done
    echo "hold_helper did not get ready: $*" >&2
    return 1
}

# start_chrome ARGS...: like start_helper, but the program is named chrome,
# as a browser's executable is: the doctor counts a process as the browser of
# a profile only when it is Chromium, not when it merely carries the flag.
start_chrome() {
    if [ ! -x "$WORK/bin/chrome" ]; then
        mkdir -p "$WORK/bin" && cp "$HELPER" "$WORK/bin/chrome" && chmod 755 "$WORK" "$WORK/bin"
    fi
    HELPER="$WORK/bin/chrome" start_helper "$@"
}

alive() { kill -0 "$1" 2>/dev/null && [ "$(ps -o stat= -p "$1" | cut -c1)" != Z ]; }

# Waits up to 5 s for a process to be gone (reaped or zombie).
gone() {
    local i
    for i in $(seq 1 500); do alive "$1" || return 0; sleep 0.01; done
    return 1
}
