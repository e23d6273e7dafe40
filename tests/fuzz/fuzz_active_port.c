/* libFuzzer: lk_cdp_parse_active_port on arbitrary bytes (the file is in a
 * profile folder anyone with access to it can write). */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "latchkey/cdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int port = -1;
    char *path = NULL;
    lk_error err;
    int rc = lk_cdp_parse_active_port((const char *)data, size, &port, &path, &err);
    if (rc != LK_OK) {
        assert(port == -1 && path == NULL && err.msg[0] != '\0');
        return 0;
    }
    assert(port >= 1 && port <= 65535);
    assert(strncmp(path, "/devtools/", 10) == 0 && strlen(path) > 10);
    for (const char *p = path; *p; p++)
        assert(*p > 0x20 && *p < 0x7f);
    free(path);
    return 0;
}
