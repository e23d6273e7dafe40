# Prepares the wine prefix the Windows tests run in (ctest fixture), once:
#   cmake -DWINE=... -DWINESERVER=... -DPREFIX=... -DLINK_TREE=... -P wine_setup.cmake
# The environment (WINEPREFIX, WINEDEBUG, WINEDLLOVERRIDES) comes from ctest.

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err
                  TIMEOUT 300 INPUT_FILE /dev/null)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
endfunction()

# 1. The prefix: the first start of wine builds it (20-60 s).
if(NOT EXISTS ${PREFIX}/system.reg)
  message(STATUS "creating the wine prefix ${PREFIX}")
  run("wineboot --init" ${WINE} wineboot --init)
endif()

# 2. A null display driver: windows work without X (WM_CLOSE is tested).
execute_process(COMMAND ${WINE} reg query "HKCU\\Software\\Wine\\Drivers" /v Graphics
                OUTPUT_VARIABLE q ERROR_QUIET INPUT_FILE /dev/null TIMEOUT 120)
if(NOT q MATCHES "null")
  run("reg add Graphics=null" ${WINE} reg add "HKCU\\Software\\Wine\\Drivers" /v Graphics
      /d null /f)
  # The desktop process read the old setting: restart this prefix's server.
  if(WINESERVER)
    execute_process(COMMAND ${WINESERVER} -k TIMEOUT 60)
    execute_process(COMMAND ${WINESERVER} -w TIMEOUT 60)
  endif()
endif()

# 3. A folder with a link to a folder outside it. wine 8 cannot make
#    junctions or symlinks, but shows a Unix symlink to a folder as one.
file(REMOVE_RECURSE ${LINK_TREE})
file(MAKE_DIRECTORY ${LINK_TREE}/outside ${LINK_TREE}/tree)
file(WRITE ${LINK_TREE}/outside/keep.txt "keep me\n")
file(WRITE ${LINK_TREE}/tree/inside.txt "remove me\n")
file(CREATE_LINK ../outside ${LINK_TREE}/tree/link SYMBOLIC)
message(STATUS "wine prefix ready: ${PREFIX}")
