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
    rm -rf "$WORK"
}
trap cleanup_all EXIT

ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }
check() { # check "description" command...
    local what=$1; shift
    if "$@"; then ok "$what"; else bad "$what"; fi
}
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
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
