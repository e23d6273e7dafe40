#!/usr/bin/env bash
# The dashboard and the tray icon, on three sessions under the default session
# root ($LATCHKEY_HOME/sessions), with a notification area (trayer) on the
# display so the tray icon is a real, embedded GtkStatusIcon:
#  1. alpha is idle, bravo is held by a process that is not its browser
#     (locked), charlie has a dead browser's SingletonLock (stale lock). The
#     dashboard (shown at start) lists the three with these states, read
#     through the accessibility tree; "Copy diagnostics" puts a JSON report on
#     the clipboard (read back with xclip) that says the same.
#  2. The tray icon is embedded and shows "needs attention" (its pixels are
#     the red of latchkey-attention); its menu lists each session with its
#     state; a left click on it brings the dashboard back after Ctrl+W.
#  3. The holder ends and the stale lock goes: both turn "Not running" and
#     the icon turns grey (nothing running).
#  4. "Start" on alpha (a page that rotates, then links): the row says
#     "Waiting for a scan" with the browser's pid, the icon turns amber and
#     the menu names alpha; once linked, the row says so, the icon turns
#     green; "Stop" ends its browser and the icon is grey again.
#  5. An indicator host (a StatusNotifierWatcher) appears on the session bus:
#     the app shows an AppIndicator with the state icon instead; when the host
#     goes, the GtkStatusIcon comes back.
#  6. latchkey --quit leaves no Chromium behind.
. "$(dirname "$0")/lib.sh"

use_atspi
for tool in xclip trayer jq xprop; do
    command -v "$tool" >/dev/null ||
        { bad "$tool is missing (installer/deps/debian.sh test installs it)"; finish; exit 1; }
done

# A small AT-SPI client for the app (found by its process id):
#   rows                the dashboard's table: one line a row, cells joined by tabs
#   select NAME         selects the row whose session is NAME
#   press BUTTON        clicks the dashboard's button (fails when insensitive)
#   menu                the showing menu items of the app, one a line
cat >"$WORK/a11y.py" <<'EOF'
import sys
from a11y_common import Atspi, app, cell_text, walk

PID = int(sys.argv[1])

def dashboard():
    a = app(PID)
    for j in range(a.get_child_count()):
        w = a.get_child_at_index(j)
        if w is not None and w.get_name() == "Latchkey" and \
                w.get_state_set().contains(Atspi.StateType.SHOWING):
            return w
    sys.exit("no dashboard window")

def table(w):
    for a in walk(w):
        if a.get_role() in (Atspi.Role.TREE_TABLE, Atspi.Role.TABLE):
            return a
    sys.exit("no table in the dashboard")

def rows(t):
    out = []
    for r in range(Atspi.Table.get_n_rows(t)):
        out.append([cell_text(Atspi.Table.get_accessible_at(t, r, c))
                    for c in range(Atspi.Table.get_n_columns(t))])
    return out

cmd = sys.argv[2]
if cmd == "rows":
    for r in rows(table(dashboard())):
        print("\t".join(r))
elif cmd == "select":
    t = table(dashboard())
    for i, r in enumerate(rows(t)):
        if r and r[0] == sys.argv[3]:
            Atspi.Table.add_row_selection(t, i)
            sys.exit(0)
    sys.exit("no row %r" % sys.argv[3])
elif cmd == "press":
    for a in walk(dashboard()):
        if a.get_role() == Atspi.Role.PUSH_BUTTON and a.get_name() == sys.argv[3]:
            if not a.get_state_set().contains(Atspi.StateType.SENSITIVE):
                sys.exit("button %r is insensitive" % sys.argv[3])
            a.do_action(0)
            sys.exit(0)
    sys.exit("no button %r" % sys.argv[3])
elif cmd == "menu":
    for a in walk(app(PID)):
        if a.get_role() in (Atspi.Role.MENU_ITEM, Atspi.Role.MENU) and \
                a.get_state_set().contains(Atspi.StateType.SHOWING):
            print(a.get_name())
EOF
a11y() { "$PY" "$WORK/a11y.py" "$APP_PID" "$@"; }

# row_is NAME STATE: the dashboard lists NAME with STATE (first two columns)
row_is() {
    a11y rows 2>/dev/null | awk -F '\t' -v n="$1" -v s="$2" '$1 == n && $2 == s { f = 1 } END { exit !f }'
}
# cell NAME COLUMN: one cell of NAME's row (columns from 1: session, state, pid...)
cell() { a11y rows 2>/dev/null | awk -F '\t' -v n="$1" -v c="$2" '$1 == n { print $c }'; }
clip() { xclip -o -selection clipboard 2>/dev/null; }

# The tray icon: a GtkStatusIcon's window, docked in trayer.
tray_window() { xdotool search --onlyvisible --classname '^latchkey-tray$' 2>/dev/null | head -1; }
# icon_is COLOUR NAME: at least a fifth of the icon's pixels are the state's
# colour (the lock's body); the capture is kept as a screenshot.
icon_is() {
    local w f frac
    w=$(tray_window)
    [ -n "$w" ] || return 1
    f=$(shot_path "tray-$2")
    import -window "$w" "$f" 2>/dev/null || return 1
    frac=$(convert "$f" -alpha off -fuzz 12% -fill black +opaque "$1" -fill white -opaque "$1" \
        -format '%[fx:mean]' info: 2>/dev/null)
    awk -v f="${frac:-0}" 'BEGIN { exit !(f >= 0.2) }'
}
RED='#d63a3a' AMBER='#e39b00' GREEN='#2e9d4f' GREY='#8a9099'
menu_has() { a11y menu 2>/dev/null | grep -qxF -- "$1"; }
# hover_tray: the pointer moves onto the middle of the tray icon
hover_tray() {
    local w X= Y= WIDTH= HEIGHT= SCREEN= WINDOW=
    w=$(tray_window)
    [ -n "$w" ] || return 1
    eval "$(xdotool getwindowgeometry --shell "$w")"
    [ -n "$X" ] || return 1
    xdotool mousemove $((X + WIDTH / 2)) $((Y + HEIGHT / 2 - 1)) \
        mousemove $((X + WIDTH / 2)) $((Y + HEIGHT / 2))
}
# click_tray BUTTON: clicks the middle of the tray icon
click_tray() { hover_tray && xdotool click "$1"; }
# The dashboard's X window: a normal window titled Latchkey (the tray icon's
# and its tooltip's windows carry the name too).
dash_window() {
    local w
    for w in $(xdotool search --onlyvisible --name '^Latchkey$' 2>/dev/null); do
        xprop -id "$w" _NET_WM_WINDOW_TYPE 2>/dev/null | grep -q '_NET_WM_WINDOW_TYPE_NORMAL' &&
            { echo "$w"; return 0; }
    done
    return 1
}
dash_visible() { dash_window >/dev/null; }
tooltip_visible() {
    local w
    for w in $(xdotool search --onlyvisible --classname '^latchkey$' 2>/dev/null); do
        xprop -id "$w" _NET_WM_WINDOW_TYPE 2>/dev/null | grep -q '_NET_WM_WINDOW_TYPE_TOOLTIP' &&
            return 0
    done
    return 1
}
jqe() { jq -e "$@" >/dev/null; }
dash_hidden() { ! dash_visible; }

# --- 1. three sessions ----------------------------------------------------------
ROOT=$LATCHKEY_HOME/sessions
make_profile "$ROOT/alpha"
make_profile "$ROOT/bravo"
make_profile "$ROOT/charlie"
holder=$(start_helper --open "$ROOT/bravo/Default/Cookies")
sleep 0 &
dead=$!
wait "$dead"
ln -s "$(hostname)-$dead" "$ROOT/charlie/SingletonLock"

# A notification area for the icon to dock in.
start_trayer

SEED=$((RANDOM + 1))
LATCHKEY_SITE_URL="$BASE?seed=$SEED&rotate_ms=8000&rotations=2&then=linked" \
    "$APP" >"$WORK/app.log" 2>&1 &
APP_PID=$!
track "$APP_PID"

check "the dashboard opens at start, titled Latchkey" wait_for 30 dash_visible
W=$(dash_window)
check "alpha is listed as not running" wait_for 40 row_is alpha "Not running"
check "bravo is listed as locked" wait_for 40 row_is bravo "Locked"
check "charlie is listed as having a stale lock" wait_for 40 row_is charlie "Stale lock"
a11y rows >"$WORK/rows1.txt" 2>&1
shot dashboard >/dev/null
check "exactly the three sessions are listed" test "$(wc -l <"$WORK/rows1.txt")" -eq 3

a11y select bravo && a11y press "Copy diagnostics"
check "Copy diagnostics is pressed on bravo" test $? -eq 0
check "the clipboard holds bravo's report" wait_for 20 bash -c \
    'xclip -o -selection clipboard 2>/dev/null | jq -e ".session.name == \"bravo\"" >/dev/null'
clip >"$WORK/bravo.json"
check "the report says the folder is locked and not running" \
    jqe '.session.folder_state == "locked" and .session.running == false' "$WORK/bravo.json"
check "the report names the session's folder and what is in it" jqe --arg p "$ROOT/bravo" \
    '.session.path == $p and .folder.exists and (.folder.present | index("Local State"))' \
    "$WORK/bravo.json"
check "the report has the versions of Latchkey, the OS and the browser" jqe \
    --arg c "$LATCHKEY_CHROMIUM" \
    '(.versions.latchkey | length > 0) and (.versions.os.name | length > 0) and .versions.chromium.path == $c' \
    "$WORK/bravo.json"
a11y select charlie && a11y press "Copy diagnostics"
check "charlie's report shows its stale lock" wait_for 20 bash -c \
    'xclip -o -selection clipboard 2>/dev/null | jq -e ".session.name == \"charlie\" and (.folder.present | index(\"SingletonLock\"))" >/dev/null'
clip >"$WORK/charlie.json"

# --- 2. the tray icon ------------------------------------------------------------
check "the tray icon is docked in the notification area" wait_for 20 bash -c \
    'xdotool search --onlyvisible --classname "^latchkey-tray$" | grep -q .'
check "the tray icon shows that something needs attention" wait_for 20 icon_is "$RED" attention
# The tooltip is drawn text (not on the accessibility bus): its screenshot is kept.
hover_tray
check "hovering the tray icon shows its tooltip" wait_for 20 tooltip_visible
shot tray-tooltip >/dev/null
click_tray 3
check "the tray menu lists bravo as locked" wait_for 20 menu_has "bravo — Locked"
a11y menu >"$WORK/menu1.txt" 2>&1
shot tray-menu >/dev/null
check "the tray menu lists charlie with its stale lock" grep -qxF "charlie — Stale lock" "$WORK/menu1.txt"
check "the tray menu lists alpha as not running" grep -qxF "alpha — Not running" "$WORK/menu1.txt"
check "the tray menu says two sessions need the user" grep -qxF "2 sessions need you" "$WORK/menu1.txt"
for i in Dashboard "New session" Quit; do
    check "the tray menu offers $i" grep -qxF "$i" "$WORK/menu1.txt"
done
xdotool key Escape
check "Escape closes the tray menu" wait_for 10 bash -c '! "$0" "$1" "$2" menu | grep -q .' \
    "$PY" "$WORK/a11y.py" "$APP_PID"

xdotool windowactivate --sync "$W" 2>/dev/null || xdotool windowfocus --sync "$W"
xdotool key --clearmodifiers ctrl+w
check "Ctrl+W closes the dashboard" wait_for 10 dash_hidden
click_tray 1
check "a left click on the tray icon opens the dashboard" wait_for 20 dash_visible
shot dashboard-again >/dev/null

# --- 3. the holder ends, the stale lock goes ------------------------------------
kill "$holder"
rm "$ROOT/charlie/SingletonLock"
check "bravo turns not running once its holder is gone" wait_for 40 row_is bravo "Not running"
check "charlie turns not running once its lock is gone" wait_for 40 row_is charlie "Not running"
check "the tray icon turns grey: nothing running" wait_for 20 icon_is "$GREY" idle

# --- 4. a session started from the dashboard ------------------------------------
a11y select alpha && a11y press "Start"
check "Start is pressed on alpha" test $? -eq 0
check "alpha waits for a scan" wait_for 90 row_is alpha "Waiting for a scan"
shot waiting >/dev/null
B=$(browser_of "$ROOT/alpha")
check "alpha's browser runs" test -n "$B"
check "the row shows alpha's browser pid" test -n "$B" -a "$(cell alpha 3)" = "${B:-none}"
check "the tray icon turns amber: waiting for a scan" wait_for 20 icon_is "$AMBER" waiting
click_tray 3
check "the tray menu names alpha as waiting" wait_for 20 menu_has "alpha — Waiting for a scan"
check "the tray menu says one session needs the user" menu_has "1 session needs you"
xdotool key Escape
check "alpha turns linked when the page links" wait_for 90 row_is alpha "Linked"
check "the tray icon turns green: all linked" wait_for 20 icon_is "$GREEN" linked
check "the row shows alpha's memory" test -n "$(cell alpha 5)"
check "the row shows alpha's uptime" test -n "$(cell alpha 7)"
shot linked >/dev/null
a11y select alpha && a11y press "Copy diagnostics"
check "alpha's report says linked, with its pid" wait_for 20 bash -c \
    'xclip -o -selection clipboard 2>/dev/null | jq -e --argjson b "$0" ".session.name == \"alpha\" and .session.state == \"linked\" and .session.browser_pid == \$b" >/dev/null' \
    "${B:-0}"
clip >"$WORK/alpha.json"
check "the report never carries the QR payload" bash -c '! grep -q "2@" "$0"' "$WORK/alpha.json"
a11y select alpha && a11y press "Stop"
check "Stop is pressed on alpha" test $? -eq 0
check "Stop ends alpha's browser" wait_for 60 bash -c '! kill -0 "$0" 2>/dev/null' "${B:-0}"
check "alpha is not followed any more" wait_for 40 bash -c \
    '"$0" "$1" "$2" rows | awk -F "\t" "\$1 == \"alpha\" && \$2 != \"Linked\" && \$3 == \"\" { f = 1 } END { exit !f }"' \
    "$PY" "$WORK/a11y.py" "$APP_PID"
check "the tray icon is grey again" wait_for 20 icon_is "$GREY" stopped
shot stopped >/dev/null

# --- 5. an indicator host appears, then goes -------------------------------------
# A StatusNotifierWatcher on the session bus (what a desktop's indicator host
# provides): the app registers an AppIndicator item, with the state icon's
# name, and its GtkStatusIcon leaves the notification area; when the host
# goes, the GtkStatusIcon docks again.
cat >"$WORK/watcher.py" <<'EOF'
import sys
import gi
from gi.repository import Gio, GLib

XML = """<node><interface name="org.kde.StatusNotifierWatcher">
<method name="RegisterStatusNotifierItem"><arg name="service" type="s" direction="in"/></method>
<method name="RegisterStatusNotifierHost"><arg name="service" type="s" direction="in"/></method>
<property name="RegisteredStatusNotifierItems" type="as" access="read"/>
<property name="IsStatusNotifierHostRegistered" type="b" access="read"/>
<property name="ProtocolVersion" type="i" access="read"/>
<signal name="StatusNotifierItemRegistered"><arg type="s"/></signal>
<signal name="StatusNotifierHostRegistered"/>
</interface></node>"""
out = open(sys.argv[1], "a", buffering=1)
items = []

def call(conn, sender, path, iface, method, params, inv):
    if method == "RegisterStatusNotifierItem":
        svc = params.unpack()[0]
        obj = svc if svc.startswith("/") else "/StatusNotifierItem"
        name = sender if svc.startswith("/") else svc
        items.append(name + obj)
        def got(c, res):
            try:
                v = c.call_finish(res).unpack()[0]
                out.write("item %s %s %s\n" % (name, v.get("IconName"), v.get("Status")))
            except Exception as e:
                out.write("error %s\n" % e)
        conn.call(name, obj, "org.freedesktop.DBus.Properties", "GetAll",
                  GLib.Variant("(s)", ("org.kde.StatusNotifierItem",)), None, 0, -1, None, got)
    inv.return_value(None)

def prop(conn, sender, path, iface, name):
    if name == "RegisteredStatusNotifierItems":
        return GLib.Variant("as", items)
    if name == "IsStatusNotifierHostRegistered":
        return GLib.Variant("b", True)
    return GLib.Variant("i", 0)

node = Gio.DBusNodeInfo.new_for_xml(XML)
def acquired(conn, name):
    out.write("watcher\n")
def bus(conn, name):
    conn.register_object("/StatusNotifierWatcher", node.interfaces[0], call, prop, None)
Gio.bus_own_name(Gio.BusType.SESSION, "org.kde.StatusNotifierWatcher", 0, bus, acquired, None)
GLib.MainLoop().run()
EOF
"$PY" "$WORK/watcher.py" "$WORK/watcher.log" &
WATCHER=$!
track "$WATCHER"
check "an AppIndicator item registers with the host, showing the idle icon" wait_for 30 \
    grep -qs '^item .* latchkey-idle Active$' "$WORK/watcher.log"
check "the GtkStatusIcon leaves the notification area" wait_for 20 bash -c \
    '! xdotool search --onlyvisible --classname "^latchkey-tray$" 2>/dev/null | grep -q .'
kill "$WATCHER"
check "when the host goes, the tray icon docks again" wait_for 20 bash -c \
    'xdotool search --onlyvisible --classname "^latchkey-tray$" 2>/dev/null | grep -q .'
check "the docked icon still shows the idle state" wait_for 20 icon_is "$GREY" idle-again

# --- 6. quit ----------------------------------------------------------------------
timeout 30 "$APP" --quit >>"$WORK/app.log" 2>&1
check "latchkey --quit ends the app" wait_for 30 bash -c '! kill -0 "$0" 2>/dev/null' "$APP_PID"
check "no Chromium of these sessions is left" test -z "$(pgrep -f -- "--user-data-dir=$ROOT" || true)"
if [ "$failed" -gt 0 ]; then
    echo "--- app log"
    tail -50 "$WORK/app.log"
    echo "--- last rows"
    a11y rows 2>&1 || true
fi
finish
