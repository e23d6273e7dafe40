/* The network libraries, loaded on first use (see netlib.h). Their file
 * names come from the build: the SONAMEs of the libraries it linked against. */
#include "cdp/netlib.h"

#include <pthread.h>
#include <string.h>

#include "latchkey/sys.h"

static pthread_once_t lk_cdp_net_once = PTHREAD_ONCE_INIT;
static lk_cdp__net lk_cdp_net_table;
static int lk_cdp_net_bound;      /* written once, inside the once */
static lk_error lk_cdp_net_error; /* why not, when not */

/* Fills *slot with name's address in lib; 0 when lib has no such function. */
static int bind_one(lk_sys_lib *lib, const char *soname, const char *name, void *slot)
{
    void *fn = lk_sys_lib_sym(lib, name);
    if (!fn) {
        lk_error_set(&lk_cdp_net_error, LK_ENOENT, 0, "%s has no function %s", soname, name);
        return 0;
    }
    memcpy(slot, &fn, sizeof fn); /* a function pointer of the same size */
    return 1;
}

static void bind_all(void)
{
    lk_sys_lib *lws, *curl;
    int ok = 1;
    if (lk_sys_lib_open(LK_LWS_SONAME, &lws, &lk_cdp_net_error) != LK_OK ||
        lk_sys_lib_open(LK_CURL_SONAME, &curl, &lk_cdp_net_error) != LK_OK)
        return;
#define BIND_LWS(member, fn)                                                                       \
    ok = ok && bind_one(lws, LK_LWS_SONAME, #fn, &lk_cdp_net_table.lws.member);
#define BIND_CURL(member, fn)                                                                      \
    ok = ok && bind_one(curl, LK_CURL_SONAME, #fn, &lk_cdp_net_table.curl.member);
    LK_NET_LWS(BIND_LWS)
    LK_NET_CURL(BIND_CURL)
#undef BIND_LWS
#undef BIND_CURL
    lk_cdp_net_bound = ok;
}

int lk_cdp__net_bind(lk_error *err)
{
    pthread_once(&lk_cdp_net_once, bind_all);
    if (lk_cdp_net_bound)
        return LK_OK;
    return lk_error_set(err, LK_EIO, 0, "%s (the DevTools client needs it)", lk_cdp_net_error.msg);
}

const lk_cdp__net *lk_cdp__netlib(void)
{
    return &lk_cdp_net_table;
}
