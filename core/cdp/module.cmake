# The DevTools client (included by core/CMakeLists.txt when LK_WITH_CDP is ON).
list(APPEND LK_CORE_SOURCES
  cdp/parse.c
  cdp/url.c
  cdp/discovery.c
  cdp/pending.c
  cdp/sessions.c
  cdp/conn.c
  cdp/loop.c
  cdp/call.c
)
list(APPEND LK_CORE_LIBS PkgConfig::LWS PkgConfig::CURL)
