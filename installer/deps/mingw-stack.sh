#!/usr/bin/env bash
# The Windows dependencies of Latchkey, cross-built for x86_64-w64-mingw32
# from Debian's source packages into one prefix outside any build folder:
#
#   ${LK_MINGW_CACHE:-${XDG_CACHE_HOME:-~/.cache}/latchkey/mingw}/<key>/prefix
#
# <key> hashes this recipe (this file, installer/deps/mingw/*, the cmake
# toolchain file), the toolchain's and tools' versions and the version of every
# source package apt offers. Every build folder and every clone on the machine
# shares the prefix; a new key (a Debian update, a recipe change) builds a new
# one. Only `apt-get source` downloads anything.
#
#   mingw-stack.sh ensure    build what is missing (nothing when complete), then
#                            print the prefix on the last line of stdout
#   mingw-stack.sh prefix    print the prefix when complete, else fail
#   mingw-stack.sh key       print the key and what went into it
#   mingw-stack.sh report    per-package build times and the prefix size
#
# Robustness: one build of a key at a time (flock on <key>.lock; a second
# caller waits, then finds it complete). Each package is installed, then gets
# its stamp; a killed build resumes at the first package without a stamp and
# rebuilds it from a clean folder (its install overwrites whatever half of it
# got in). The prefix counts as built only once the file `complete` exists,
# written last and atomically; `ensure` also checks that every file each
# package installed is still there.
#
# Parallelism: at most LK_BUILD_JOBS (default: nproc) compilers at a time.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
triple=x86_64-w64-mingw32
jobs=${LK_BUILD_JOBS:-$(nproc 2>/dev/null || echo 2)}
cache_root=${LK_MINGW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/latchkey/mingw}
sysroot=/usr/$triple

# Build order (each needs only packages before it). "name:source-package".
packages=(
    zlib:libz-mingw-w64-dev
    libffi:libffi
    pcre2:pcre2
    intl:gettext
    glib:glib2.0
    libpng:libpng1.6
    pixman:pixman
    cairo:cairo
    fribidi:fribidi
    harfbuzz:harfbuzz
    pango:pango1.0
    gdk-pixbuf:gdk-pixbuf
    libepoxy:libepoxy
    atk:at-spi2-core
    gtk:gtk+3.0
    jansson:jansson
    libwebsockets:libwebsockets
    curl:curl
    qrencode:qrencode
)

log() { printf 'mingw-stack: %s\n' "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

need() {
    local missing=() t
    for t in "$@"; do command -v "$t" >/dev/null 2>&1 || missing+=("$t"); done
    if [ ${#missing[@]} -gt 0 ]; then
        die "missing tools: ${missing[*]}. Run: bash installer/deps/debian.sh test"
    fi
}

# ---- apt: versions and downloads ------------------------------------------

# bookworm's at-spi2-core 2.46 (ATK's only source in bookworm) is not on every
# mirror; trixie's at-spi2-core still builds ATK alone against bookworm's GLib.
# It comes through a private apt configuration (its own sources list and
# index under the cache): the machine's apt sources stay as they are, and apt
# checks the signature of the index and the hash of every file as usual.
apt_alt=$cache_root/apt-trixie
apt_alt_opts=(-o "Dir::Etc::SourceList=$apt_alt/sources.list" -o Dir::Etc::SourceParts=/dev/null
              -o "Dir::State::Lists=$apt_alt/lists" -o "Dir::Cache=$apt_alt/cache")
alt_packages=" at-spi2-core "

apt_opts_for() {
    case "$alt_packages" in
    *" $1 "*) printf '%s\n' "${apt_alt_opts[@]}" ;;
    esac
}

alt_index() {
    if ls "$apt_alt/lists/"*Sources* >/dev/null 2>&1; then return 0; fi
    mkdir -p "$apt_alt/lists/partial" "$apt_alt/cache/archives/partial"
    local mirror
    mirror=$(apt-get indextargets --format '$(REPO_URI)' 'Created-By: Sources' 2>/dev/null |
        grep -v security | head -n1)
    [ -n "$mirror" ] || mirror=http://deb.debian.org/debian/
    printf 'deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s trixie main\n' \
        "$mirror" >"$apt_alt/sources.list"
    log "fetching the trixie source index for $(echo $alt_packages) ($mirror)"
    apt-get "${apt_alt_opts[@]}" -o APT::Sandbox::User=root update -q >&2 </dev/null ||
        die "apt-get update of $apt_alt failed"
}

# "package version" for each source package, from apt's index (no download).
source_versions() {
    local main=() alt=() p
    for entry in "${packages[@]}"; do
        p=${entry#*:}
        case "$p" in
        libz-mingw-w64-dev) ;;
        *) case "$alt_packages" in *" $p "*) alt+=("$p") ;; *) main+=("$p") ;; esac ;;
        esac
    done
    ls /var/lib/apt/lists/*Sources* >/dev/null 2>&1 ||
        die "apt has no source index (deb-src). Run: bash installer/deps/debian.sh test"
    {
        apt-get source --print-uris -qq "${main[@]}" </dev/null
        if [ ${#alt[@]} -gt 0 ]; then
            alt_index
            apt-get "${apt_alt_opts[@]}" source --print-uris -qq "${alt[@]}" </dev/null
        fi
    } | sed -n "s/^'[^']*' \([^ _]*\)_\([^ ]*\)\.dsc .*/\1 \2/p" | sort
    dpkg-query -W -f='libz-mingw-w64-dev ${Version}\n' libz-mingw-w64-dev 2>/dev/null ||
        die "libz-mingw-w64-dev is not installed. Run: bash installer/deps/debian.sh test"
}

tool_versions() {
    "$triple-gcc-win32" --version | head -n1
    "$triple-g++-win32" --version | head -n1
    dpkg-query -W -f='${Package} ${Version}\n' gcc-mingw-w64-x86-64-win32 g++-mingw-w64-x86-64-win32 \
        mingw-w64-x86-64-dev binutils-mingw-w64-x86-64 \
        libglib2.0-dev-bin 2>/dev/null
    meson --version
    cmake --version | head -n1
}

key_material() {
    sha256sum "$here/mingw-stack.sh" "$repo/cmake/mingw-w64-x86_64.cmake" | sed "s|  $repo/|  |"
    tool_versions
    source_versions
}

compute_key() {
    key_text=$(key_material)
    key=$(printf '%s\n' "$key_text" | sha256sum | cut -c1-16)
    dir=$cache_root/$key
    prefix=$dir/prefix
}

# apt-get source for one package into the shared download area (kept across
# keys: apt verified each file against the signed index when it landed).
# Sets $srcdir. Mirrors may lack Debian's part of a package (or of a security
# update); then its upstream tarball alone is used, and the build log says so.
download() {
    local pkg=$1 ver=$2 d
    d=$cache_root/sources/${pkg}_$ver
    srcdir=$d
    [ -e "$d/download.done" ] && return 0
    mkdir -p "$d"
    log "$pkg $ver: apt-get source"
    local opts
    mapfile -t opts < <(apt_opts_for "$pkg")
    # As root apt drops to _apt to download, which cannot write here.
    if (cd "$d" && apt-get "${opts[@]}" source --download-only -qq -o APT::Sandbox::User=root \
        "$pkg=$ver" </dev/null >/dev/null 2>"$d/apt.err"); then
        echo debian >"$d/download.done"
    elif [ -n "$(ls "$d"/*.orig.tar.* 2>/dev/null | grep -v '\.asc$')" ]; then
        log "$pkg: only the upstream tarball is on the mirror: $(grep -c 404 "$d/apt.err") file(s) of Debian's part missing"
        echo upstream >"$d/download.done"
    else
        cat "$d/apt.err" >&2
        die "apt-get source $pkg=$ver failed"
    fi
}

# The source tree of a package in $1 (a new, empty folder). Meson packages get
# Debian's patches (dpkg-source -x) when the whole source package is there.
# Autotools packages get the upstream tarball plus those of Debian's patches
# that change no build-system input: the others would make `make` rerun
# automake, which the recipe does not need.
unpack() {
    local how=$1 out=$2 orig
    orig=$(ls "$srcdir"/*.orig.tar.* | grep -v '\.asc$' | grep -v -- '-[a-z-]*\.tar' | head -n1)
    if [ "$how" = meson ] && [ "$(cat "$srcdir/download.done")" = debian ]; then
        dpkg-source --no-check -q -x "$srcdir"/*.dsc "$out" >/dev/null
        patches_note="Debian's patches applied"
        return
    fi
    mkdir -p "$out"
    tar -xf "$orig" -C "$out" --strip-components=1
    patches_note="upstream tarball only (Debian's part is not on the mirror)"
    local deb
    deb=$(ls "$srcdir"/*.debian.tar.* 2>/dev/null | head -n1 || true)
    [ -n "$deb" ] || return 0
    local t n=0 skipped=0 p
    t=$(mktemp -d)
    tar -xf "$deb" -C "$t"
    if [ -f "$t/debian/patches/series" ]; then
        while read -r p _; do
            case "$p" in '' | '#'*) continue ;; esac
            if grep -E '^\+\+\+ ' "$t/debian/patches/$p" |
                grep -qE '(configure\.ac|configure\.in|Makefile\.am|Makefile\.in|\.m4|/configure)([[:space:]]|$)'; then
                skipped=$((skipped + 1))
                continue
            fi
            patch -s -p1 -d "$out" <"$t/debian/patches/$p" || die "patch $p failed"
            n=$((n + 1))
        done <"$t/debian/patches/series"
    fi
    rm -rf "$t"
    patches_note="upstream tarball + $n of Debian's patches ($skipped change build files: left out)"
}

# ---- build helpers ----------------------------------------------------------

write_cross_file() {
    cat >"$work/cross.ini" <<EOF
[binaries]
c = '$triple-gcc-win32'
cpp = '$triple-g++-win32'
ar = '$triple-gcc-ar-win32'
strip = '$triple-strip'
windres = '$triple-windres'
nm = '$triple-nm'
pkgconfig = 'pkg-config'

[properties]
pkg_config_libdir = ['$prefix/lib/pkgconfig', '$prefix/share/pkgconfig', '$sysroot/lib/pkgconfig']
needs_exe_wrapper = true

[built-in options]
c_args = ['-I$prefix/include']
cpp_args = ['-I$prefix/include']
c_link_args = ['-L$prefix/lib', '-static-libgcc']
cpp_link_args = ['-L$prefix/lib', '-static-libgcc', '-static-libstdc++']

[host_machine]
system = 'windows'
cpu_family = 'x86_64'
cpu = 'x86_64'
endian = 'little'
EOF
}

# Meson takes the prefix's pkg-config folders from the cross file and looks up
# GLib's build tools (glib-compile-resources ...) natively; the environment
# variable would point those lookups at the Windows GLib.
build_env() {
    unset PKG_CONFIG_LIBDIR PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR CFLAGS CXXFLAGS CPPFLAGS LDFLAGS
}

cross_pkg_config() {
    export PKG_CONFIG_LIBDIR=$prefix/lib/pkgconfig:$prefix/share/pkgconfig:$sysroot/lib/pkgconfig
    export PKG_CONFIG_PATH=
}

with_meson() {
    meson setup "$bld" "$tree" --cross-file "$work/cross.ini" --prefix "$prefix" --libdir lib \
        --buildtype release -Doptimization=2 --default-library shared --wrap-mode nodownload "$@"
    meson compile -C "$bld" -j "$jobs"
    meson install -C "$bld" --strip --no-rebuild
}

# libtool drops -static-libgcc from LDFLAGS: it goes into CC instead, or
# libgcc_s_seh-1.dll would be needed at run time. The configure scripts run
# under dash where there is one: their thousands of checks go faster.
with_configure() {
    local sh=/bin/bash
    [ -x /bin/dash ] && sh=/bin/dash
    cross_pkg_config
    (cd "$bld" && CONFIG_SHELL=$sh "$sh" "$tree/configure" --host=$triple --prefix="$prefix" --enable-shared \
        --disable-static CC="$triple-gcc-win32 -static-libgcc" \
        CXX="$triple-g++-win32 -static-libgcc -static-libstdc++" \
        CPPFLAGS="-I$prefix/include" LDFLAGS="-L$prefix/lib" CFLAGS="-O2" "$@")
}

with_cmake() {
    cross_pkg_config
    cmake -S "$tree${subdir:+/$subdir}" -B "$bld" -G Ninja -Wno-dev \
        -DCMAKE_TOOLCHAIN_FILE="$repo/cmake/mingw-w64-x86_64.cmake" \
        -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix" \
        -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_FIND_ROOT_PATH="$prefix" \
        -DBUILD_SHARED_LIBS=OFF -DBUILD_TESTING=OFF "$@"
    cmake --build "$bld" --parallel "$jobs"
    cmake --install "$bld" --strip
}

# ---- the packages -------------------------------------------------------------
# One function each: build_<name>. $tree is the source, $bld an empty build
# folder; install into $prefix.

# Debian's mingw zlib (no build): its DLL joins the prefix so the bundle finds
# every DLL in one folder; headers and zlib.pc stay in the toolchain's sysroot.
build_zlib() {
    install -m 644 "$sysroot/lib/zlib1.dll" "$prefix/bin/zlib1.dll"
}

build_libffi() {
    with_configure --disable-docs --disable-multi-os-directory
    make -C "$bld" -j "$jobs" install-strip
}

build_pcre2() {
    with_configure --enable-pcre2-8 --disable-pcre2-16 --disable-pcre2-32 --enable-unicode \
        --disable-jit --disable-pcre2grep-libz --disable-pcre2grep-libbz2
    make -C "$bld" -j "$jobs" install-strip
}

# libintl only (GLib's translations and ours): gettext-runtime's intl/.
build_intl() {
    tree=$tree/gettext-runtime
    with_configure --disable-java --disable-csharp --disable-libasprintf --disable-openmp \
        --disable-curses --without-libiconv-prefix --enable-threads=windows --disable-rpath \
        --without-emacs --without-git
    make -C "$bld/intl" -j "$jobs"
    make -C "$bld/intl" install-strip
}

build_glib() {
    with_meson -Dtests=false -Dinstalled_tests=false -Dman=false -Dgtk_doc=false -Dnls=enabled \
        -Dlibmount=disabled -Dselinux=disabled -Dxattr=false -Dsysprof=disabled \
        -Dlibelf=disabled -Ddtrace=false -Dsystemtap=false
}

build_libpng() {
    with_configure
    make -C "$bld" -j "$jobs" install-strip
}

build_pixman() {
    with_meson -Dtests=disabled -Dgtk=disabled -Dlibpng=disabled -Dopenmp=disabled
}

# cairo 1.16: the win32 surface and fonts, PNG; cairo-gobject for GTK. Its
# configure forces -D_FORTIFY_SOURCE=2, which mingw-w64 cannot link without
# libssp.
build_cairo() {
    sed -i 's/-Wp,-D_FORTIFY_SOURCE=2//' "$tree/configure"
    with_configure --enable-win32 --enable-win32-font --enable-png --enable-gobject \
        --disable-xlib --disable-xlib-xrender --disable-xcb --disable-ft --disable-fc \
        --disable-gl --disable-glesv2 --disable-egl --disable-glx --disable-wgl --disable-script \
        --disable-interpreter --disable-trace --disable-symbol-lookup --disable-gtk-doc \
        --disable-valgrind
    make -C "$bld/src" -j "$jobs" install-strip
    make -C "$bld/util/cairo-gobject" -j "$jobs" install-strip
}

build_fribidi() {
    with_meson -Ddocs=false
}

# Pango and GTK use neither the font subsetter library nor the command-line
# tools, which are two fifths of harfbuzz's (slow, C++) build: not built.
build_harfbuzz() {
    sed -i "s/^subdir('util')$/# subdir('util'): no command-line tools/" "$tree/meson.build"
    awk '/^libharfbuzz_subset = library\(/ { inblk = 1 }
         inblk && /^  install: true,$/ { print "  install: false,"; print "  build_by_default: false,"; done = 1; next }
         inblk && /^\)$/ { inblk = 0 }
         { print }
         END { exit !done }' "$tree/src/meson.build" >"$tree/src/meson.build.new" ||
        die "harfbuzz: src/meson.build changed; update the recipe"
    mv "$tree/src/meson.build.new" "$tree/src/meson.build"
    grep -q "^# subdir('util')" "$tree/meson.build" || die "harfbuzz: meson.build changed"
    with_meson -Dglib=enabled -Dgobject=disabled -Dcairo=disabled -Dchafa=disabled \
        -Dicu=disabled -Dgraphite2=disabled -Dfreetype=disabled -Dgdi=disabled \
        -Ddirectwrite=disabled -Dtests=disabled -Dintrospection=disabled -Ddocs=disabled \
        -Dbenchmark=disabled
    rm -f "$prefix/lib/pkgconfig/harfbuzz-subset.pc" "$prefix/include/harfbuzz/hb-subset.h" \
        "$prefix/include/harfbuzz/hb-subset-repacker.h"
}

build_pango() {
    with_meson -Dfontconfig=disabled -Dfreetype=disabled -Dxft=disabled -Dcairo=enabled \
        -Dlibthai=disabled -Dsysprof=disabled -Dintrospection=disabled -Dgtk_doc=false \
        -Dinstall-tests=false
}

# PNG built in (the app's and Adwaita's icons are PNG), no loader modules: no
# loaders.cache to generate or ship.
build_gdk_pixbuf() {
    with_meson -Dpng=enabled -Djpeg=disabled -Dtiff=disabled -Dnative_windows_loaders=false \
        -Dbuiltin_loaders=png -Drelocatable=true -Dintrospection=disabled -Dgtk_doc=false \
        -Dman=false -Dtests=false -Dinstalled_tests=false
}

build_libepoxy() {
    with_meson -Ddocs=false -Dtests=false -Dglx=no -Degl=no -Dx11=false
}

# ATK alone from at-spi2-core: its libxml2 check serves only the D-Bus bridge,
# which atk_only does not build.
build_atk() {
    sed -i "s/^libxml_dep = dependency('libxml-2.0', version: libxml_req_version)$/libxml_dep = dependency('libxml-2.0', version: libxml_req_version, required: not get_option('atk_only'))/" \
        "$tree/meson.build"
    grep -q "required: not get_option('atk_only')" "$tree/meson.build" ||
        die "at-spi2-core: the libxml2 line of meson.build changed; update the recipe"
    with_meson -Datk_only=true -Dintrospection=disabled -Ddocs=false -Dx11=disabled
}

build_gtk() {
    with_meson -Dwin32_backend=true -Dx11_backend=false -Dwayland_backend=false \
        -Dbroadway_backend=false -Dquartz_backend=false -Dxinerama=no -Dcloudproviders=false \
        -Dprofiler=false -Dtracker3=false -Dcolord=no -Dintrospection=false -Ddemos=false \
        -Dexamples=false -Dtests=false -Dinstalled_tests=false -Dgtk_doc=false -Dman=false
}

# The four libraries of the DevTools client and the QR code: static, so that
# latchkeyctl.exe runs with no DLL beside it.
build_jansson() {
    with_cmake -DJANSSON_BUILD_SHARED_LIBS=OFF -DJANSSON_EXAMPLES=OFF \
        -DJANSSON_WITHOUT_TESTS=ON -DJANSSON_BUILD_DOCS=OFF
}

# A client over lws's default poll loop for ws://127.0.0.1: no TLS, no
# compression, no event-library plugins, no test apps.
build_libwebsockets() {
    with_cmake -DLWS_WITH_STATIC=ON -DLWS_WITH_SHARED=OFF -DLWS_WITH_SSL=OFF \
        -DLWS_WITHOUT_TESTAPPS=ON -DLWS_WITHOUT_SERVER=ON -DLWS_WITH_MINIMAL_EXAMPLES=OFF \
        -DLWS_WITH_HTTP2=OFF -DLWS_WITH_ZLIB=OFF -DLWS_WITH_LIBUV=OFF -DLWS_WITH_LIBEV=OFF \
        -DLWS_WITH_LIBEVENT=OFF -DLWS_WITH_GLIB=OFF -DLWS_WITH_EVLIB_PLUGINS=OFF \
        -DLWS_WITH_PLUGINS=OFF -DLWS_UNIX_SOCK=OFF -DLWS_IPV6=ON \
        -DLWS_WITH_EXPORT_LWSTARGETS=OFF -DDISABLE_WERROR=ON \
        -DCMAKE_DISABLE_FIND_PACKAGE_Git=TRUE -DLWS_REPRODUCIBLE=ON
    # lws writes no .pc on Windows and names its static library
    # websockets_static; the system libraries are those its CMakeLists.txt
    # links on WIN32.
    local v part n
    v=
    for part in MAJOR MINOR PATCH; do
        n=$(sed -n "s/^#define LWS_LIBRARY_VERSION_$part \([0-9]*\)$/\1/p" "$prefix/include/lws_config.h")
        [ -n "$n" ] || die "libwebsockets: no LWS_LIBRARY_VERSION_$part in lws_config.h"
        v=$v${v:+.}$n
    done
    cat >"$prefix/lib/pkgconfig/libwebsockets.pc" <<EOF
prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: libwebsockets
Description: Websockets client library (static, mingw, no TLS)
Version: $v
Libs: -L\${libdir} -lwebsockets_static
Libs.private: -lws2_32 -luserenv -lpsapi -liphlpapi -lcrypt32
Cflags: -I\${includedir}
EOF
}

# libcurl for the /json/version probe: HTTP only, no library it would need.
# curl 7.88 installs libcurl.a only along with its CMake export (keep it on).
build_curl() {
    with_cmake -DBUILD_CURL_EXE=OFF -DCURL_DISABLE_TESTS=ON -DENABLE_MANUAL=OFF \
        -DBUILD_LIBCURL_DOCS=OFF -DBUILD_MISC_DOCS=OFF -DCURL_WERROR=OFF -DHTTP_ONLY=ON \
        -DCURL_ENABLE_SSL=OFF -DCURL_USE_OPENSSL=OFF -DCURL_USE_SCHANNEL=OFF \
        -DCURL_WINDOWS_SSPI=OFF -DCURL_DISABLE_LDAP=ON -DCURL_DISABLE_LDAPS=ON \
        -DCURL_USE_LIBSSH2=OFF -DCURL_USE_LIBSSH=OFF -DCURL_USE_GSSAPI=OFF -DUSE_LIBIDN2=OFF \
        -DUSE_WIN32_IDN=OFF -DCURL_USE_LIBPSL=OFF -DCURL_BROTLI=OFF -DCURL_ZSTD=OFF \
        -DUSE_NGHTTP2=OFF -DCURL_ZLIB=OFF -DENABLE_UNIX_SOCKETS=OFF
    # curl's CMake leaves CPPFLAG_CURL_STATICLIB empty, so a consumer of the
    # static library would see __declspec(dllimport); its Libs.private repeats
    # the compiler's implicit libraries. State what a static link needs.
    local v
    v=$(sed -n 's/^#define LIBCURL_VERSION "\([0-9.]*\).*/\1/p' "$prefix/include/curl/curlver.h")
    [ -n "$v" ] || die "curl: no version in curlver.h"
    cat >"$prefix/lib/pkgconfig/libcurl.pc" <<EOF
prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include
supported_protocols="HTTP"

Name: libcurl
URL: https://curl.se/
Description: Library to transfer files (static, mingw, HTTP only)
Version: $v
Libs: -L\${libdir} -lcurl
Libs.private: -lws2_32 -lwinmm -lbcrypt -ladvapi32 -lcrypt32
Cflags: -I\${includedir} -DCURL_STATICLIB
EOF
}

# The library only. Debian's 4.1.1-1 changes only packaging.
build_qrencode() {
    with_cmake -DWITH_TOOLS=OFF -DWITHOUT_PNG=ON -DWITH_TESTS=OFF
    grep -q 'Libs: -L${libdir} -lqrencode' "$prefix/lib/pkgconfig/libqrencode.pc" ||
        die "qrencode: unexpected libqrencode.pc"
}

how_built() {
    case "$1" in
    libffi | pcre2 | intl | libpng | cairo) echo autotools ;;
    *) echo meson ;; # cmake packages take Debian's tree too
    esac
}

# ---- driver -------------------------------------------------------------------

# Every file the package put into the prefix, so a complete prefix can be
# checked cheaply and a report can say what each package weighs.
snapshot() { (cd "$prefix" && find . -type f -o -type l) | sort; }

build_one() {
    local name=$1 pkg=$2 ver=$3 t0 t1
    local stamp=$dir/stamps/$name
    [ -e "$stamp.done" ] && return 0
    t0=$(date +%s)
    work=$dir/work
    tree=$work/$name/src
    bld=$work/$name/build
    rm -rf "${work:?}/$name"
    mkdir -p "$work/$name" "$bld" "$prefix/bin" "$prefix/lib/pkgconfig"
    patches_note=""
    if [ "$name" != zlib ]; then
        download "$pkg" "$ver"
        unpack "$(how_built "$name")" "$tree"
    fi
    log "[$name] building $pkg $ver${patches_note:+ ($patches_note)} with $jobs job(s)"
    snapshot >"$stamp.before"
    # Not `( ... ) || handler`: bash ignores set -e inside a tested subshell.
    local rc
    set +e
    (
        set -euo pipefail
        build_env
        "build_${name//-/_}"
    ) >"$work/$name/log" 2>&1
    rc=$?
    set -e
    if [ $rc -ne 0 ]; then
        tail -n 60 "$work/$name/log" >&2
        die "[$name] failed ($rc); full log: $work/$name/log"
    fi
    snapshot | comm -13 "$stamp.before" - >"$stamp.files"
    rm -f "$stamp.before"
    t1=$(date +%s)
    printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$pkg" "$ver" "$((t1 - t0))" "$patches_note" >"$stamp.tmp"
    mv "$stamp.tmp" "$stamp.done"
    rm -rf "${work:?}/$name"
    log "[$name] done in $((t1 - t0)) s"
}

verify_complete() {
    [ -e "$dir/complete" ] || return 1
    local f missing=0
    for f in "$dir"/stamps/*.files; do
        while read -r p; do
            [ -e "$prefix/$p" ] || [ -L "$prefix/$p" ] || {
                log "the cached prefix lost $p: building it again"
                missing=1
                break 2
            }
        done <"$f"
    done
    if [ $missing -eq 1 ]; then
        rm -f "$dir/complete" "$dir"/stamps/*
        return 1
    fi
    return 0
}

ensure() {
    need apt-get dpkg-source dpkg-query meson ninja cmake pkg-config make patch flock \
        "$triple-gcc-win32" "$triple-g++-win32" glib-compile-resources glib-compile-schemas \
        glib-mkenums glib-genmarshal
    mkdir -p "$cache_root"
    compute_key
    if verify_complete; then
        touch "$dir/last-used"
        echo "$prefix"
        return 0
    fi
    mkdir -p "$dir/stamps"
    exec 9>"$dir.lock"
    if ! flock -n 9; then
        log "another build of $dir is running; waiting for it"
        flock 9
    fi
    if verify_complete; then
        touch "$dir/last-used"
        echo "$prefix"
        return 0
    fi
    printf '%s\n' "$key_text" >"$dir/key.txt"
    local done_stamps=("$dir"/stamps/*.done) n=0
    [ -e "${done_stamps[0]}" ] && n=${#done_stamps[@]}
    if [ "$n" -gt 0 ]; then
        log "resuming an unfinished build in $dir ($n of ${#packages[@]} packages done)"
    else
        log "building the Windows dependencies into $prefix (key $key); this takes a while"
    fi
    mkdir -p "$dir/work"
    work=$dir/work
    write_cross_file
    local t0 t1 entry name pkg ver
    t0=$(date +%s)
    for entry in "${packages[@]}"; do
        name=${entry%%:*}
        pkg=${entry#*:}
        ver=$(printf '%s\n' "$key_text" | awk -v p="$pkg" '$1 == p { print $2 }' | tail -n1)
        [ -n "$ver" ] || die "no version of $pkg in apt's index"
        build_one "$name" "$pkg" "$ver"
    done
    rm -rf "$dir/work"
    t1=$(date +%s)
    {
        echo "key $key"
        echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) core(s), $jobs job(s)"
        echo "last run $((t1 - t0)) s (a resumed build counts only its part)"
    } >"$dir/complete.tmp"
    mv "$dir/complete.tmp" "$dir/complete"
    touch "$dir/last-used"
    prune
    log "complete: $prefix"
    echo "$prefix"
}

# Prefixes of other keys nobody used for 30 days go (a branch with another
# recipe may still use a recent one).
prune() {
    local d
    for d in "$cache_root"/*/; do
        d=${d%/}
        [ "$d" = "$dir" ] || [ ! -e "$d/last-used" ] && continue
        if [ -n "$(find "$d/last-used" -mtime +30 2>/dev/null)" ]; then
            log "removing the unused prefix $d"
            rm -rf "$d" "$d.lock"
        fi
    done
}

report() {
    compute_key
    [ -e "$dir/complete" ] || die "no complete prefix for key $key"
    local total=0 name pkg ver secs note f size
    printf '%-14s %-28s %6s %8s  %s\n' package "source package" "time" size source
    for entry in "${packages[@]}"; do
        name=${entry%%:*}
        IFS=$'\t' read -r name pkg ver secs note <"$dir/stamps/$name.done"
        size=$(cd "$prefix" && tr '\n' '\0' <"$dir/stamps/$name.files" | du -ch --files0-from=- 2>/dev/null | tail -n1 | cut -f1)
        printf '%-14s %-28s %5ss %8s  %s\n' "$name" "$pkg $ver" "$secs" "$size" "${note:-}"
        total=$((total + secs))
    done
    printf 'sum of package times: %s s (%s min)\n' "$total" "$((total / 60))"
    sed -n 's/^last run /wall clock of the build: /p; s/^built /built /p' "$dir/complete"
    printf 'prefix: %s, %s\n' "$prefix" "$(du -sh "$prefix" | cut -f1)"
}

case "${1:-ensure}" in
ensure) ensure ;;
prefix)
    compute_key
    verify_complete || die "no complete prefix for key $key (run: $0 ensure)"
    echo "$prefix"
    ;;
key)
    compute_key
    echo "$key"
    printf '%s\n' "$key_text"
    ;;
report) report ;;
*)
    echo "usage: $0 ensure|prefix|key|report" >&2
    exit 2
    ;;
esac
