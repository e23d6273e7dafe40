# Dependencies of the Windows cross-build, compiled at configure time from
# Debian's source packages with the mingw toolchain and installed (static
# libraries) into ${CMAKE_BINARY_DIR}/deps/prefix. A dependency is built once
# per build folder; later configures find its stamp and skip it. The only
# download is `apt-get source` from the machine's Debian archive.
#
#   lk_mingw_dep(NAME jansson
#                [PACKAGE <debian source package>]   default: NAME
#                [SUBDIR <folder of CMakeLists.txt inside the source>]
#                [CMAKE_ARGS -DOPTION=value ...])
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

function(lk_mingw_dep)
  cmake_parse_arguments(D "" "NAME;PACKAGE;SUBDIR" "CMAKE_ARGS" ${ARGN})
  if(NOT D_NAME)
    message(FATAL_ERROR "lk_mingw_dep: NAME is required")
  endif()
  if(NOT D_PACKAGE)
    set(D_PACKAGE ${D_NAME})
  endif()
  set(stamp ${LK_DEPS_DIR}/stamps/${D_NAME}.installed)
  if(EXISTS ${stamp})
    file(READ ${stamp} built)
    message(STATUS "Windows dependency ${D_NAME}: ${built} (cached in ${LK_DEPS_PREFIX})")
    return()
  endif()

  set(src ${LK_DEPS_DIR}/src/${D_NAME})
  file(MAKE_DIRECTORY ${src})

  # 1. The Debian source package (.dsc, upstream tarball, Debian's changes).
  file(GLOB dsc ${src}/*.dsc)
  if(NOT dsc)
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
    if(NOT rc EQUAL 0 OR NOT dsc)
      _lk_dep_fail(${D_NAME} "`apt-get source ${D_PACKAGE}` failed (${rc})."
                   "${err}")
    endif()
  endif()
  list(GET dsc 0 dsc)
  get_filename_component(dsc_name ${dsc} NAME_WLE)

  # 2. Unpacked with Debian's patches applied, as Debian builds it.
  set(tree ${src}/tree)
  if(NOT EXISTS ${tree})
    find_program(LK_DPKG_SOURCE dpkg-source)
    if(NOT LK_DPKG_SOURCE)
      _lk_dep_fail(${D_NAME} "dpkg-source (package dpkg-dev) was not found." "")
    endif()
    _lk_run(${D_NAME} "dpkg-source -x"
            ${LK_DPKG_SOURCE} --no-check -x ${dsc} ${tree}.tmp)
    file(RENAME ${tree}.tmp ${tree})
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
  file(WRITE ${stamp} "${dsc_name}")
  message(STATUS "Windows dependency ${D_NAME}: ${dsc_name} installed in ${LK_DEPS_PREFIX}")
endfunction()

lk_mingw_dep(NAME jansson
             CMAKE_ARGS -DJANSSON_BUILD_SHARED_LIBS=OFF -DJANSSON_EXAMPLES=OFF
                        -DJANSSON_WITHOUT_TESTS=ON -DJANSSON_BUILD_DOCS=OFF)

# pkg-config: only the prefix (PKG_CONFIG_LIBDIR replaces the default search
# path, so the build machine's own jansson.pc is never seen).
set(ENV{PKG_CONFIG_LIBDIR} ${LK_DEPS_PREFIX}/lib/pkgconfig:${LK_DEPS_PREFIX}/share/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")
# Static libraries only: ask for their private dependencies too.
set(PKG_CONFIG_ARGN --static CACHE STRING "Arguments for pkg-config" FORCE)
# find_library() must be allowed into the prefix (the toolchain file confines
# searches to the mingw sysroot).
list(APPEND CMAKE_FIND_ROOT_PATH ${LK_DEPS_PREFIX})
list(APPEND CMAKE_PREFIX_PATH ${LK_DEPS_PREFIX})
