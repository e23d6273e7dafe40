# Sessions: the site profile, the page reader, the state machine, the supervisor.
list(APPEND LK_CORE_SOURCES
  session/site.c
  session/state.c
  session/page.c
  session/health.c
  session/supervisor.c
  session/session.c
  session/discover.c
  session/endpoint.c
)

# The default site profile and the page reader are built in, so a bare
# binary works; the files under resources/ still win at run time.
function(lk_embed_text var file)
  file(READ ${file} text)
  string(REPLACE "\\" "\\\\" text "${text}")
  string(REPLACE "\"" "\\\"" text "${text}")
  string(REPLACE "\n" "\\n\"\n\"" text "${text}")
  set(${var} "${text}" PARENT_SCOPE)
endfunction()
lk_embed_text(LK_SITE_JSON ${PROJECT_SOURCE_DIR}/resources/profiles/whatsapp-web.json)
lk_embed_text(LK_WATCH_JS ${PROJECT_SOURCE_DIR}/resources/js/watch.js)
configure_file(${CMAKE_CURRENT_SOURCE_DIR}/session/embedded.h.in
               ${CMAKE_CURRENT_BINARY_DIR}/generated/session/embedded.h @ONLY)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
  ${PROJECT_SOURCE_DIR}/resources/profiles/whatsapp-web.json
  ${PROJECT_SOURCE_DIR}/resources/js/watch.js)
set(LK_CORE_GENERATED_INCLUDE ${CMAKE_CURRENT_BINARY_DIR}/generated)
