#!/usr/bin/env bash
# show_qr_bench.sh — time from `latchkey --show-qr PROFILE` to a decodable QR
# code on screen, against `latchkeyctl qr PROFILE --json` to its payload on
# stdout, on the same fixture page, N rounds side by side:
#
#   ui   a primary `latchkey --hidden` is already running (started before the
#        round, idle on a private Xvfb display and session bus); the clock starts
#        just before `latchkey --show-qr PROFILE` is forked (the forwarding client:
#        D-Bus hand-over, then the app starts or attaches the browser, reads the
#        page, draws the window). It stops at the first screen grab in which
#        zbar decodes a QR code. The screen is polled as fast as one core
#        allows: XGetImage of the root window, then zbar on it (QR symbology
#        only), in a loop; the time between grabs is the polling granularity
#        and is reported with every run.
#   cli  `latchkeyctl qr PROFILE --json --site-url URL --chromium CHROMIUM`,
#        timed by payload_timer (payload_timer.c) from fork to the payload
#        readable on its stdout, as in qr_bench.sh.
#   cli_polled  the same, with the screen poller running meanwhile (looking
#        for nothing): the poller keeps one core busy, which slows the
#        browser's start-up in the ui runs; this run bears the same load, so
#        ui minus cli_polled is what the UI itself adds (the verdict), and
#        ui minus cli is reported too.
#
# Then the same three against a browser that is already running the page (a
# bot's: headless, with a DevTools port, started once per round): ui_attach,
# cli_attach, cli_attach_polled. Without Chromium's start-up, which varies by
# hundreds of milliseconds on a busy machine, this isolates what the app
# adds: the command-line hand-over, the model, the drawing.
#
# Both use the same Chromium binary, a fresh profile folder each, and the same
# page with the same seed in a round (the payload must match). Rounds
# alternate the order. After each run: the decoded payload is checked against
# the CLI's, the app's browser must be headless (a headed one would put the
# page's own QR on screen), and no process of the profile may be left.
#
# Usage: bench/show_qr_bench.sh [-n ROUNDS] [-w WARMUP] [-o OUTDIR]
# Env:   LATCHKEY=build/default/app/tray/latchkey
#        LATCHKEYCTL=build/default/app/cli/latchkeyctl
#        FIXTURE_SERVE=build/default/tests/browser/fixture_serve
#        CHROMIUM=/usr/lib/chromium/chromium (the real binary, not the wrapper)
# Needs: Xvfb, dbus-daemon, a C compiler, libX11 headers, zbar's runtime
#        library (libzbar0, which zbarimg uses; no -dev package needed).
#
# Self-cleaning: a fresh mktemp folder; on exit every process it started is
# ended by PID, then the folder is removed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
ROUNDS=10
WARMUP=1
OUTDIR="$here/out"
LATCHKEY=${LATCHKEY:-$repo/build/default/app/tray/latchkey}
LATCHKEYCTL=${LATCHKEYCTL:-$repo/build/default/app/cli/latchkeyctl}
FIXTURE_SERVE=${FIXTURE_SERVE:-$repo/build/default/tests/browser/fixture_serve}
CHROMIUM=${CHROMIUM:-/usr/lib/chromium/chromium}
RUN_TIMEOUT_S=60

while getopts "n:w:o:h" opt; do
    case $opt in
    n) ROUNDS=$OPTARG ;;
    w) WARMUP=$OPTARG ;;
    o) OUTDIR=$OPTARG ;;
    *) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 2 ;;
    esac
done

say() { printf '== %s\n' "$*"; }
warn() { printf 'WARNING: %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 2; }

# --- tools -------------------------------------------------------------------------
[ -x "$CHROMIUM" ] || die "no Chromium at $CHROMIUM (set CHROMIUM)"
[ -x "$LATCHKEY" ] || die "no latchkey at $LATCHKEY (set LATCHKEY)"
[ -x "$LATCHKEYCTL" ] || die "no latchkeyctl at $LATCHKEYCTL (set LATCHKEYCTL)"
[ -x "$FIXTURE_SERVE" ] || die "no fixture server at $FIXTURE_SERVE (set FIXTURE_SERVE)"
for t in Xvfb dbus-daemon dbus-send cc; do command -v "$t" >/dev/null || die "$t is missing"; done
zbar_lib=$(ls /usr/lib/*/libzbar.so.0 /usr/lib/libzbar.so.0 2>/dev/null | head -1 || true)
[ -n "$zbar_lib" ] || die "no libzbar.so.0 (apt-get install libzbar0)"
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)

# --- scratch area and clean-up -------------------------------------------------------
WORK=$(mktemp -d /tmp/latchkey-showqr-bench.XXXXXX)
mkdir -p "$WORK/profiles" "$WORK/run" "$WORK/config" "$WORK/data" "$WORK/cache" "$WORK/home"
chmod 700 "$WORK/run"
started=()
primary=

cleanup() {
    local rc=$? left
    trap - EXIT INT TERM
    [ -z "$primary" ] || kill -TERM "$primary" 2>/dev/null || true
    ((${#started[@]} == 0)) || kill -TERM "${started[@]}" 2>/dev/null || true
    left=$(pgrep -f -- "$WORK" | grep -vx -e "$$" -e "$BASHPID" | tr '\n' ' ' || true)
    # shellcheck disable=SC2086
    [ -z "${left// /}" ] || kill -KILL $left 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf -- "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the screen poller ------------------------------------------------------------------
# zbar's few entry points are declared here, so only its runtime library is needed.
cat >"$WORK/screen_timer.c" <<'EOF'
/* screen_timer TIMEOUT_S PREFIX -- CMD [ARG...]: forks CMD, then grabs the
 * root window and scans it for a QR code as fast as it can, until one whose
 * text starts with PREFIX is seen. Prints one line:
 *   qr_ms=F lower_ms=F polls=N step_median_ms=F step_max_ms=F grab_ms=F
 *   scan_ms=F client_exit_ms=F client_rc=N payload=STRING
 * qr_ms is the end of the first grab that showed the code (an upper bound),
 * lower_ms the start of the grab before it (it showed none). */
#define _GNU_SOURCE
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <X11/extensions/XShm.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct zbar_image_scanner_s zbar_image_scanner_t;
typedef struct zbar_image_s zbar_image_t;
typedef struct zbar_symbol_s zbar_symbol_t;
zbar_image_scanner_t *zbar_image_scanner_create(void);
int zbar_image_scanner_set_config(zbar_image_scanner_t *, int, int, int);
zbar_image_t *zbar_image_create(void);
void zbar_image_destroy(zbar_image_t *);
void zbar_image_set_format(zbar_image_t *, unsigned long);
void zbar_image_set_size(zbar_image_t *, unsigned, unsigned);
void zbar_image_set_data(zbar_image_t *, const void *, unsigned long, void (*)(zbar_image_t *));
int zbar_scan_image(zbar_image_scanner_t *, zbar_image_t *);
const zbar_symbol_t *zbar_image_first_symbol(const zbar_image_t *);
const zbar_symbol_t *zbar_symbol_next(const zbar_symbol_t *);
const char *zbar_symbol_get_data(const zbar_symbol_t *);
#define ZBAR_NONE 0
#define ZBAR_QRCODE 64
#define ZBAR_CFG_ENABLE 0

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    double timeout, t0, prev = -1, exit_ms = -1, steps[100000], grab_sum = 0, scan_sum = 0;
    int nsteps = 0, polls = 0, client_rc = -1;
    const char *prefix;
    pid_t child;
    Display *d;
    Window root;
    XWindowAttributes wa;
    unsigned char *gray;
    zbar_image_scanner_t *sc;
    XShmSegmentInfo shm;
    XImage *shm_im = NULL;
    if (argc < 5 || strcmp(argv[3], "--") != 0) {
        fprintf(stderr, "usage: screen_timer TIMEOUT_S PREFIX -- CMD [ARG...]\n");
        return 2;
    }
    timeout = atof(argv[1]) * 1e3;
    prefix = argv[2];
    d = XOpenDisplay(NULL);
    if (!d) {
        fprintf(stderr, "screen_timer: cannot open the display\n");
        return 2;
    }
    root = DefaultRootWindow(d);
    XGetWindowAttributes(d, root, &wa);
    gray = malloc((size_t)wa.width * wa.height);
    /* Shared memory grabs cost about a tenth of XGetImage's copy over the socket. */
    if (XShmQueryExtension(d)) {
        shm_im = XShmCreateImage(d, DefaultVisual(d, DefaultScreen(d)), DefaultDepth(d, DefaultScreen(d)),
                                 ZPixmap, NULL, &shm, wa.width, wa.height);
        if (shm_im) {
            shm.shmid = shmget(IPC_PRIVATE, (size_t)shm_im->bytes_per_line * shm_im->height, IPC_CREAT | 0600);
            shm.shmaddr = shm_im->data = shm.shmid >= 0 ? shmat(shm.shmid, NULL, 0) : (char *)-1;
            shm.readOnly = False;
            if (shm.shmaddr == (char *)-1 || !XShmAttach(d, &shm)) {
                shm_im = NULL;
            } else {
                XSync(d, False);
                shmctl(shm.shmid, IPC_RMID, NULL); /* freed when both sides detach */
            }
        }
    }
    sc = zbar_image_scanner_create();
    zbar_image_scanner_set_config(sc, ZBAR_NONE, ZBAR_CFG_ENABLE, 0);
    zbar_image_scanner_set_config(sc, ZBAR_QRCODE, ZBAR_CFG_ENABLE, 1);

    t0 = now_ms();
    child = fork();
    if (child == 0) {
        if (!freopen("/dev/null", "w", stdout))
            _exit(127);
        setpgid(0, 0);
        execvp(argv[4], argv + 4);
        _exit(127);
    }
    for (;;) {
        double g0 = now_ms(), g1, s1;
        XImage *im;
        const zbar_symbol_t *sym;
        zbar_image_t *zi;
        int x, y, st;
        if (exit_ms < 0 && waitpid(child, &st, WNOHANG) == child) {
            exit_ms = now_ms() - t0;
            client_rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        if (g0 - t0 > timeout) {
            printf("qr_ms=-1 lower_ms=-1 polls=%d step_median_ms=-1 step_max_ms=-1 grab_ms=-1 "
                   "scan_ms=-1 client_exit_ms=%.1f client_rc=%d payload=-\n",
                   polls, exit_ms, client_rc);
            return 1;
        }
        if (shm_im)
            im = XShmGetImage(d, root, shm_im, 0, 0, AllPlanes) ? shm_im : NULL;
        else
            im = XGetImage(d, root, 0, 0, wa.width, wa.height, AllPlanes, ZPixmap);
        g1 = now_ms();
        if (!im)
            continue;
        for (y = 0; y < wa.height; y++) {
            const unsigned char *row = (const unsigned char *)im->data + y * im->bytes_per_line;
            for (x = 0; x < wa.width; x++)
                gray[y * wa.width + x] = row[x * 4 + 1]; /* green: black/white is all we need */
        }
        if (im != shm_im)
            XDestroyImage(im);
        zi = zbar_image_create();
        zbar_image_set_format(zi, 0x30303859UL); /* "Y800" */
        zbar_image_set_size(zi, wa.width, wa.height);
        zbar_image_set_data(zi, gray, (unsigned long)wa.width * wa.height, NULL);
        zbar_scan_image(sc, zi);
        s1 = now_ms();
        polls++;
        grab_sum += g1 - g0;
        scan_sum += s1 - g1;
        if (prev >= 0 && nsteps < 100000)
            steps[nsteps++] = g0 - prev;
        for (sym = zbar_image_first_symbol(zi); sym; sym = zbar_symbol_next(sym)) {
            const char *text = zbar_symbol_get_data(sym);
            if (text && strncmp(text, prefix, strlen(prefix)) == 0) {
                double med = -1, mx = -1;
                if (nsteps) {
                    qsort(steps, nsteps, sizeof steps[0], cmp);
                    med = steps[nsteps / 2];
                    mx = steps[nsteps - 1];
                }
                if (exit_ms < 0) { /* the client should be long gone; give it 5 s */
                    int st2, k;
                    for (k = 0; k < 500 && exit_ms < 0; k++) {
                        if (waitpid(child, &st2, WNOHANG) == child) {
                            exit_ms = now_ms() - t0;
                            client_rc = WIFEXITED(st2) ? WEXITSTATUS(st2) : 128;
                        } else {
                            usleep(10000);
                        }
                    }
                }
                printf("qr_ms=%.1f lower_ms=%.1f polls=%d step_median_ms=%.1f step_max_ms=%.1f "
                       "grab_ms=%.1f scan_ms=%.1f client_exit_ms=%.1f client_rc=%d payload=%s\n",
                       g1 - t0, prev >= 0 ? prev - t0 : 0.0, polls, med, mx, grab_sum / polls,
                       scan_sum / polls, exit_ms, client_rc, text);
                zbar_image_destroy(zi);
                return 0;
            }
        }
        zbar_image_destroy(zi);
        prev = g0;
    }
}
EOF
cc -O2 -o "$WORK/screen_timer" "$WORK/screen_timer.c" -lXext -lX11 "$zbar_lib" ||
    die "cannot build screen_timer (needs libX11/libXext headers: apt-get install libx11-dev libxext-dev)"
cc -O2 -o "$WORK/payload_timer" "$here/payload_timer.c" || die "cannot build payload_timer"

# --- a display, a session bus and a home of our own ---------------------------------------
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$WORK/display" >"$WORK/xvfb.log" 2>&1 &
started+=($!)
for ((t = 0; t < 500; t++)); do [ -s "$WORK/display" ] && break; sleep 0.01; done
[ -s "$WORK/display" ] || die "Xvfb did not start: $(cat "$WORK/xvfb.log")"
export DISPLAY=":$(head -1 "$WORK/display")"
eval "$(dbus-daemon --session --fork --print-address=1 --print-pid=1 |
    { read -r a; read -r p; echo "export DBUS_SESSION_BUS_ADDRESS='$a'; bus_pid=$p"; })"
started+=("$bus_pid")
export HOME="$WORK/home" XDG_RUNTIME_DIR="$WORK/run" XDG_CONFIG_HOME="$WORK/config"
export XDG_DATA_HOME="$WORK/data" XDG_CACHE_HOME="$WORK/cache" LATCHKEY_HOME="$WORK/lkhome"
export GDK_BACKEND=x11 NO_AT_BRIDGE=1 LATCHKEY_CHROMIUM="$CHROMIUM"
unset LATCHKEY_SITE_URL

lifetime=$(((ROUNDS + WARMUP) * 6 * RUN_TIMEOUT_S + 120))
"$FIXTURE_SERVE" --root "$repo/tests/fixtures" --port-file "$WORK/port" --lifetime "$lifetime" \
    >"$WORK/serve.out" 2>&1 &
started+=($!)
for ((t = 0; t < 250; t++)); do [ -s "$WORK/port" ] && break; sleep 0.02; done
[ -s "$WORK/port" ] || die "the fixture server did not start"
PORT=$(cat "$WORK/port")
url_for() { echo "http://127.0.0.1:$PORT/whatsapp.html?rotate_ms=60000&rotations=5&seed=$1"; }

bus_has_app() {
    dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus.ListNames 2>/dev/null | grep -qi latchkey
}
browser_of() { # the main Chromium process of a profile
    local p
    for p in $(pgrep -f -- "--user-data-dir=$1" || true); do
        tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q -- ' --type=' || { echo "$p"; return 0; }
    done
    return 1
}
field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" <<<"$2"; }
valid_payload() { [[ $1 =~ ^2@[A-Za-z0-9+/=]+,[A-Za-z0-9+/=]+,[A-Za-z0-9+/=]+,0$ ]]; }

failures=0
declare -A payload_of
csv="$OUTDIR/show_qr.csv"
echo "round,contender,position,qr_ms,lower_ms,polls,step_median_ms,step_max_ms,client_exit_ms,rc,valid,same,headless,survivors,loadavg" >"$csv"

# The screen poller alone, looking for nothing: the same CPU the ui runs' poller
# takes from the browser, for the *_polled runs.
poller=
poll_start() {
    "$WORK/screen_timer" "$RUN_TIMEOUT_S" "no QR code reads this" -- true >/dev/null 2>&1 &
    poller=$!
    sleep 0.2
}
poll_stop() {
    [ -z "$poller" ] || { kill -TERM "$poller" 2>/dev/null || true; wait "$poller" 2>/dev/null || true; }
    poller=
}
# A browser a bot started: headless, a DevTools port, the page loaded.
bot=
bot_start() { # PROFILE URL
    local t
    "$CHROMIUM" --headless=new --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --no-first-run --remote-debugging-port=0 \
        --user-data-dir="$1" "$2" >/dev/null 2>&1 &
    bot=$!
    for ((t = 0; t < 500; t++)); do [ -s "$1/DevToolsActivePort" ] && break; sleep 0.02; done
    sleep 1.5 # the page's first QR code (it stays for 60 s)
}
bot_stop() {
    local t
    [ -z "$bot" ] || kill -TERM "$bot" 2>/dev/null || true
    for ((t = 0; t < 250; t++)); do kill -0 "$bot" 2>/dev/null || break; sleep 0.02; done
    [ -z "$bot" ] || { kill -KILL "$bot" 2>/dev/null || true; wait "$bot" 2>/dev/null || true; }
    bot=
}
# Processes of a profile other than the bot's tree.
left_of() { # PROFILE
    pgrep -f -- "--user-data-dir=$1" | tr '\n' ' ' | sed 's/ $//' || true
}
record() { # ROUND NAME POSITION QR LOWER POLLS STEP_MED STEP_MAX EXIT RC PAYLOAD HEADLESS SURVIVORS LOAD
    local ok
    valid_payload "${11}" && ok=yes || ok=no
    payload_of[$1.$2]=${11}
    echo "$1,$2,$3,$4,$5,$6,$7,$8,$9,${10},$ok,-,${12},\"${13}\",${14}" >>"$csv"
    if [ "$ok" != yes ] || [ "${10}" != 0 ] || [ "${12}" = no ] || [ -n "${13}" ]; then
        warn "round $1 ($2): payload valid $ok, rc ${10}, headless ${12}, survivors ${13:-none}"
        failures=$((failures + 1))
    fi
}

run_ui() { # ROUND POSITION NAME PROFILE URL [warm]; NAME ui_attach: PROFILE runs in the bot's browser
    local r=$1 pos=$2 name=$3 p=$4 u=$5 warm=${6:-} res t qr lo pl rc hl=- b alive= load
    LATCHKEY_SITE_URL="$u" "$LATCHKEY" --hidden >"$WORK/app.$r.$name.log" 2>&1 &
    primary=$!
    for ((t = 0; t < 300; t++)); do bus_has_app && break; sleep 0.1; done
    bus_has_app || die "the primary latchkey did not come up: $(tail -3 "$WORK/app.$r.$name.log")"
    sleep 1 # let it finish starting (first scan of the roots) before the clock starts
    load=$(cut -d' ' -f1 /proc/loadavg)
    res=$("$WORK/screen_timer" "$RUN_TIMEOUT_S" "2@" -- "$LATCHKEY" --show-qr "$p" || true)
    qr=$(field qr_ms "$res") lo=$(field lower_ms "$res") pl=$(field payload "$res")
    rc=$(field client_rc "$res")
    b=$(browser_of "$p" || true)
    if [ -n "$b" ]; then
        tr '\0' ' ' <"/proc/$b/cmdline" 2>/dev/null | grep -q -- ' --headless' && hl=yes || hl=no
    fi
    "$LATCHKEY" --quit >/dev/null 2>&1 || true
    for ((t = 0; t < 300; t++)); do kill -0 "$primary" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$primary" 2>/dev/null && { warn "the primary did not quit; ending it"; kill -KILL "$primary"; }
    wait "$primary" 2>/dev/null || true
    primary=
    if [ "$name" = ui ]; then
        sleep 0.5
        alive=$(left_of "$p")
        # shellcheck disable=SC2086
        [ -z "$alive" ] || kill -KILL $alive 2>/dev/null || true
        rm -rf -- "$p"
    elif ! kill -0 "$bot" 2>/dev/null; then
        alive="the bot's browser was ended"
    fi
    if [ -n "$warm" ]; then
        printf '   warm-up  %-18s qr on screen %7s ms  (%s polls)\n' "$name" "$qr" "$(field polls "$res")"
        return 0
    fi
    printf '   round %2d  %-18s qr on screen %7s ms  (grab before %s ms; %s polls, step median %s ms, max %s ms)  client exit %s ms  headless %s  survivors: %s\n' \
        "$r" "$name" "$qr" "$lo" "$(field polls "$res")" "$(field step_median_ms "$res")" \
        "$(field step_max_ms "$res")" "$(field client_exit_ms "$res")" "$hl" "${alive:-none}"
    record "$r" "$name" "$pos" "$qr" "$lo" "$(field polls "$res")" "$(field step_median_ms "$res")" \
        "$(field step_max_ms "$res")" "$(field client_exit_ms "$res")" "$rc" "$pl" "$hl" "$alive" "$load"
}

run_cli() { # ROUND POSITION NAME PROFILE URL [warm]; NAME cli, cli_polled, cli_attach, cli_attach_polled
    local r=$1 pos=$2 name=$3 p=$4 u=$5 warm=${6:-} res pms ems rc pl alive= load args
    load=$(cut -d' ' -f1 /proc/loadavg)
    case $name in
    *attach*) args=() ;; # the bot's browser: attach, read, detach
    *) args=(--site-url "$u" --chromium "$CHROMIUM") ;;
    esac
    case $name in *polled) poll_start ;; esac
    res=$("$WORK/payload_timer" json "$RUN_TIMEOUT_S" "$WORK/out.cli" "$WORK/err.cli" -- \
        "$LATCHKEYCTL" qr "$p" --json "${args[@]}" --timeout 30)
    poll_stop
    pms=$(field payload_ms "$res") ems=$(field exit_ms "$res") rc=$(field rc "$res") pl=$(field payload "$res")
    case $name in
    *attach*) kill -0 "$bot" 2>/dev/null || alive="the bot's browser was ended" ;;
    *)
        sleep 0.5
        alive=$(left_of "$p")
        # shellcheck disable=SC2086
        [ -z "$alive" ] || kill -KILL $alive 2>/dev/null || true
        rm -rf -- "$p"
        ;;
    esac
    if [ -n "$warm" ]; then
        printf '   warm-up  %-18s payload      %7s ms\n' "$name" "$pms"
        return 0
    fi
    printf '   round %2d  %-18s payload      %7s ms  exit %s ms  rc %s  survivors: %s\n' \
        "$r" "$name" "$pms" "$ems" "$rc" "${alive:-none}"
    record "$r" "$name" "$pos" "$pms" - - - - "$ems" "$rc" "$pl" - "$alive" "$load"
}

run() { # ROUND POSITION NAME PROFILE URL [warm]
    case $3 in
    ui | ui_attach) run_ui "$@" ;;
    *) run_cli "$@" ;;
    esac
}

say "$("$CHROMIUM" --version 2>/dev/null | tail -n 1); $ROUNDS rounds (+$WARMUP warm-up); display $DISPLAY 1280x800; fixture on port $PORT"
say "$(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg); $(ls /proc | grep -c '^[0-9]') processes, $(pgrep -c -f "$CHROMIUM" || true) of them Chromium"
FRESH=(ui cli cli_polled)
ATTACH=(ui_attach cli_attach cli_attach_polled)
for ((r = 1 - WARMUP; r <= ROUNDS; r++)); do
    if ((r < 1)); then rn="w$((r + WARMUP))" warm=warm; else rn=$r warm=; fi
    u=$(url_for $((1000 + r + WARMUP)))
    # Fresh profiles: each contender starts its own browser.
    if ((r % 2)); then seq=("${FRESH[@]}"); else seq=(cli_polled cli ui); fi
    pos=0
    for c in "${seq[@]}"; do
        pos=$((pos + 1))
        run "$rn" "$pos" "$c" "$WORK/profiles/r$rn-$c" "$u" $warm
    done
    # One bot browser for the round: every contender attaches to it.
    bot_start "$WORK/profiles/r$rn-bot" "$u"
    if ((r % 2)); then seq=("${ATTACH[@]}"); else seq=(cli_attach_polled cli_attach ui_attach); fi
    pos=0
    for c in "${seq[@]}"; do
        pos=$((pos + 1))
        run "$rn" "$pos" "$c" "$WORK/profiles/r$rn-bot" "$u" $warm
    done
    bot_stop
    alive=$(left_of "$WORK/profiles/r$rn-bot")
    # shellcheck disable=SC2086
    [ -z "$alive" ] || kill -KILL $alive 2>/dev/null || true
    rm -rf -- "$WORK/profiles/r$rn-bot"
    [ -z "$warm" ] || continue
    # Same page, same seed: the screen and latchkeyctl must have read the same payload.
    for c in ui cli_polled ui_attach cli_attach cli_attach_polled; do
        if [ "${payload_of[$r.$c]}" = "${payload_of[$r.cli]}" ]; then same=yes; else same=no; fi
        sed -i "s/^\($r,$c,\([^,]*,\)\{8\}[^,]*\),-,/\1,$same,/" "$csv"
        [ "$same" = yes ] || { warn "round $r: $c read ${payload_of[$r.$c]:0:40}..., latchkeyctl ${payload_of[$r.cli]:0:40}..."; failures=$((failures + 1)); }
    done
    sed -i "s/^\($r,cli,\([^,]*,\)\{8\}[^,]*\),-,/\1,yes,/" "$csv"
done

# --- summary ---------------------------------------------------------------------------
stats() { # CONTENDER COLUMN -> "n median p90 min max" (p90: nearest rank)
    awk -F, -v c="$1" -v k="$2" 'NR > 1 && $2 == c && $k != "-" && $k >= 0 { print $k }' "$csv" |
        sort -n | awk '
        { v[++n] = $1 }
        END {
            if (n == 0) { print "0 - - - -"; exit }
            med = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
            k = int(0.9 * n); if (k < 0.9 * n) k++
            printf "%d %.1f %.1f %.1f %.1f\n", n, med, v[k], v[1], v[n]
        }'
}
paired() { # A B -> "median min max" of A - B within each round
    awk -F, -v a="$1" -v b="$2" 'NR > 1 && $4 >= 0 { v[$1 "," $2] = $4; r[$1] = 1 }
        END { for (k in r) if ((k "," a) in v && (k "," b) in v) print v[k "," a] - v[k "," b] }' "$csv" |
        sort -n | awk '{ x[++n] = $1 } END { if (!n) { print "- - -"; exit }
            printf "%.1f %.1f %.1f\n", (n % 2) ? x[(n + 1) / 2] : (x[n / 2] + x[n / 2 + 1]) / 2, x[1], x[n] }'
}
label() {
    case $1 in
    ui) echo '`latchkey --show-qr P` → QR decodable on screen (fresh profile)' ;;
    cli) echo '`latchkeyctl qr P --json` → payload (fresh profile)' ;;
    cli_polled) echo '`latchkeyctl qr P --json` → payload (fresh profile), poller running' ;;
    ui_attach) echo '`latchkey --show-qr P` → QR on screen (attach to a running browser)' ;;
    cli_attach) echo '`latchkeyctl qr P --json` → payload (attach)' ;;
    cli_attach_polled) echo '`latchkeyctl qr P --json` → payload (attach), poller running' ;;
    esac
}
md="$OUTDIR/show_qr.md"
{
    echo "| Contender | Rounds | median [ms] | p90 | min | max |"
    echo "|:---|---:|---:|---:|---:|---:|"
    for c in ui cli_polled cli ui_attach cli_attach_polled cli_attach; do
        read -r n m p9 mi mx < <(stats "$c" 4)
        echo "| $(label "$c") | $n | $m | $p9 | $mi | $mx |"
    done
    echo
    echo "| UI minus CLI, paired within each round | median [ms] | min | max |"
    echo "|:---|---:|---:|---:|"
    for pair in "ui cli_polled" "ui cli" "ui_attach cli_attach_polled" "ui_attach cli_attach"; do
        read -r a b <<<"$pair"
        read -r dm dmin dmax < <(paired "$a" "$b")
        echo "| $a − $b | $dm | $dmin | $dmax |"
    done
    read -r _ sm _ _ _ < <(stats ui 7)
    read -r _ _ _ _ stx < <(stats ui 8)
    read -r _ asm _ _ _ < <(stats ui_attach 7)
    echo
    echo "Screen polling: median step between grabs $sm ms (fresh), $asm ms (attach); the largest single step in a run $stx ms."
} >"$md"
echo
say "summary: command to a QR code in hand"
cat "$md"
read -r fm _ _ < <(paired ui cli_polled)
read -r am _ _ < <(paired ui_attach cli_attach_polled)
v() { awk -v d="$1" 'BEGIN { print (d != "-" && d < 100 ? "met" : "NOT met") }'; }
printf 'the UI adds %s ms (fresh profile) and %s ms (attach) over the CLI under the same polling load (per-round medians; target < 100 ms: %s, %s)\n' \
    "$fm" "$am" "$(v "$fm")" "$(v "$am")"
printf 'failed checks: %d; load average now %s\n' "$failures" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf 'raw: %s\n' "$csv"
