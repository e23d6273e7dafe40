#!/usr/bin/env bash
# Installs what Latchkey needs on Debian/Ubuntu, and only what is missing.
#   debian.sh run    build and run the app
#   debian.sh test   also everything the test suite needs (Chromium, mingw, wine, Xvfb...)
set -euo pipefail

mode=${1:-test}
SUDO=
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive

run_pkgs=(build-essential cmake pkg-config libjansson-dev libcurl4-openssl-dev
          libwebsockets-dev libqrencode-dev libgtk-3-dev libayatana-appindicator3-dev chromium
          gettext librsvg2-bin)
test_pkgs=(gcc-mingw-w64-x86-64 wine wine64 dpkg-dev nsis xvfb dbus xdotool zbar-tools imagemagick
           jq lsof psmisc clang desktop-file-utils python3-gi gir1.2-atspi-2.0 at-spi2-core
           xclip trayer x11-utils nodejs e2fsprogs util-linux passwd
           # The Windows cross-build of GTK 3 (installer/deps/mingw-stack.sh): C++ for
           # harfbuzz and pango, meson, Debian's mingw zlib, GLib's build tools (the
           # same version as the cross-built GLib), patch for Debian's patches.
           g++-mingw-w64-x86-64-win32 meson ninja-build libz-mingw-w64-dev libglib2.0-dev-bin
           patch xz-utils bzip2
           # What the Windows app carries from the build machine: icon themes, and
           # the icon cache tool.
           adwaita-icon-theme hicolor-icon-theme gtk-update-icon-cache
           # The tray app under wine: wine's own fonts (Tahoma...), and OCR to read
           # what the screen shows (English and Indonesian).
           fonts-wine tesseract-ocr tesseract-ocr-eng tesseract-ocr-ind)

case "$mode" in
run) pkgs=("${run_pkgs[@]}") ;;
test) pkgs=("${run_pkgs[@]}" "${test_pkgs[@]}") ;;
*) echo "usage: $0 run|test" >&2; exit 2 ;;
esac

# The Windows cross-build compiles its dependencies from Debian's source
# packages, so apt needs deb-src entries next to the deb ones.
add_deb_src() {
    local changed=0 f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -e "$f" ] || continue
        if grep -q '^Types:.*\bdeb\b' "$f" && ! grep -q '^Types:.*deb-src' "$f"; then
            $SUDO sed -i 's/^Types: *deb *$/Types: deb deb-src/' "$f"
            changed=1
        fi
    done
    if [ -f /etc/apt/sources.list ] && grep -q '^deb ' /etc/apt/sources.list &&
        ! grep -q '^deb-src ' /etc/apt/sources.list; then
        grep '^deb ' /etc/apt/sources.list | sed 's/^deb /deb-src /' |
            $SUDO tee -a /etc/apt/sources.list >/dev/null
        changed=1
    fi
    return $((1 - changed))
}

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

need_update=0
if [ "$mode" = test ] && add_deb_src; then need_update=1; fi
if [ "$mode" = test ] && ! ls /var/lib/apt/lists/*Sources* >/dev/null 2>&1; then need_update=1; fi
if [ ${#missing[@]} -gt 0 ]; then need_update=1; fi

if [ $need_update -eq 1 ]; then
    $SUDO apt-get update -q </dev/null
fi
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
fi
echo "dependencies ready ($mode)"
