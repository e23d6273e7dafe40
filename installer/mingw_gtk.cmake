# What GTK 3 needs at run time besides the DLLs, for the Windows cross-build:
# from the prefix installer/deps/mingw-stack.sh built and from the build
# machine's (architecture-independent) icon themes. Run by `cmake --install`
# and cpack (install(SCRIPT) in cmake/Packaging.cmake), which set:
#   LK_STACK              the prefix GTK was built into
#   LK_BINDIR             bin
#   LK_LANGUAGES          the app's translations (GTK's and GLib's .mo for them)
#   LK_ICON_THEMES        the host's share/icons (Adwaita, hicolor)
#   LK_COMPILE_SCHEMAS    the host's glib-compile-schemas (the same GLib version)
#   LK_ICON_CACHE         the host's gtk-update-icon-cache (may be empty)
#
# The layout is the one GTK finds relative to its own DLL:
#   bin/                          the programs and their DLLs (RUNTIME_DEPENDENCY_SET)
#   share/glib-2.0/schemas/       GTK's settings schemas, compiled (the file chooser needs them)
#   share/icons/Adwaita/          only the icons GTK and the app ask for, as PNG
#   share/icons/hicolor/          index.theme (the app's own icons are installed beside it)
#   share/locale/<lang>/          gtk30.mo, glib20.mo
# gdk-pixbuf has its PNG loader built in: no loader modules and no loaders.cache.

set(dest "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}")

function(lk_need path what)
  if(NOT EXISTS "${path}")
    message(FATAL_ERROR "GTK runtime: ${what} not found at ${path}")
  endif()
endfunction()

# 1. Schemas: only GTK's own, compiled by the host's tool (GLib's compiled
#    format is the same on every platform).
file(GLOB schemas "${LK_STACK}/share/glib-2.0/schemas/org.gtk.Settings.*.gschema.xml")
if(NOT schemas)
  message(FATAL_ERROR "GTK runtime: no org.gtk.Settings schemas in ${LK_STACK}")
endif()
set(schema_tmp "${CMAKE_CURRENT_BINARY_DIR}/lk-schemas")
file(REMOVE_RECURSE "${schema_tmp}")
file(COPY ${schemas} DESTINATION "${schema_tmp}")
execute_process(COMMAND "${LK_COMPILE_SCHEMAS}" --strict "${schema_tmp}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "GTK runtime: glib-compile-schemas failed")
endif()
file(INSTALL "${schema_tmp}/gschemas.compiled" DESTINATION "${dest}/share/glib-2.0/schemas")

# 2. Icons. Adwaita has some 1,800 names in ten sizes (38 MB); a tray app
#    needs the few GTK's widgets and dialogs name (in its code and its
#    built-in .ui files) and the app names: every Adwaita name that occurs as
#    a word in the strings of libgtk-3-0.dll or of the installed programs,
#    in the sizes GTK asks for in menus, buttons and dialogs.
set(adwaita "${LK_ICON_THEMES}/Adwaita")
lk_need("${adwaita}/index.theme" "the Adwaita icon theme (adwaita-icon-theme)")
lk_need("${LK_ICON_THEMES}/hicolor/index.theme" "the hicolor icon theme (hicolor-icon-theme)")
set(words "")
file(GLOB scan "${dest}/${LK_BINDIR}/*.exe" "${dest}/${LK_BINDIR}/libgtk-3-0.dll")
foreach(bin IN LISTS scan)
  file(STRINGS "${bin}" strs REGEX "[a-z]+-[a-z-]+")
  foreach(s IN LISTS strs)
    string(REGEX MATCHALL "[a-z][a-z0-9]*(-[a-z0-9]+)+" w "${s}")
    list(APPEND words ${w})
  endforeach()
endforeach()
list(REMOVE_DUPLICATES words)
set(sizes 16x16 24x24 32x32 48x48)
set(icon_files "")
foreach(size IN LISTS sizes)
  file(GLOB_RECURSE pngs RELATIVE "${adwaita}" "${adwaita}/${size}/*.png")
  foreach(png IN LISTS pngs)
    get_filename_component(name "${png}" NAME)
    string(REGEX REPLACE "(\\.symbolic)?\\.png$" "" name "${name}")
    list(FIND words "${name}" at)
    if(NOT at EQUAL -1)
      list(APPEND icon_files "${png}")
    endif()
  endforeach()
endforeach()
list(LENGTH icon_files n)
if(n LESS 20)
  message(FATAL_ERROR "GTK runtime: only ${n} Adwaita icons matched; is libgtk-3-0.dll installed?")
endif()
file(REMOVE_RECURSE "${dest}/share/icons/Adwaita")
foreach(f IN LISTS icon_files)
  get_filename_component(dir "${f}" DIRECTORY)
  file(INSTALL "${adwaita}/${f}" DESTINATION "${dest}/share/icons/Adwaita/${dir}")
endforeach()
file(INSTALL "${adwaita}/index.theme" DESTINATION "${dest}/share/icons/Adwaita")
file(INSTALL "${LK_ICON_THEMES}/hicolor/index.theme" DESTINATION "${dest}/share/icons/hicolor")
message(STATUS "GTK runtime: ${n} Adwaita icon files")
if(LK_ICON_CACHE)
  foreach(theme Adwaita hicolor)
    execute_process(COMMAND "${LK_ICON_CACHE}" -q -f -t "${dest}/share/icons/${theme}"
                    RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "gtk-update-icon-cache failed for ${theme}")
    endif()
  endforeach()
endif()

# 3. GTK's and GLib's own translations, for the languages the app ships.
foreach(lang IN LISTS LK_LANGUAGES)
  foreach(domain gtk30 glib20)
    set(mo "${LK_STACK}/share/locale/${lang}/LC_MESSAGES/${domain}.mo")
    lk_need("${mo}" "${domain}.mo for ${lang}")
    file(INSTALL "${mo}" DESTINATION "${dest}/share/locale/${lang}/LC_MESSAGES")
  endforeach()
endforeach()
