/* The network libraries as the linker bound them (see netlib.h). */
#include "cdp/netlib.h"

#define LK_NET__ADDR(member, fn) .member = fn,

static const lk_cdp__net lk_cdp_net_linked = {
    .lws = {LK_NET_LWS(LK_NET__ADDR)},
    .curl = {LK_NET_CURL(LK_NET__ADDR)},
};

int lk_cdp__net_bind(lk_error *err)
{
    (void)err;
    return LK_OK;
}

const lk_cdp__net *lk_cdp__netlib(void)
{
    return &lk_cdp_net_linked;
}
