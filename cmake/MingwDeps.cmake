# Dependencies of the Windows cross-build: GTK 3 and its stack (the tray app),
# jansson, libwebsockets, curl and qrencode (core, latchkeyctl), cross-built
# from Debian's source packages by installer/deps/mingw-stack.sh into one
# prefix outside the build folder:
#
#   ${XDG_CACHE_HOME:-~/.cache}/latchkey/mingw/<key>/prefix
#
# The key hashes the recipe and the version of every source package, so
# every build folder and every clone on the machine shares one build of the
# stack, and a Debian update or a recipe change builds a new one. The first
# configure on a machine builds it (about 47 minutes on two cores, see the
# README); later configures find it complete in a second or two. A killed
# build is resumed by the next configure; a prefix counts only once complete.
#
# GTK and its libraries are DLLs (bin/ of the prefix); the four libraries of
# core are static, so latchkeyctl.exe needs no DLL. Afterwards pkg-config
# looks only in the prefix (and the toolchain's sysroot, for Debian's mingw
# zlib), so pkg_check_modules() never finds the build machine's own libraries.

include_guard(GLOBAL)

find_program(LK_BASH bash REQUIRED NO_CMAKE_FIND_ROOT_PATH)
set(_lk_stack_env "")
if(LK_BUILD_JOBS)
  set(_lk_stack_env LK_BUILD_JOBS=${LK_BUILD_JOBS})
endif()
# Progress goes to stderr (shown as it happens); the prefix is the last line
# of stdout.
execute_process(
  COMMAND ${CMAKE_COMMAND} -E env ${_lk_stack_env}
          ${LK_BASH} ${PROJECT_SOURCE_DIR}/installer/deps/mingw-stack.sh ensure
  RESULT_VARIABLE _lk_rc OUTPUT_VARIABLE _lk_out)
if(NOT _lk_rc EQUAL 0)
  message(FATAL_ERROR
    "The Windows dependencies could not be built (see the messages above).\n"
    "They are cross-built from Debian's source packages. Run\n"
    "    installer/deps/debian.sh test\n"
    "(as root, or with sudo) to add the deb-src entries to apt's sources and install the mingw "
    "toolchain, meson and the rest; then configure again.")
endif()
string(STRIP "${_lk_out}" _lk_out)
string(REGEX REPLACE ".*\n" "" LK_DEPS_PREFIX "${_lk_out}")
if(NOT IS_DIRECTORY "${LK_DEPS_PREFIX}/lib/pkgconfig")
  message(FATAL_ERROR "mingw-stack.sh gave no prefix: '${_lk_out}'")
endif()
message(STATUS "Windows dependencies: ${LK_DEPS_PREFIX}")
set(LK_MINGW_SYSROOT /usr/${LK_MINGW_TRIPLE})

# A new prefix (a new key): pkg_check_modules() must ask again.
if(NOT "${LK_DEPS_PREFIX}" STREQUAL "${LK_DEPS_PREFIX_SEEN}")
  set_property(GLOBAL PROPERTY LK_DEPS_CHANGED ON)
  set(LK_DEPS_PREFIX_SEEN "${LK_DEPS_PREFIX}" CACHE INTERNAL "the prefix pkg-config last saw")
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

# pkg-config: only the prefix and the sysroot (PKG_CONFIG_LIBDIR replaces the
# default search path, so the build machine's own jansson.pc is never seen).
set(ENV{PKG_CONFIG_LIBDIR}
    ${LK_DEPS_PREFIX}/lib/pkgconfig:${LK_DEPS_PREFIX}/share/pkgconfig:${LK_MINGW_SYSROOT}/lib/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")
# Core's libraries are static: ask for their private dependencies too. (GTK's
# are DLLs: app/CMakeLists.txt asks for gtk+-3.0 without --static.)
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
