# Shared by the GUI tests: a private X server, session bus and home for the
# app, screenshots kept as artifacts, the fixture page.
# A test script starts with: . "$(dirname "$0")/lib.sh"
# Its arguments (from CMakeLists.txt): latchkey latchkeyctl hold_helper fixture_serve fixtures-dir
APP=$1 CTL=$2 HELPER=$3 SERVE=$4 FIXTURES=$5
LK_GUI_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$LK_GUI_DIR/../integration/lib.sh"

CHROMIUM=${LATCHKEY_CHROMIUM:-$(command -v chromium || command -v google-chrome || true)}
[ -n "$CHROMIUM" ] || { bad "no Chromium found (installer/deps/debian.sh test installs it)"; finish; exit 1; }
export LATCHKEY_CHROMIUM=$CHROMIUM
for tool in Xvfb xprop dbus-daemon import zbarimg xdotool; do
    command -v "$tool" >/dev/null ||
        { bad "$tool is missing (installer/deps/debian.sh test installs it)"; finish; exit 1; }
done

# Screenshots of this test go to $SHOTS/<test name>/, kept after the run.
SHOTS=${SHOTS:-$WORK/shots}/$(basename "$0" .sh)
rm -rf "$SHOTS"
mkdir -p "$SHOTS"

# A display of our own.
start_xvfb 1280x800 || { finish; exit 1; }

# A session bus of our own: GApplication's single instance lives on it.
eval "$(dbus-daemon --session --fork --print-address=1 --print-pid=1 |
        { read -r a; read -r p; echo "export DBUS_SESSION_BUS_ADDRESS='$a'; DBUS_PID=$p"; })"
track "$DBUS_PID"

export XDG_RUNTIME_DIR=$WORK/run XDG_CONFIG_HOME=$WORK/config XDG_DATA_HOME=$WORK/data
export XDG_CACHE_HOME=$WORK/cache LATCHKEY_HOME=$WORK/home
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
export GDK_BACKEND=x11 NO_AT_BRIDGE=1 GTK_A11Y=none

# The fixture page, served on a free port.
"$SERVE" --root "$FIXTURES" --port-file "$WORK/port" --lifetime 900 >/dev/null 2>&1 &
track "$!"
for i in $(seq 1 200); do [ -s "$WORK/port" ] && break; sleep 0.02; done
PORT=$(cat "$WORK/port")
BASE="http://127.0.0.1:$PORT/whatsapp.html"

# shot_path NAME: the next screenshot's file name. The count lives in a
# file: shots are often taken inside $(...), a subshell.
shot_path() {
    local n
    n=$(($(cat "$SHOTS/.count" 2>/dev/null || echo 0) + 1))
    echo "$n" > "$SHOTS/.count"
    echo "$SHOTS/$(printf '%02d' "$n")-$1.png"
}

# shot NAME: a screenshot of the whole screen; prints its path.
shot() {
    local f
    f=$(shot_path "$1")
    import -window root "$f" 2>/dev/null
    echo "$f"
}

# screen_qr NAME: decodes the QR code on screen now; prints its text, or
# nothing when no QR code is visible. The screenshot is kept.
screen_qr() {
    zbarimg --quiet --raw "$(shot "$1")" 2>/dev/null | head -1
}

# wait_qr NAME WANT [SECONDS]: until the screen shows a QR code reading WANT.
wait_qr() {
    local name=$1 want=$2 secs=${3:-20} end got=
    end=$((SECONDS + secs))
    while [ $SECONDS -lt "$end" ]; do
        got=$(screen_qr "$name")
        [ "$got" = "$want" ] && return 0
        sleep 0.3
    done
    echo "screen shows QR '$got', want '$want'" >&2
    return 1
}

# window_of TITLE-REGEX [SECONDS]: the X window id of a visible window.
window_of() {
    local end=$((SECONDS + ${2:-20})) w
    while [ $SECONDS -lt "$end" ]; do
        w=$(xdotool search --onlyvisible --name "$1" 2>/dev/null | head -1)
        [ -n "$w" ] && { echo "$w"; return 0; }
        sleep 0.2
    done
    return 1
}

# Chromium processes whose command line names a folder under $WORK.
our_chromium() { pgrep -f -- "--user-data-dir=$WORK" || true; }

# a11y_bus_up: the accessibility bus and its registry, started and answering
# before the app starts. GTK's bridge asks the session bus for the
# accessibility bus once, when the app starts; starting the bus and then the
# registry on demand can take longer on a loaded machine than the bridge
# waits, and the app would then never be on the bus (every later check
# failing on it). Without them the test stops here and says why.
a11y_bus_up() {
    local end=$((SECONDS + 180)) addr=
    while [ $SECONDS -lt $end ]; do
        addr=$(dbus-send --session --print-reply=literal --reply-timeout=30000 --dest=org.a11y.Bus \
            /org/a11y/bus org.a11y.Bus.GetAddress 2>/dev/null | tr -d ' ')
        if [ -n "$addr" ] &&
            dbus-send --bus="$addr" --print-reply --reply-timeout=30000 --dest=org.a11y.atspi.Registry \
                /org/a11y/atspi/accessible/root org.freedesktop.DBus.Properties.Get \
                string:org.a11y.atspi.Accessible string:ChildCount >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.5
    done
    bad "the accessibility bus did not answer within 180 s (bus: '${addr}')"
    finish
    exit 1
}

# app_on_bus PROBE...: until the app answers PROBE (the test's own AT-SPI
# query) over the accessibility bus, up to 120 s. Otherwise the test stops
# at once, saying whether the app still runs and what it logged, instead of
# failing every later check on it until its time runs out.
app_on_bus() {
    local end=$((SECONDS + 120))
    while [ $SECONDS -lt $end ]; do
        if "$@"; then
            ok "the dashboard answers over AT-SPI"
            return 0
        fi
        alive "$APP_PID" || break
        sleep 0.2
    done
    bad "the dashboard answers over AT-SPI"
    echo "# the app (pid $APP_PID) $(alive "$APP_PID" && echo "still runs" || echo "has ended"); its log:"
    tail -n 40 "$WORK/app.log" | sed 's/^/# app: /'
    finish
    exit 1
}

# use_atspi: the app started after this exposes its widgets over AT-SPI
# (lib.sh turns GTK's accessibility bridge off by default), and $PY is a
# python3 with the Atspi bindings.
use_atspi() {
    local p
    unset NO_AT_BRIDGE GTK_A11Y
    # The tests' AT-SPI clients import a11y_common.py from this folder.
    export PYTHONPATH="$LK_GUI_DIR${PYTHONPATH:+:$PYTHONPATH}"
    PY=
    for p in /usr/bin/python3 python3; do
        if "$p" -c 'import gi; gi.require_version("Atspi", "2.0"); from gi.repository import Atspi' \
            2>/dev/null; then
            PY=$p
            a11y_bus_up
            return 0
        fi
    done
    bad "python3-gi with gir1.2-atspi-2.0 is missing (installer/deps/debian.sh test installs it)"
    finish
    exit 1
}

# start_trayer: a notification area (trayer) for the tray icon to dock in.
# trayer needs no accessibility bridge: left on, it would wait on the AT-SPI
# bus at start-up, long on a loaded machine (two builds beside an ASan run),
# which also makes mapping it slow. Without it no later check could mean
# anything: then the test stops here and says why.
start_trayer() {
    local end=$((SECONDS + 180)) pid=
    while [ $SECONDS -lt $end ]; do
        if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
            # Not started yet, or it ended (it said why in its log): again.
            [ -z "$pid" ] || sed 's/^/# trayer ended: /' "$WORK/trayer.log"
            NO_AT_BRIDGE=1 trayer --edge bottom --align right --widthtype request --height 32 \
                --SetDockType false --expand false --transparent false >"$WORK/trayer.log" 2>&1 &
            pid=$!
            track "$pid"
        fi
        if xdotool search --onlyvisible --class "^trayer$" 2>/dev/null | grep -q .; then
            ok "the notification area (trayer) is up"
            return 0
        fi
        sleep 0.2
    done
    bad "the notification area (trayer) did not come up within 180 s"
    sed 's/^/# trayer: /' "$WORK/trayer.log"
    finish
    exit 1
}
