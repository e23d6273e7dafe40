# Cross-build for 64-bit Windows with Debian's mingw-w64 (gcc-mingw-w64-x86-64).
# Tests run under wine through CMAKE_CROSSCOMPILING_EMULATOR.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(LK_MINGW_TRIPLE x86_64-w64-mingw32)
find_program(CMAKE_C_COMPILER NAMES ${LK_MINGW_TRIPLE}-gcc-win32 ${LK_MINGW_TRIPLE}-gcc REQUIRED)
find_program(CMAKE_CXX_COMPILER NAMES ${LK_MINGW_TRIPLE}-g++-win32 ${LK_MINGW_TRIPLE}-g++)
find_program(CMAKE_RC_COMPILER NAMES ${LK_MINGW_TRIPLE}-windres)
find_program(CMAKE_AR NAMES ${LK_MINGW_TRIPLE}-gcc-ar ${LK_MINGW_TRIPLE}-ar)
find_program(CMAKE_RANLIB NAMES ${LK_MINGW_TRIPLE}-gcc-ranlib ${LK_MINGW_TRIPLE}-ranlib)

# Look for headers and libraries in the target sysroot (and in the prefix the
# dependency builds install into), programs on the build machine.
set(CMAKE_FIND_ROOT_PATH /usr/${LK_MINGW_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Everything static (libgcc, libssp, winpthread if ever pulled in): the .exe
# files then run under wine and on a bare Windows without DLLs beside them.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static -static-libgcc")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-static-libgcc")
set(CMAKE_MODULE_LINKER_FLAGS_INIT "-static-libgcc")

# wine runs the tests (ctest) and anything try_run needs. Debian installs
# /usr/bin/wine (a wrapper that picks wine64 when wine32 is absent). Through
# env, every test of this build gets the same private prefix in the build
# folder, quiet logs and no Mono/Gecko install dialogs (CI has no display and
# no standard input).
if(NOT CMAKE_CROSSCOMPILING_EMULATOR)
  find_program(LK_WINE NAMES wine wine64 PATHS /usr/lib/wine NO_CMAKE_FIND_ROOT_PATH)
  find_program(LK_ENV env NO_CMAKE_FIND_ROOT_PATH)
  if(LK_WINE AND LK_ENV)
    set(CMAKE_CROSSCOMPILING_EMULATOR
        ${LK_ENV} WINEPREFIX=${CMAKE_BINARY_DIR}/wineprefix WINEDEBUG=-all
        WINEDLLOVERRIDES=mscoree,mshtml= ${LK_WINE})
  endif()
endif()
