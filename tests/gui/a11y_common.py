"""What the GUI tests' AT-SPI clients share: walking the accessibility tree
and finding the application's windows. Each test's own client (written by the
test into its work folder) imports it; lib.sh's use_atspi puts this folder on
PYTHONPATH."""
import sys

import gi

gi.require_version("Atspi", "2.0")
from gi.repository import Atspi  # noqa: E402


def walk(acc):
    """acc and everything under it, depth first."""
    yield acc
    for i in range(acc.get_child_count()):
        c = acc.get_child_at_index(i)
        if c is not None:
            yield from walk(c)


def showing(a):
    return a.get_state_set().contains(Atspi.StateType.SHOWING)


def sensitive(a):
    return a.get_state_set().contains(Atspi.StateType.SENSITIVE)


def windows(pid=None):
    """The top-level windows of the application with process id pid (of
    every application when pid is None); nothing when it is not on the bus."""
    desk = Atspi.get_desktop(0)
    for i in range(desk.get_child_count()):
        a = desk.get_child_at_index(i)
        if a is None or (pid is not None and a.get_process_id() != pid):
            continue
        for j in range(a.get_child_count()):
            w = a.get_child_at_index(j)
            if w is not None:
                yield w


def app(pid):
    """The application with process id pid; exits when it is not on the bus."""
    desk = Atspi.get_desktop(0)
    for i in range(desk.get_child_count()):
        a = desk.get_child_at_index(i)
        if a is not None and a.get_process_id() == pid:
            return a
    sys.exit("the app is not on the accessibility bus")


def cell_text(c):
    """A table cell's text: its name, or its children's names joined."""
    if c is None:
        return ""
    name = c.get_name() or ""
    if name:
        return name
    return " ".join(filter(None, (k.get_name() or "" for k in walk(c) if k is not c)))
