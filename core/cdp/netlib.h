/* libwebsockets and libcurl, reached through one table of their functions.
 *
 * Two files fill it. netlib_linked.c takes the addresses the linker gives
 * (the tray app, the tests, Windows). netlib_lazy.c, which latchkeyctl links
 * on Linux, loads the two libraries on first use: `holders` and `cleanup`
 * never talk to a browser, and mapping libcurl and libwebsockets with the 35
 * libraries they pull in (TLS, Kerberos, LDAP, SSH...) took a third of their
 * run time (bench/RESULTS.md). Never installed. */
#ifndef LK_CDP_NETLIB_H
#define LK_CDP_NETLIB_H

#include <curl/curl.h>
#include <libwebsockets.h>

#include "latchkey/error.h"

/* X(member, function): every function of the two libraries core calls.
 * Members drop the prefix: curl's typecheck macros would otherwise expand
 * at the call sites. */
#define LK_NET_LWS(X)                                                                              \
    X(create_context, lws_create_context)                                                          \
    X(context_destroy, lws_context_destroy)                                                        \
    X(context_user, lws_context_user)                                                              \
    X(get_context, lws_get_context)                                                                \
    X(service, lws_service)                                                                        \
    X(cancel_service, lws_cancel_service)                                                          \
    X(set_log_level, lws_set_log_level)                                                            \
    X(sul_schedule, lws_sul_schedule)                                                              \
    X(sul_cancel, lws_sul_cancel)                                                                  \
    X(client_connect_via_info, lws_client_connect_via_info)                                        \
    X(callback_on_writable, lws_callback_on_writable)                                              \
    X(write, lws_write)                                                                            \
    X(set_timeout, lws_set_timeout)                                                                \
    X(set_opaque_user_data, lws_set_opaque_user_data)                                              \
    X(get_opaque_user_data, lws_get_opaque_user_data)                                              \
    X(remaining_packet_payload, lws_remaining_packet_payload)                                      \
    X(is_final_fragment, lws_is_final_fragment)                                                    \
    X(frame_is_binary, lws_frame_is_binary)

#define LK_NET_CURL(X)                                                                             \
    X(global_init, curl_global_init)                                                               \
    X(easy_init, curl_easy_init)                                                                   \
    X(easy_setopt, curl_easy_setopt)                                                               \
    X(easy_perform, curl_easy_perform)                                                             \
    X(easy_getinfo, curl_easy_getinfo)                                                             \
    X(easy_cleanup, curl_easy_cleanup)                                                             \
    X(easy_strerror, curl_easy_strerror)

#define LK_NET__MEMBER(member, fn) __typeof__(fn) *member;

typedef struct lk_cdp__net {
    struct {
        LK_NET_LWS(LK_NET__MEMBER)
    } lws;
    struct {
        LK_NET_CURL(LK_NET__MEMBER)
    } curl;
} lk_cdp__net;

/* Binds both libraries, once for the process (any thread). LK_EIO with the
 * loader's words when one cannot be loaded; the table stays unusable then. */
int lk_cdp__net_bind(lk_error *err);

/* The table. Only after lk_cdp__net_bind succeeded: the loop and the probe
 * bind before anything else runs, so the rest of the client just calls. */
const lk_cdp__net *lk_cdp__netlib(void);

#endif
