# Dependencies of the Windows cross-build, compiled at configure time from
# Debian's source packages with the mingw toolchain and installed (static
# libraries) into ${CMAKE_BINARY_DIR}/deps/prefix. A dependency is built once
# per build folder; later configures find its stamp and skip it. The only
# download is `apt-get source` from the machine's Debian archive.
#
#   lk_mingw_dep(NAME jansson
#                [PACKAGE <debian source package>]   default: NAME
#                [SUBDIR <folder of CMakeLists.txt inside the source>]
#                [UPSTREAM_FALLBACK]   see _lk_upstream_only
#                [CMAKE_ARGS -DOPTION=value ...])
#
# The stamp records the options: editing a CMAKE_ARGS list here rebuilds that
# dependency (only) on the next configure. A fresh build folder builds all
# four in 3-4.5 minutes on two cores (jansson ~10 s, libwebsockets ~60 s,
# curl 2-3 min, half of it its configure checks, qrencode ~5 s); later
# configures take a second.
#
# Afterwards pkg-config looks only in the prefix, so pkg_check_modules() finds
# these builds and never the build machine's native libraries.

include_guard(GLOBAL)

set(LK_DEPS_DIR ${CMAKE_BINARY_DIR}/deps)
set(LK_DEPS_PREFIX ${LK_DEPS_DIR}/prefix)
file(MAKE_DIRECTORY ${LK_DEPS_PREFIX} ${LK_DEPS_DIR}/src ${LK_DEPS_DIR}/stamps)

function(_lk_dep_fail name what detail)
  message(FATAL_ERROR
    "Windows dependency '${name}': ${what}\n${detail}\n"
    "The mingw build compiles its dependencies from Debian's source packages. Run\n"
    "    installer/deps/debian.sh test\n"
    "(as root, or with sudo) to add the deb-src entries to apt's sources, run apt-get update "
    "and install dpkg-dev and the mingw toolchain; then configure again.")
endfunction()

function(_lk_run name what)
  execute_process(COMMAND ${ARGN}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    string(LENGTH "${out}" n)
    if(n GREATER 4000)
      math(EXPR start "${n} - 4000")
      string(SUBSTRING "${out}" ${start} 4000 out)
    endif()
    message(FATAL_ERROR "Windows dependency '${name}': ${what} failed (${rc}).\n${out}\n${err}")
  endif()
endfunction()

# The version a header states, for a .pc file we write ourselves.
function(_lk_pc_version var header regex)
  file(STRINGS ${header} line REGEX "${regex}" LIMIT_COUNT 1)
  if(NOT line MATCHES "${regex}")
    message(FATAL_ERROR "Windows dependencies: no version in ${header}")
  endif()
  set(${var} ${CMAKE_MATCH_1} PARENT_SCOPE)
endfunction()

# UPSTREAM_FALLBACK: apt fetched the .dsc and the upstream tarball but not
# Debian's part (a mirror without it). Build the upstream tarball alone, once
# it matches the SHA-256 that the .dsc (itself checked by apt) gives for it.
# Only for packages whose Debian revision patches no source (qrencode).
function(_lk_upstream_only name dsc apt_err)
  file(STRINGS ${dsc} sums REGEX "^ [0-9a-f]+ [0-9]+ .*\\.orig\\.tar\\.[a-z0-9]+$")
  set(checked "")
  foreach(line IN LISTS sums)
    if(NOT line MATCHES "^ ([0-9a-f]+) [0-9]+ (.*)$")
      continue()
    endif()
    string(LENGTH "${CMAKE_MATCH_1}" n) # the SHA-256 line, not the SHA-1 or MD5 one
    if(n EQUAL 64)
      set(want ${CMAKE_MATCH_1})
      get_filename_component(dir ${dsc} DIRECTORY)
      set(file ${dir}/${CMAKE_MATCH_2})
      if(NOT EXISTS ${file})
        _lk_dep_fail(${name} "${CMAKE_MATCH_2} was not downloaded." "${apt_err}")
      endif()
      file(SHA256 ${file} got)
      if(NOT got STREQUAL want)
        file(REMOVE ${file})
        message(FATAL_ERROR "Windows dependency '${name}': ${file}: SHA-256 ${got}, the .dsc "
                            "says ${want}; removed.")
      endif()
      list(APPEND checked ${CMAKE_MATCH_2})
    endif()
  endforeach()
  if(NOT checked)
    _lk_dep_fail(${name} "no upstream tarball with a SHA-256 in ${dsc}." "${apt_err}")
  endif()
  string(STRIP "${apt_err}" apt_err)
  message(WARNING "Windows dependency ${name}: Debian's part of the source package could not be "
                  "downloaded:\n${apt_err}\nBuilding the upstream tarball ${checked} (SHA-256 "
                  "checked against the .dsc) without it.")
endfunction()

function(lk_mingw_dep)
  cmake_parse_arguments(D "UPSTREAM_FALLBACK" "NAME;PACKAGE;SUBDIR" "CMAKE_ARGS" ${ARGN})
  if(NOT D_NAME)
    message(FATAL_ERROR "lk_mingw_dep: NAME is required")
  endif()
  if(NOT D_PACKAGE)
    set(D_PACKAGE ${D_NAME})
  endif()
  # The stamp names the source package and the options it was built with:
  # changing the options here rebuilds the dependency on the next configure.
  string(MD5 args_hash "${D_PACKAGE};${D_SUBDIR};${D_UPSTREAM_FALLBACK};${D_CMAKE_ARGS}")
  set(stamp ${LK_DEPS_DIR}/stamps/${D_NAME}.installed)
  if(EXISTS ${stamp})
    file(READ ${stamp} built)
    if(built MATCHES " ${args_hash}$")
      string(REPLACE " ${args_hash}" "" built "${built}")
      message(STATUS "Windows dependency ${D_NAME}: ${built} (cached in ${LK_DEPS_PREFIX})")
      return()
    endif()
    message(STATUS "Windows dependency ${D_NAME}: options changed, building again")
    file(REMOVE ${stamp})
    file(REMOVE_RECURSE ${LK_DEPS_DIR}/build/${D_NAME})
  endif()
  string(TIMESTAMP t0 "%s")

  set(src ${LK_DEPS_DIR}/src/${D_NAME})
  file(MAKE_DIRECTORY ${src})

  # 1. The Debian source package (.dsc, upstream tarball, Debian's changes).
  #    apt checks every file against the signed Sources index as it lands.
  set(marker ${src}/download.complete)
  if(NOT EXISTS ${marker})
    find_program(LK_APT_GET apt-get)
    if(NOT LK_APT_GET)
      _lk_dep_fail(${D_NAME} "apt-get was not found." "")
    endif()
    message(STATUS "Windows dependency ${D_NAME}: apt-get source ${D_PACKAGE}")
    # As root apt drops to the _apt user to download, which cannot write into
    # the build folder; downloading as the caller is fine (and silent).
    execute_process(
      COMMAND ${LK_APT_GET} source --download-only -q -o APT::Sandbox::User=root ${D_PACKAGE}
      WORKING_DIRECTORY ${src}
      RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    file(GLOB dsc ${src}/*.dsc)
    if(rc EQUAL 0 AND dsc)
      file(WRITE ${marker} "debian\n")
    elseif(D_UPSTREAM_FALLBACK AND dsc)
      _lk_upstream_only(${D_NAME} "${dsc}" "${err}")
      file(WRITE ${marker} "upstream\n")
    else()
      _lk_dep_fail(${D_NAME} "`apt-get source ${D_PACKAGE}` failed (${rc})."
                   "${err}")
    endif()
  endif()
  file(READ ${marker} how)
  file(GLOB dsc ${src}/*.dsc)
  list(GET dsc 0 dsc)
  get_filename_component(dsc_name ${dsc} NAME_WLE)

  # 2. Unpacked with Debian's patches applied, as Debian builds it (or the
  #    upstream tarball alone, see UPSTREAM_FALLBACK).
  set(tree ${src}/tree)
  if(NOT EXISTS ${tree})
    file(REMOVE_RECURSE ${tree}.tmp)
    if(how MATCHES "upstream")
      file(GLOB orig ${src}/*.orig.tar.*)
      list(FILTER orig EXCLUDE REGEX "\\.asc$")
      file(MAKE_DIRECTORY ${tree}.tmp)
      _lk_run(${D_NAME} "unpacking the upstream tarball"
              ${CMAKE_COMMAND} -E chdir ${tree}.tmp ${CMAKE_COMMAND} -E tar xf ${orig})
      file(GLOB top LIST_DIRECTORIES true ${tree}.tmp/*)
      list(LENGTH top ntop)
      if(NOT ntop EQUAL 1 OR NOT IS_DIRECTORY "${top}")
        message(FATAL_ERROR "Windows dependency '${D_NAME}': ${orig} has no single top folder")
      endif()
      file(RENAME ${top} ${tree})
      file(REMOVE_RECURSE ${tree}.tmp)
    else()
      find_program(LK_DPKG_SOURCE dpkg-source)
      if(NOT LK_DPKG_SOURCE)
        _lk_dep_fail(${D_NAME} "dpkg-source (package dpkg-dev) was not found." "")
      endif()
      _lk_run(${D_NAME} "dpkg-source -x"
              ${LK_DPKG_SOURCE} --no-check -x ${dsc} ${tree}.tmp)
      file(RENAME ${tree}.tmp ${tree})
    endif()
  endif()
  if(how MATCHES "upstream")
    set(dsc_name "${dsc_name} (upstream tarball only)")
  endif()

  # 3. Built with our toolchain file, static, installed into the prefix.
  set(build ${LK_DEPS_DIR}/build/${D_NAME})
  set(source_dir ${tree})
  if(D_SUBDIR)
    set(source_dir ${tree}/${D_SUBDIR})
  endif()
  message(STATUS "Windows dependency ${D_NAME}: building ${dsc_name} with mingw")
  _lk_run(${D_NAME} "configure"
          ${CMAKE_COMMAND} -S ${source_dir} -B ${build} -G ${CMAKE_GENERATOR}
          -DCMAKE_TOOLCHAIN_FILE=${CMAKE_TOOLCHAIN_FILE}
          -DCMAKE_BUILD_TYPE=Release
          -DCMAKE_INSTALL_PREFIX=${LK_DEPS_PREFIX}
          -DCMAKE_PREFIX_PATH=${LK_DEPS_PREFIX}
          -DCMAKE_FIND_ROOT_PATH=${LK_DEPS_PREFIX}
          -DBUILD_SHARED_LIBS=OFF
          -DBUILD_TESTING=OFF
          -Wno-dev
          ${D_CMAKE_ARGS})
  _lk_run(${D_NAME} "build" ${CMAKE_COMMAND} --build ${build} --parallel)
  _lk_run(${D_NAME} "install" ${CMAKE_COMMAND} --install ${build})
  file(WRITE ${stamp} "${dsc_name} ${args_hash}")
  set_property(GLOBAL PROPERTY LK_DEPS_CHANGED ON)
  string(TIMESTAMP t1 "%s")
  math(EXPR secs "${t1} - ${t0}")
  message(STATUS "Windows dependency ${D_NAME}: ${dsc_name} installed in ${LK_DEPS_PREFIX} "
                 "(${secs} s)")
endfunction()

lk_mingw_dep(NAME jansson
             CMAKE_ARGS -DJANSSON_BUILD_SHARED_LIBS=OFF -DJANSSON_EXAMPLES=OFF
                        -DJANSSON_WITHOUT_TESTS=ON -DJANSSON_BUILD_DOCS=OFF)

# The DevTools client only talks to ws://127.0.0.1: a client over lws's
# default poll loop, no TLS, no compression, no event-library plugins, no
# test apps. (The fake DevTools server of tests/cdp is Linux-only.)
lk_mingw_dep(NAME libwebsockets
             CMAKE_ARGS -DLWS_WITH_STATIC=ON -DLWS_WITH_SHARED=OFF
                        -DLWS_WITH_SSL=OFF -DLWS_WITHOUT_TESTAPPS=ON
                        -DLWS_WITHOUT_SERVER=ON -DLWS_WITH_MINIMAL_EXAMPLES=OFF
                        -DLWS_WITH_HTTP2=OFF -DLWS_WITH_ZLIB=OFF -DLWS_WITH_LIBUV=OFF
                        -DLWS_WITH_LIBEV=OFF -DLWS_WITH_LIBEVENT=OFF -DLWS_WITH_GLIB=OFF
                        -DLWS_WITH_EVLIB_PLUGINS=OFF -DLWS_WITH_PLUGINS=OFF
                        -DLWS_UNIX_SOCK=OFF -DLWS_IPV6=ON -DLWS_WITH_EXPORT_LWSTARGETS=OFF
                        -DDISABLE_WERROR=ON
                        # lws stamps `git describe` of its source folder into its version:
                        # that would be our repository's HEAD. No git, no user@host.
                        -DCMAKE_DISABLE_FIND_PACKAGE_Git=TRUE -DLWS_REPRODUCIBLE=ON)

# libcurl for the /json/version probe: HTTP only, nothing it would need a
# library for (TLS, LDAP, SSH, IDN, PSL, brotli, zstd, nghttp2, zlib), no curl
# tool, tests or manual. (Keep CURL_ENABLE_EXPORT_TARGET at its default ON:
# curl 7.88 installs libcurl.a only along with its CMake export.)
lk_mingw_dep(NAME curl
             CMAKE_ARGS -DBUILD_CURL_EXE=OFF -DCURL_DISABLE_TESTS=ON -DENABLE_MANUAL=OFF
                        -DBUILD_LIBCURL_DOCS=OFF -DBUILD_MISC_DOCS=OFF -DCURL_WERROR=OFF
                        -DHTTP_ONLY=ON -DCURL_ENABLE_SSL=OFF -DCURL_USE_OPENSSL=OFF
                        -DCURL_USE_SCHANNEL=OFF -DCURL_WINDOWS_SSPI=OFF
                        -DCURL_DISABLE_LDAP=ON -DCURL_DISABLE_LDAPS=ON
                        -DCURL_USE_LIBSSH2=OFF -DCURL_USE_LIBSSH=OFF -DCURL_USE_GSSAPI=OFF
                        -DUSE_LIBIDN2=OFF -DUSE_WIN32_IDN=OFF -DCURL_USE_LIBPSL=OFF
                        -DCURL_BROTLI=OFF -DCURL_ZSTD=OFF -DUSE_NGHTTP2=OFF -DCURL_ZLIB=OFF
                        -DENABLE_UNIX_SOCKETS=OFF)

# libqrencode for the terminal QR: the library only (no qrencode tool, no PNG).
# Debian's 4.1.1-1 changes only packaging, so when a mirror lacks its
# debian.tar.xz the upstream tarball alone builds the same library.
lk_mingw_dep(NAME qrencode UPSTREAM_FALLBACK
             CMAKE_ARGS -DWITH_TOOLS=OFF -DWITHOUT_PNG=ON -DWITH_TESTS=OFF)

# ---- pkg-config files, made right for static Windows linking ----------------
# Every .pc here must give a static link everything it needs with --static:
# the Windows system libraries especially. Checked on each configure, so a fix
# here reaches a cached prefix too.

function(_lk_write_pc name content)
  set(pc ${LK_DEPS_PREFIX}/lib/pkgconfig/${name}.pc)
  set(old "")
  if(EXISTS ${pc})
    file(READ ${pc} old)
  endif()
  if(NOT old STREQUAL content)
    file(WRITE ${pc} "${content}")
    set_property(GLOBAL PROPERTY LK_DEPS_CHANGED ON)
  endif()
endfunction()

# libwebsockets writes no .pc on Windows (only `if(UNIX)`), and names its
# static library websockets_static there. Its system libraries are the ones
# its CMakeLists.txt links on WIN32 (winsock, GetAdaptersAddresses and
# if_nametoindex from iphlpapi, ...).
set(lws_version "")
foreach(part MAJOR MINOR PATCH)
  _lk_pc_version(v ${LK_DEPS_PREFIX}/include/lws_config.h
                 "#define LWS_LIBRARY_VERSION_${part} ([0-9]+)")
  string(APPEND lws_version ".${v}")
endforeach()
string(SUBSTRING ${lws_version} 1 -1 lws_version)
_lk_write_pc(libwebsockets
"prefix=${LK_DEPS_PREFIX}
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: libwebsockets
Description: Websockets client library (static, mingw, no TLS)
Version: ${lws_version}
Libs: -L\${libdir} -lwebsockets_static
Libs.private: -lws2_32 -luserenv -lpsapi -liphlpapi -lcrypt32
Cflags: -I\${includedir}
")

# curl's CMake leaves CPPFLAG_CURL_STATICLIB empty (its own TODO), so a
# consumer of the static library would see __declspec(dllimport) and fail to
# link; and its Libs.private repeats the compiler's implicit libraries. Keep
# the version, state the flags: winsock, Crypt* (advapi32) for NTLM,
# BCryptGenRandom, and what curl's CMakeLists.txt adds on WIN32 (winmm, crypt32).
_lk_pc_version(curl_version ${LK_DEPS_PREFIX}/include/curl/curlver.h
               "#define LIBCURL_VERSION \"([0-9.]+)[^\"]*\"")
_lk_write_pc(libcurl
"prefix=${LK_DEPS_PREFIX}
libdir=\${prefix}/lib
includedir=\${prefix}/include
supported_protocols=\"HTTP\"

Name: libcurl
URL: https://curl.se/
Description: Library to transfer files (static, mingw, HTTP only)
Version: ${curl_version}
Libs: -L\${libdir} -lcurl
Libs.private: -lws2_32 -lwinmm -lbcrypt -ladvapi32 -lcrypt32
Cflags: -I\${includedir} -DCURL_STATICLIB
")

# qrencode's own .pc is right (Libs.private: its thread library); check it
# rather than trust it.
file(READ ${LK_DEPS_PREFIX}/lib/pkgconfig/libqrencode.pc lk_qr_pc)
if(NOT lk_qr_pc MATCHES "Libs: -L\\\$\{libdir\} -lqrencode")
  message(FATAL_ERROR "Windows dependency qrencode: unexpected libqrencode.pc:\n${lk_qr_pc}")
endif()

# pkg_check_modules() caches its answer until its arguments change; a
# dependency built again or a .pc rewritten must be asked about again.
get_property(lk_deps_changed GLOBAL PROPERTY LK_DEPS_CHANGED)
if(lk_deps_changed)
  get_cmake_property(lk_cache_vars CACHE_VARIABLES)
  foreach(v IN LISTS lk_cache_vars)
    if(v MATCHES "^(__pkg_config_checked_|pkgcfg_lib_)")
      unset(${v} CACHE)
    endif()
  endforeach()
endif()

# pkg-config: only the prefix (PKG_CONFIG_LIBDIR replaces the default search
# path, so the build machine's own jansson.pc is never seen).
set(ENV{PKG_CONFIG_LIBDIR} ${LK_DEPS_PREFIX}/lib/pkgconfig:${LK_DEPS_PREFIX}/share/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")
# Static libraries only: ask for their private dependencies too.
set(PKG_CONFIG_ARGN --static CACHE STRING "Arguments for pkg-config" FORCE)
# pkg_check_modules(IMPORTED_TARGET) turns each -lNAME into a full path with
# find_library(), which on Windows prefers libNAME.dll.a: -lpthread would
# become winpthread's DLL import library (a libwinpthread-1.dll beside every
# .exe), and -static cannot undo a full path. Static archives first; the
# system libraries (libws2_32.a ...) are import libraries under that name.
set(CMAKE_FIND_LIBRARY_SUFFIXES .a .dll.a)
# find_library() must be allowed into the prefix (the toolchain file confines
# searches to the mingw sysroot).
list(APPEND CMAKE_FIND_ROOT_PATH ${LK_DEPS_PREFIX})
list(APPEND CMAKE_PREFIX_PATH ${LK_DEPS_PREFIX})
