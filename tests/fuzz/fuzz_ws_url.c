/* libFuzzer: the ws:// URL splitter (its input comes from /json/version and
 * DevToolsActivePort, i.e. from whoever answers on the port). */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cdp/cdp_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lk_cdp__url u;
    lk_error err;
    char *s = malloc(size + 1);
    int rc;
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    rc = lk_cdp__parse_ws_url(s, &u, &err);
    if (rc == LK_OK) {
        assert(u.port >= 1 && u.port <= 65535);
        assert(u.path[0] == '/');
        assert(strcmp(u.host, "::1") == 0 || strcasecmp(u.host, "localhost") == 0 ||
               strncmp(u.host, "127.", 4) == 0);
        for (const char *p = u.path; *p; p++)
            assert(*p > 0x20 && *p < 0x7f);
    } else {
        assert(rc == LK_EINVAL && err.msg[0] != '\0');
    }
    free(s);
    return 0;
}
