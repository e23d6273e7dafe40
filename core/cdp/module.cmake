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
  cdp/netlib_linked.c
)
# The client calls the two libraries through a table (cdp/netlib.h), so the
# library itself only needs their headers; see core/CMakeLists.txt.
set(LK_NET_LIBS PkgConfig::LWS PkgConfig::CURL)
