"""An AT-SPI client for the tray app's dashboard and its dialogs, for the
shell tests (lib.sh's use_atspi puts this folder on PYTHONPATH):

  python3 -m a11y_dashboard PID rows          the table, one row a line, cells
                                              joined by tabs
  python3 -m a11y_dashboard PID cell NAME TITLE
                                              the cell of session NAME in the
                                              column titled TITLE
  python3 -m a11y_dashboard PID select NAME   selects the row of session NAME
  python3 -m a11y_dashboard PID press BUTTON  clicks the dashboard's button
  python3 -m a11y_dashboard PID press-in TITLE-REGEX BUTTON
                                              clicks a button of another window
  python3 -m a11y_dashboard PID ping          answers when the app does
  python3 -m a11y_dashboard PID serve         the commands above, one a line
                                              on stdin (arguments split by
                                              tabs); after each, its output
                                              and a line "END <status>"

Exits non-zero with a message when the window, row or button is not there or
the button is insensitive. `serve` keeps one connection to the app for any
number of questions: the app's accessibility bridge keeps what it holds for
each client that ever connected, so a long test asks through one."""
import re
import sys

from a11y_common import Atspi, app, cell_text, sensitive, walk


def dashboard(pid):
    a = app(pid)
    for j in range(a.get_child_count()):
        w = a.get_child_at_index(j)
        if w is not None and w.get_name() == "Latchkey" and \
                w.get_state_set().contains(Atspi.StateType.SHOWING):
            return w
    sys.exit("no dashboard window")


def window(pid, title):
    a = app(pid)
    for j in range(a.get_child_count()):
        w = a.get_child_at_index(j)
        if w is not None and re.search(title, w.get_name() or ""):
            return w
    sys.exit("no window titled /%s/" % title)


def table(w):
    for a in walk(w):
        if a.get_role() in (Atspi.Role.TREE_TABLE, Atspi.Role.TABLE):
            return a
    sys.exit("no table in the dashboard")


def rows(t):
    return [[cell_text(Atspi.Table.get_accessible_at(t, r, c))
             for c in range(Atspi.Table.get_n_columns(t))]
            for r in range(Atspi.Table.get_n_rows(t))]


def column(t, title):
    for c in range(Atspi.Table.get_n_columns(t)):
        name = Atspi.Table.get_column_description(t, c)
        if not name:
            h = Atspi.Table.get_column_header(t, c)
            name = h.get_name() if h is not None else ""
        if name == title:
            return c
    sys.exit("no column %r" % title)


def press(w, name):
    for a in walk(w):
        if a.get_role() == Atspi.Role.PUSH_BUTTON and a.get_name() == name:
            if not sensitive(a):
                sys.exit("button %r is insensitive" % name)
            a.do_action(0)
            return
    sys.exit("no button %r" % name)


def serve(pid):
    for line in sys.stdin:
        args = line.rstrip("\n").split("\t")
        status = 0
        try:
            run(pid, args[0], args)
        except SystemExit as e:
            if e.code not in (None, 0):
                status = 1
                if isinstance(e.code, str):
                    print(e.code, file=sys.stderr)
        except Exception as e:  # the app went away, a widget died meanwhile
            status = 1
            print(e, file=sys.stderr)
        print("END %d" % status, flush=True)


def main(argv):
    pid, cmd = int(argv[1]), argv[2]
    if cmd == "serve":
        serve(pid)
    else:
        run(pid, cmd, argv[2:])


def run(pid, cmd, argv):
    """argv[0] is the command, as the shell gave it."""
    argv = [None, None] + argv
    if cmd == "rows":
        for r in rows(table(dashboard(pid))):
            print("\t".join(r))
    elif cmd == "cell":
        t = table(dashboard(pid))
        c = column(t, argv[4])
        for r in rows(t):
            if r and r[0] == argv[3]:
                print(r[c])
                return
        sys.exit("no row %r" % argv[3])
    elif cmd == "select":
        t = table(dashboard(pid))
        for i, r in enumerate(rows(t)):
            if r and r[0] == argv[3]:
                Atspi.Table.add_row_selection(t, i)
                return
        sys.exit("no row %r" % argv[3])
    elif cmd == "press":
        press(dashboard(pid), argv[3])
    elif cmd == "press-in":
        press(window(pid, argv[3]), argv[4])
    elif cmd == "ping":
        app(pid).get_name()
    else:
        sys.exit("unknown command %r" % cmd)


if __name__ == "__main__":
    main(sys.argv)
