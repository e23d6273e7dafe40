#!/usr/bin/env bash
# The Debian package: cpack -G DEB builds it from this build folder, dpkg-deb
# shows the expected files and control fields (dependencies from the shared
# libraries the binaries link), and the package unpacked into a scratch root
# gives binaries whose libraries resolve, that run and find their installed
# data, a valid .desktop file and icons.
#
#   deb.sh --cpack CPACK --config CPackConfig.cmake --version X.Y.Z
#          --desktop-src resources/latchkey.desktop [--tray] [--icons]
. "$(dirname "$0")/../integration/lib.sh"

CPACK='' CONFIG='' VERSION='' DESKTOP_SRC='' TRAY=0 ICONS=0
while [ $# -gt 0 ]; do
    case "$1" in
    --cpack) CPACK=$2; shift 2 ;;
    --config) CONFIG=$2; shift 2 ;;
    --version) VERSION=$2; shift 2 ;;
    --desktop-src) DESKTOP_SRC=$2; shift 2 ;;
    --tray) TRAY=1; shift ;;
    --icons) ICONS=1; shift ;;
    *) echo "deb.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
for v in CPACK CONFIG VERSION DESKTOP_SRC; do
    [ -n "${!v}" ] || { echo "deb.sh: a required argument is missing ($v)" >&2; exit 2; }
done
for tool in dpkg-deb dpkg-shlibdeps desktop-file-validate; do
    command -v "$tool" >/dev/null ||
        { bad "$tool not found (installer/deps/debian.sh test installs it)"; finish; exit 1; }
done

check "the source .desktop file is valid" desktop-file-validate "$DESKTOP_SRC"

# --- build -------------------------------------------------------------------
"$CPACK" --config "$CONFIG" -G DEB -B "$WORK/pkg" > "$WORK/cpack.log" 2>&1
check "cpack -G DEB builds the package" test $? -eq 0
DEB=$(ls "$WORK"/pkg/*.deb 2>/dev/null | head -1)
[ -n "$DEB" ] || { cat "$WORK/cpack.log"; bad "no .deb in $WORK/pkg"; finish; exit 1; }
echo "package: $(basename "$DEB"), $(stat -c %s "$DEB") bytes"
check "named for Debian (latchkey_${VERSION}_<arch>.deb)" \
    sh -c "basename '$DEB' | grep -qx 'latchkey_${VERSION}_[a-z0-9]*\.deb'"

# --- contents ----------------------------------------------------------------
dpkg-deb -c "$DEB" | awk '{print $NF}' | sed 's|^\./|/|' > "$WORK/files.txt"
has() { grep -qx "$1" "$WORK/files.txt"; }
check "contains /usr/bin/latchkeyctl" has /usr/bin/latchkeyctl
check "contains the site profile" has /usr/share/latchkey/profiles/whatsapp-web.json
check "everything lives under /usr (nothing in /usr/local, nothing started at sign-in by default)" \
    sh -c "! grep -v '^/usr/\$' '$WORK/files.txt' | grep -v '^/usr/' && ! grep -q '^/usr/local' '$WORK/files.txt' && ! grep -q '/etc/xdg/autostart' '$WORK/files.txt'"
if [ "$TRAY" = 1 ]; then
    check "contains /usr/bin/latchkey" has /usr/bin/latchkey
    check "contains the desktop entry" has /usr/share/applications/latchkey.desktop
    check "contains the sign-in entry template" has /usr/share/latchkey/autostart/latchkey.desktop
    check "contains the Indonesian translation" has /usr/share/locale/id/LC_MESSAGES/latchkey.mo
fi
if [ "$ICONS" = 1 ]; then
    check "contains the scalable icon" has /usr/share/icons/hicolor/scalable/apps/latchkey.svg
    for s in 16 22 24 32 48 64 128 256; do
        check "contains the ${s}x${s} icon" has "/usr/share/icons/hicolor/${s}x${s}/apps/latchkey.png"
    done
fi

# --- control fields ----------------------------------------------------------
depends=$(dpkg-deb -f "$DEB" Depends)
echo "Depends: $depends"
check "Version is $VERSION" test "$(dpkg-deb -f "$DEB" Version)" = "$VERSION"
for lib in libc6 libjansson libwebsockets libcurl; do
    check "Depends names $lib (from dpkg-shlibdeps)" grep -q "$lib" <<<"$depends"
done
if [ "$TRAY" = 1 ]; then
    check "Depends names libgtk-3" grep -q "libgtk-3" <<<"$depends"
    check "Depends names libqrencode" grep -q "libqrencode" <<<"$depends"
fi
check "Recommends a Chromium" \
    test "$(dpkg-deb -f "$DEB" Recommends)" = "chromium | chromium-browser | google-chrome-stable"
check "Section and Maintainer are set" \
    sh -c "test -n \"\$(dpkg-deb -f '$DEB' Section)\" && test -n \"\$(dpkg-deb -f '$DEB' Maintainer)\""

# --- unpacked into a scratch root ----------------------------------------------
ROOT="$WORK/root"
dpkg -x "$DEB" "$ROOT"
check "dpkg -x unpacks it" test -x "$ROOT/usr/bin/latchkeyctl"
resolves() { ! ldd "$1" 2>&1 | grep -q "not found"; }
check "latchkeyctl's libraries all resolve" resolves "$ROOT/usr/bin/latchkeyctl"
out=$("$ROOT/usr/bin/latchkeyctl" --version 2>&1)
check "the unpacked latchkeyctl --version prints $VERSION ($out)" test "$out" = "latchkeyctl $VERSION"
check "binaries are stripped" sh -c "! file '$ROOT/usr/bin/latchkeyctl' | grep -q 'not stripped'"

# The binary finds the profiles installed next to it (bin/../share/latchkey),
# wherever the tree is: a broken installed profile is reported by its path.
echo '{broken' > "$ROOT/usr/share/latchkey/profiles/whatsapp-web.json"
mkdir -p "$WORK/s1"
"$ROOT/usr/bin/latchkeyctl" qr "$WORK/s1" --json --timeout 5 > "$WORK/qr.json" 2>/dev/null
check "the unpacked latchkeyctl reads the unpacked profile" \
    grep -qF "$ROOT/usr/share/latchkey/profiles/whatsapp-web.json" "$WORK/qr.json"

if [ "$TRAY" = 1 ]; then
    check "latchkey is an executable" test -x "$ROOT/usr/bin/latchkey"
    check "latchkey's libraries all resolve" resolves "$ROOT/usr/bin/latchkey"
    out=$(env -u DISPLAY -u WAYLAND_DISPLAY "$ROOT/usr/bin/latchkey" --version 2>&1)
    check "the unpacked latchkey --version prints $VERSION ($out)" test "$out" = "latchkey $VERSION"
    check "the packaged .desktop passes desktop-file-validate" \
        desktop-file-validate "$ROOT/usr/share/applications/latchkey.desktop"
    check "the sign-in template passes desktop-file-validate" \
        desktop-file-validate "$ROOT/usr/share/latchkey/autostart/latchkey.desktop"
    check "the desktop entry starts latchkey" grep -qx "Exec=latchkey" "$ROOT/usr/share/applications/latchkey.desktop"
    check "the sign-in entry starts latchkey in the tray" \
        grep -qx "Exec=latchkey --hidden" "$ROOT/usr/share/latchkey/autostart/latchkey.desktop"

    # Translations: the binary looks next to itself (bin/../share/locale)
    # before the prefix it was built for (/usr/local with the default preset),
    # so the package's /usr/share/locale is used wherever the tree is.
    MO=$ROOT/usr/share/locale/id/LC_MESSAGES/latchkey.mo
    in_id() { env -u DISPLAY -u WAYLAND_DISPLAY -u LC_ALL -u LC_MESSAGES LANG=C.UTF-8 LANGUAGE=id "$@"; }
    want=Penggunaan:
    if command -v gettext >/dev/null; then
        want=$(TEXTDOMAINDIR=$ROOT/usr/share/locale in_id gettext latchkey "Usage:")
    fi
    check "the packaged catalogue translates \"Usage:\" ($want)" test "$want" != "Usage:"
    out=$(in_id "$ROOT/usr/bin/latchkey" --help 2>&1 | head -1)
    check "the unpacked latchkey speaks Indonesian with LANGUAGE=id ($out)" test "$out" = "$want"
    # Proof that it is this tree's catalogue, not one from the build prefix or
    # the system: one with a marker in its place is what the binary shows.
    if command -v msgfmt >/dev/null; then
        printf 'msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n\nmsgid "Usage:"\nmsgstr "LK-RELATIVE-LOCALEDIR:"\n' \
            >"$WORK/marker.po"
        msgfmt -o "$MO" "$WORK/marker.po"
        out=$(in_id "$ROOT/usr/bin/latchkey" --help 2>&1 | head -1)
        check "latchkey reads <its bindir>/../share/locale/id/LC_MESSAGES/latchkey.mo ($out)" \
            test "$out" = "LK-RELATIVE-LOCALEDIR:"
    else
        bad "msgfmt is missing (package gettext): cannot prove where latchkey reads its catalogues"
    fi
fi
if [ "$ICONS" = 1 ]; then
    # PNG IHDR: width and height, big-endian, at bytes 16..23.
    png_size() { od -An -tu1 -j16 -N8 "$1" | awk '{print $3*256+$4 "x" $7*256+$8}'; }
    for s in 16 48 256; do
        f="$ROOT/usr/share/icons/hicolor/${s}x${s}/apps/latchkey.png"
        check "the ${s}x${s} icon is a ${s}x${s} PNG" test "$(png_size "$f")" = "${s}x${s}"
    done
    if [ "$TRAY" = 1 ]; then
        check "the desktop entry's icon is in the package" grep -qx "Icon=latchkey" "$ROOT/usr/share/applications/latchkey.desktop"
    fi
fi

finish
