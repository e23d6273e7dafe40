# Browser control: find, launch and stop Chromium on a session folder.
list(APPEND LK_CORE_SOURCES
  browser/find.c
  browser/launch.c
  browser/stop.c
  browser/holders.c
  browser/paths.c
)
