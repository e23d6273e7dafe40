# Install rules and packages: every package (the NSIS installer on Windows,
# the .deb on Linux, `cmake --install`) comes from the install() rules here and
# the install(TARGETS) of the executables in app/.
#
#   share/latchkey/profiles/        site profiles (core finds them next to the executable)
#   share/latchkey/autostart/       the sign-in entry the app copies when the user turns it on
#   share/applications/             latchkey.desktop (Linux)
#   share/icons/hicolor/            PNG sizes and the scalable SVG (Linux, and GTK on Windows)
#   bin/*.dll, lib/gdk-pixbuf-2.0,  Windows: the DLLs the executables need and, under
#   share/icons/Adwaita ...         MSYS2, the GTK data the tray app needs (installer/msys2_gtk.cmake)
#
# Windows executables also get a version resource, the application manifest
# and the icon (resources/windows/).
include_guard(GLOBAL)

set(LK_RES ${PROJECT_SOURCE_DIR}/resources)
set(LK_PKG_DATADIR ${CMAKE_INSTALL_DATADIR}/latchkey)
set(LK_PKG_BIN ${PROJECT_BINARY_DIR}/packaging)
# Files appear under resources/ while the project grows (the icons): configure
# again when the folder changes.
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${LK_RES})
if(EXISTS ${LK_RES}/icons)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${LK_RES}/icons)
endif()

# ---- site profiles ----------------------------------------------------------
install(DIRECTORY ${LK_RES}/profiles/ DESTINATION ${LK_PKG_DATADIR}/profiles
        FILES_MATCHING PATTERN "*.json")

# ---- icons ------------------------------------------------------------------
# resources/icons/*.svg -> hicolor/scalable/apps and PNGs at the usual sizes;
# latchkey.svg also -> the multi-size latchkey.ico of the Windows executables
# and the installer. Rendered at build time (rsvg-convert, ImageMagick), so
# they always match the SVG.
set(LK_ICON_SIZES 16 22 24 32 48 64 128 256)
set(LK_ICO_SIZES 16 20 24 32 40 48 64 256)
# The theme icons go with the tray app (they are its window and menu icons);
# the .ico also goes into latchkeyctl.exe and the installer.
file(GLOB LK_ICON_SVGS ${LK_RES}/icons/*.svg)
set(LK_ICO "")
set(LK_INSTALL_THEME_ICONS OFF)
if(TARGET latchkey_tray)
  set(LK_INSTALL_THEME_ICONS ON)
endif()
if(LK_ICON_SVGS)
  if(LK_INSTALL_THEME_ICONS)
    install(FILES ${LK_ICON_SVGS} DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps)
  endif()
  find_program(LK_RSVG_CONVERT rsvg-convert NO_CMAKE_FIND_ROOT_PATH)
  # "magick" first: on Windows "convert.exe" is also the FAT-to-NTFS tool.
  find_program(LK_MAGICK NAMES magick convert NO_CMAKE_FIND_ROOT_PATH)
  if(LK_MAGICK)
    execute_process(COMMAND ${LK_MAGICK} -version OUTPUT_VARIABLE _lk_out ERROR_QUIET
                    RESULT_VARIABLE _lk_rc)
    if(NOT _lk_rc EQUAL 0 OR NOT _lk_out MATCHES "ImageMagick")
      set(LK_MAGICK "")
    endif()
  endif()
  if(LK_RSVG_CONVERT)
    set(_lk_icon_outputs ${LK_PKG_BIN}/icons.stamp)
    set(_lk_ico_args "")
    if(WIN32 AND EXISTS ${LK_RES}/icons/latchkey.svg)
      if(LK_MAGICK)
        set(LK_ICO ${LK_PKG_BIN}/latchkey.ico)
        list(APPEND _lk_icon_outputs ${LK_ICO})
        string(REPLACE ";" "," _lk_ico_sizes "${LK_ICO_SIZES}")
        set(_lk_ico_args -DMAGICK=${LK_MAGICK} -DICO=${LK_ICO} -DICO_SIZES=${_lk_ico_sizes})
      else()
        message(STATUS "ImageMagick not found: Windows executables without an icon")
      endif()
    endif()
    string(REPLACE ";" "," _lk_svgs "${LK_ICON_SVGS}")
    set(_lk_sizes "")
    if(LK_INSTALL_THEME_ICONS)
      string(REPLACE ";" "," _lk_sizes "${LK_ICON_SIZES}")
    endif()
    if(_lk_sizes OR LK_ICO)
      add_custom_command(
        OUTPUT ${_lk_icon_outputs}
        COMMAND ${CMAKE_COMMAND} -DRSVG=${LK_RSVG_CONVERT} -DSVGS=${_lk_svgs} "-DSIZES=${_lk_sizes}"
                -DOUT=${LK_PKG_BIN}/icons ${_lk_ico_args}
                -P ${PROJECT_SOURCE_DIR}/installer/icons.cmake
        COMMAND ${CMAKE_COMMAND} -E touch ${LK_PKG_BIN}/icons.stamp
        DEPENDS ${LK_ICON_SVGS} ${PROJECT_SOURCE_DIR}/installer/icons.cmake
        COMMENT "Rendering the icons")
      add_custom_target(latchkey_icons ALL DEPENDS ${_lk_icon_outputs})
    endif()
    if(LK_INSTALL_THEME_ICONS)
      install(DIRECTORY ${LK_PKG_BIN}/icons/hicolor DESTINATION ${CMAKE_INSTALL_DATADIR}/icons)
    endif()
  else()
    message(STATUS "rsvg-convert not found (librsvg2-bin): icons installed as SVG only")
  endif()
else()
  message(STATUS "resources/icons/*.svg not there yet: packages without icons")
endif()

# ---- desktop entry and the sign-in entry (Linux) ----------------------------
# Only with the tray app: both start `latchkey`.
if(TARGET latchkey_tray AND NOT WIN32 AND NOT APPLE)
  install(FILES ${LK_RES}/latchkey.desktop DESTINATION ${CMAKE_INSTALL_DATADIR}/applications)
  # Start at sign-in is off by default: nothing is installed into
  # /etc/xdg/autostart. This is the entry the app copies to
  # $XDG_CONFIG_HOME/autostart/latchkey.desktop when the user turns it on.
  # At sign-in the app starts in the tray only (--hidden), as the entry it
  # writes itself does (app/tray/settings.c).
  file(READ ${LK_RES}/latchkey.desktop _lk_desktop)
  string(REPLACE "\nExec=latchkey\n" "\nExec=latchkey --hidden\n" _lk_desktop "${_lk_desktop}")
  file(WRITE ${LK_PKG_BIN}/autostart/latchkey.desktop
       "${_lk_desktop}X-GNOME-Autostart-enabled=true\n")
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${LK_RES}/latchkey.desktop)
  install(FILES ${LK_PKG_BIN}/autostart/latchkey.desktop DESTINATION ${LK_PKG_DATADIR}/autostart)
endif()

# ---- Windows: resources compiled into each executable ------------------------
if(WIN32)
  enable_language(RC)
  # "0.1.0" -> "0,1,0,0" (VERSIONINFO) and "0.1.0.0" (manifest, installer).
  set(_lk_v4 "")
  foreach(part MAJOR MINOR PATCH TWEAK)
    if("${PROJECT_VERSION_${part}}" STREQUAL "")
      list(APPEND _lk_v4 0)
    else()
      list(APPEND _lk_v4 ${PROJECT_VERSION_${part}})
    endif()
  endforeach()
  string(REPLACE ";" "," LK_RC_VERSION_COMMAS "${_lk_v4}")
  string(REPLACE ";" "." LK_RC_VERSION_DOTTED "${_lk_v4}")
  configure_file(${LK_RES}/windows/latchkey.manifest ${LK_PKG_BIN}/windows/latchkey.manifest @ONLY)
  set(LK_RC_MANIFEST ${LK_PKG_BIN}/windows/latchkey.manifest)

  function(lk_windows_resources target name description)
    set(LK_RC_NAME ${name})
    set(LK_RC_FILENAME ${name}.exe)
    set(LK_RC_DESCRIPTION "${description}")
    set(LK_RC_ICON_LINE "")
    if(LK_ICO)
      # The first icon resource is the one Explorer shows for the file.
      set(LK_RC_ICON_LINE "1 ICON \"${LK_ICO}\"")
    endif()
    set(rc ${LK_PKG_BIN}/windows/${name}.rc)
    configure_file(${LK_RES}/windows/latchkey.rc.in ${rc} @ONLY)
    target_sources(${target} PRIVATE ${rc})
    set_source_files_properties(${rc} TARGET_DIRECTORY ${target} PROPERTIES
      OBJECT_DEPENDS "${LK_RC_MANIFEST};${LK_ICO}")
    if(LK_ICO)
      add_dependencies(${target} latchkey_icons)
    endif()
  endfunction()

  lk_windows_resources(latchkeyctl latchkeyctl "Latchkey command line")
  if(TARGET latchkey_tray)
    lk_windows_resources(latchkey_tray latchkey "Latchkey")
  endif()
endif()

# ---- Windows: the DLLs the executables need ---------------------------------
# The executables join the set latchkey_runtime in their install(TARGETS).
# latchkeyctl.exe links everything statically (only system DLLs remain); the
# tray app needs GTK's DLLs beside it: from the cross-built prefix, or MSYS2's.
if(WIN32)
  if(MINGW AND CMAKE_OBJDUMP)
    # Read PE imports with the toolchain's objdump: CMake would look for MSVC's
    # dumpbin on Windows, and for ELF files on a Linux build machine.
    set(CMAKE_GET_RUNTIME_DEPENDENCIES_PLATFORM "windows+pe")
    set(CMAKE_GET_RUNTIME_DEPENDENCIES_TOOL "objdump")
    set(CMAKE_GET_RUNTIME_DEPENDENCIES_COMMAND "${CMAKE_OBJDUMP}")
  endif()
  get_filename_component(LK_TOOLCHAIN_BIN "${CMAKE_C_COMPILER}" DIRECTORY)
  get_filename_component(LK_TOOLCHAIN_PREFIX "${LK_TOOLCHAIN_BIN}" DIRECTORY)
  execute_process(COMMAND ${CMAKE_C_COMPILER} -print-libgcc-file-name
                  OUTPUT_VARIABLE _lk_libgcc OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  get_filename_component(_lk_libgcc_dir "${_lk_libgcc}" DIRECTORY)
  set(LK_DLL_DIRS ${LK_TOOLCHAIN_BIN} ${_lk_libgcc_dir})
  if(CMAKE_CROSSCOMPILING)
    list(APPEND LK_DLL_DIRS /usr/${LK_MINGW_TRIPLE}/bin /usr/${LK_MINGW_TRIPLE}/lib)
  endif()
  if(LK_DEPS_PREFIX)
    # First: the prefix holds every DLL of the stack (zlib1.dll too, which the
    # sysroot also has; one name must resolve to one file).
    list(PREPEND LK_DLL_DIRS ${LK_DEPS_PREFIX}/bin)
  endif()
  # Windows' own DLLs (names are compared in lower case): never bundled.
  set(LK_SYSTEM_DLL_REGEXES
    "^api-ms-win-" "^ext-ms-"
    "^(advapi32|bcrypt|cfgmgr32|comctl32|comdlg32|crypt32|d2d1|d3d9|d3d11|d3d12|dbghelp|dnsapi)\\.dll$"
    "^(dwmapi|dwrite|dxgi|gdi32|gdiplus|hid|imm32|iphlpapi|kernel32|kernelbase|mpr|msimg32)\\.dll$"
    "^(msvcrt|mswsock|ncrypt|netapi32|normaliz|ntdll|ole32|oleaut32|opengl32|powrprof)\\.dll$"
    "^(propsys|psapi|rpcrt4|rstrtmgr|secur32|setupapi|shcore|shell32|shlwapi|ucrtbase)\\.dll$"
    "^(user32|userenv|usp10|uxtheme|version|windowscodecs|winhttp|wininet|winmm|wldap32)\\.dll$"
    "^(ws2_32|wsock32|wtsapi32|dwmapi|avrt|mfplat|mf|ksuser|winspool)\\.(dll|drv)$")
  set(LK_SYSTEM_DLL_POST_REGEXES ".*[/\\\\][Ss][Yy][Ss][Tt][Ee][Mm]32[/\\\\].*"
                                 ".*[/\\\\][Ss][Yy][Ss][Ww][Oo][Ww]64[/\\\\].*")
  install(RUNTIME_DEPENDENCY_SET latchkey_runtime
          DESTINATION ${CMAKE_INSTALL_BINDIR}
          PRE_EXCLUDE_REGEXES ${LK_SYSTEM_DLL_REGEXES}
          POST_EXCLUDE_REGEXES ${LK_SYSTEM_DLL_POST_REGEXES}
          DIRECTORIES ${LK_DLL_DIRS})

  # The cross-build: GTK's data from the prefix it was built into, the icon
  # themes from the build machine (installer/mingw_gtk.cmake).
  if(CMAKE_CROSSCOMPILING AND LK_DEPS_PREFIX AND TARGET latchkey_tray)
    find_program(LK_HOST_COMPILE_SCHEMAS glib-compile-schemas REQUIRED NO_CMAKE_FIND_ROOT_PATH)
    find_program(LK_HOST_ICON_CACHE NAMES gtk-update-icon-cache-3.0 gtk-update-icon-cache
                 NO_CMAKE_FIND_ROOT_PATH)
    file(STRINGS ${PROJECT_SOURCE_DIR}/po/LINGUAS _lk_langs REGEX "^[^#]")
    install(CODE "
      set(LK_STACK [==[${LK_DEPS_PREFIX}]==])
      set(LK_BINDIR [==[${CMAKE_INSTALL_BINDIR}]==])
      set(LK_LANGUAGES [==[${_lk_langs}]==])
      set(LK_ICON_THEMES /usr/share/icons)
      set(LK_COMPILE_SCHEMAS [==[${LK_HOST_COMPILE_SCHEMAS}]==])
      set(LK_ICON_CACHE [==[${LK_HOST_ICON_CACHE}]==])")
    install(SCRIPT ${PROJECT_SOURCE_DIR}/installer/mingw_gtk.cmake)

    # The app as installed, in the build folder: what the tests under wine
    # run (tests/windows) and what the installer carries, from the same rules.
    set(LK_WIN_STAGE ${PROJECT_BINARY_DIR}/stage)
    set(_lk_stage_deps latchkey_tray latchkeyctl)
    foreach(t translations latchkey_icons)
      if(TARGET ${t})
        list(APPEND _lk_stage_deps ${t})
      endif()
    endforeach()
    add_custom_command(
      OUTPUT ${PROJECT_BINARY_DIR}/stage.stamp
      COMMAND ${CMAKE_COMMAND} -E rm -rf ${LK_WIN_STAGE}
      COMMAND sh -c "\"$0\" --install \"$1\" --prefix \"$2\" --strip >\"$1/stage.log\""
              ${CMAKE_COMMAND} ${PROJECT_BINARY_DIR} ${LK_WIN_STAGE}
      COMMAND ${CMAKE_COMMAND} -E touch ${PROJECT_BINARY_DIR}/stage.stamp
      DEPENDS ${_lk_stage_deps} $<TARGET_FILE:latchkey_tray> $<TARGET_FILE:latchkeyctl>
              ${PROJECT_SOURCE_DIR}/installer/mingw_gtk.cmake
      COMMENT "Staging the Windows app in ${LK_WIN_STAGE}"
      VERBATIM)
    add_custom_target(latchkey_stage ALL DEPENDS ${PROJECT_BINARY_DIR}/stage.stamp)
  endif()

  # MSYS2: what GTK needs at run time besides its DLLs, so the installed app
  # runs on a machine without MSYS2.
  set(_lk_msys OFF)
  if(DEFINED ENV{MSYSTEM} AND NOT CMAKE_CROSSCOMPILING)
    set(_lk_msys ON)
  endif()
  option(LK_BUNDLE_GTK "Bundle GTK's data (pixbuf loaders, icon themes, schemas) from MSYS2"
         ${_lk_msys})
  if(LK_BUNDLE_GTK AND TARGET latchkey_tray)
    # Bracket arguments: the regexes reach the script unchanged.
    install(CODE "
      set(LK_MSYS_PREFIX [==[${LK_TOOLCHAIN_PREFIX}]==])
      set(LK_BINDIR [==[${CMAKE_INSTALL_BINDIR}]==])
      set(LK_SYSTEM_DLL_REGEXES [==[${LK_SYSTEM_DLL_REGEXES}]==])
      set(LK_SYSTEM_DLL_POST_REGEXES [==[${LK_SYSTEM_DLL_POST_REGEXES}]==])
      set(LK_LANGUAGES id)")
    install(SCRIPT ${PROJECT_SOURCE_DIR}/installer/msys2_gtk.cmake)
  endif()
endif()

# ---- CPack ------------------------------------------------------------------
set(CPACK_PACKAGE_NAME latchkey)
set(CPACK_PACKAGE_VENDOR "Latchkey")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "Latchkey maintainers <maintainers@latchkey.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "WhatsApp Web sessions at a glance: live QR codes, health, one-click unlock")
set(CPACK_PACKAGE_DESCRIPTION
"Latchkey shows the live QR code and the health of every WhatsApp Web
automation session (whatsapp-web.js, wppconnect, Puppeteer bots) from the
tray, starts or attaches to the Chromium that runs each one, and fixes a
locked session folder in one click: it finds exactly the processes that hold
it, ends them and deletes the folder. latchkeyctl gives the same to scripts
and support staff.")
set(CPACK_PACKAGE_INSTALL_DIRECTORY "Latchkey")
set(CPACK_PACKAGE_INSTALL_REGISTRY_KEY "Latchkey")
set(CPACK_STRIP_FILES ON)
set(CPACK_SOURCE_IGNORE_FILES "/build/" "/\\\\.git/")
set(CPACK_PROJECT_CONFIG_FILE ${PROJECT_SOURCE_DIR}/installer/cpack_options.cmake)
if(WIN32)
  set(CPACK_GENERATOR NSIS)
else()
  set(CPACK_GENERATOR DEB)
endif()

# NSIS: a per-user install without elevation (installer/nsis/NSIS.template.in
# replaces CPack's template, which asks for admin rights and writes HKLM).
set(CPACK_MODULE_PATH ${PROJECT_SOURCE_DIR}/installer/nsis)
set(CPACK_NSIS_PACKAGE_NAME "Latchkey")
set(CPACK_NSIS_DISPLAY_NAME "Latchkey")
set(CPACK_NSIS_INSTALL_ROOT "$LOCALAPPDATA\\\\Programs")
set(CPACK_NSIS_UNINSTALL_NAME "Uninstall")
set(CPACK_NSIS_COMPRESSOR "/SOLID lzma")
set(CPACK_LK_VERSION_DOTTED "${LK_RC_VERSION_DOTTED}")
if(LK_ICO)
  set(CPACK_NSIS_MUI_ICON ${LK_ICO})
  set(CPACK_NSIS_MUI_UNIICON ${LK_ICO})
endif()

# DEB: dependencies from the shared libraries the binaries link (dpkg-shlibdeps).
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION "utils")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "chromium | chromium-browser | google-chrome-stable")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

include(CPack)
