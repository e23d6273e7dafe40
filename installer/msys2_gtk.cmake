# What GTK 3 needs at run time besides the DLLs the executables import, copied
# from the MSYS2 prefix the app was built with, so the installed app runs on a
# Windows machine without MSYS2. Run by `cmake --install` and cpack
# (install(SCRIPT) in cmake/Packaging.cmake), which set:
#   LK_MSYS_PREFIX             e.g. C:/msys64/ucrt64
#   LK_BINDIR                  bin
#   LK_SYSTEM_DLL_REGEXES      Windows' own DLLs (never bundled)
#   LK_SYSTEM_DLL_POST_REGEXES
#   LK_LANGUAGES               the app's translations (GTK's own .mo files for them)
#
# The layout is the one GTK expects next to its DLLs:
#   bin/                        DLLs, gspawn-win64-helper*.exe
#   lib/gdk-pixbuf-2.0/2.10.0/  loaders and loaders.cache (paths relative to the prefix)
#   share/icons/Adwaita, share/icons/hicolor (+ index.theme, icon caches)
#   share/glib-2.0/schemas/     GTK's GSettings schemas, compiled
#   share/locale/<lang>/LC_MESSAGES/gtk30.mo ...

set(src "${LK_MSYS_PREFIX}")
set(dest "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}")
if(NOT EXISTS "${src}/bin")
  message(FATAL_ERROR "MSYS2 prefix not found: ${src}")
endif()

function(lk_require path what)
  if(NOT EXISTS "${path}")
    message(FATAL_ERROR "GTK bundle: ${what} not found at ${path} (pacman -S the package that has it)")
  endif()
endfunction()

# 1. Programs GLib starts by itself: the helpers run g_spawn children. (The
#    app's single instance is a named pipe of its own on Windows, so GLib's
#    gdbus.exe session bus is not needed.)
set(programs "")
foreach(p gspawn-win64-helper.exe gspawn-win64-helper-console.exe)
  lk_require("${src}/bin/${p}" "${p}")
  file(INSTALL "${src}/bin/${p}" DESTINATION "${dest}/${LK_BINDIR}")
  list(APPEND programs "${dest}/${LK_BINDIR}/${p}")
endforeach()

# 2. gdk-pixbuf's loaders (SVG: librsvg's; the symbolic icons are SVG) and their cache.
lk_require("${src}/lib/gdk-pixbuf-2.0" "gdk-pixbuf loaders")
file(INSTALL "${src}/lib/gdk-pixbuf-2.0" DESTINATION "${dest}/lib"
     PATTERN "*.a" EXCLUDE)
file(GLOB_RECURSE loaders "${dest}/lib/gdk-pixbuf-2.0/*.dll")
file(GLOB caches "${dest}/lib/gdk-pixbuf-2.0/*/loaders.cache")
if(NOT caches)
  message(FATAL_ERROR "GTK bundle: no loaders.cache under ${src}/lib/gdk-pixbuf-2.0")
endif()

# 3. The DLLs those need (the executables' own come from RUNTIME_DEPENDENCY_SET).
file(GET_RUNTIME_DEPENDENCIES
  EXECUTABLES ${programs}
  MODULES ${loaders}
  RESOLVED_DEPENDENCIES_VAR deps
  UNRESOLVED_DEPENDENCIES_VAR missing
  DIRECTORIES "${src}/bin"
  PRE_EXCLUDE_REGEXES ${LK_SYSTEM_DLL_REGEXES}
  POST_EXCLUDE_REGEXES ${LK_SYSTEM_DLL_POST_REGEXES})
if(missing)
  message(FATAL_ERROR "GTK bundle: DLLs not found: ${missing}")
endif()
foreach(d IN LISTS deps)
  file(INSTALL "${d}" DESTINATION "${dest}/${LK_BINDIR}")
endforeach()

# 4. Icon themes: GTK's own icons (Adwaita) and hicolor, where the app's icons
#    are; the caches are rebuilt for what is installed.
lk_require("${src}/share/icons/Adwaita/index.theme" "adwaita-icon-theme")
file(INSTALL "${src}/share/icons/Adwaita" DESTINATION "${dest}/share/icons"
     PATTERN "icon-theme.cache" EXCLUDE)
lk_require("${src}/share/icons/hicolor/index.theme" "hicolor-icon-theme")
file(INSTALL "${src}/share/icons/hicolor/index.theme" DESTINATION "${dest}/share/icons/hicolor")
find_program(icon_cache NAMES gtk-update-icon-cache-3.0 gtk-update-icon-cache
             PATHS "${src}/bin" NO_DEFAULT_PATH)
if(icon_cache)
  foreach(theme Adwaita hicolor)
    execute_process(COMMAND "${icon_cache}" -q -f -t "${dest}/share/icons/${theme}"
                    RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(WARNING "gtk-update-icon-cache failed for ${theme}: the theme still works, slower")
    endif()
  endforeach()
endif()

# 5. GSettings schemas GTK reads (file chooser, color chooser...), compiled.
file(GLOB schemas "${src}/share/glib-2.0/schemas/org.gtk.*.gschema.xml")
if(schemas)
  file(INSTALL ${schemas} DESTINATION "${dest}/share/glib-2.0/schemas")
  find_program(compile_schemas glib-compile-schemas PATHS "${src}/bin" NO_DEFAULT_PATH)
  if(compile_schemas)
    execute_process(COMMAND "${compile_schemas}" "${dest}/share/glib-2.0/schemas"
                    RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "glib-compile-schemas failed")
    endif()
  else()
    file(INSTALL "${src}/share/glib-2.0/schemas/gschemas.compiled"
         DESTINATION "${dest}/share/glib-2.0/schemas")
  endif()
endif()

# 6. GTK's and GLib's own translations, for the languages the app ships.
foreach(lang IN LISTS LK_LANGUAGES)
  foreach(domain gtk30 gtk30-properties glib20)
    set(mo "${src}/share/locale/${lang}/LC_MESSAGES/${domain}.mo")
    if(EXISTS "${mo}")
      file(INSTALL "${mo}" DESTINATION "${dest}/share/locale/${lang}/LC_MESSAGES")
    endif()
  endforeach()
endforeach()
