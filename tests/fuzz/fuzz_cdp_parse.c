/* libFuzzer: lk_cdp_parse on arbitrary bytes. Never crashes, never leaks,
 * and what it accepts has the shape its callers rely on. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "latchkey/cdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lk_cdp_msg m;
    lk_error err;
    int rc = lk_cdp_parse((const char *)data, size, &m, &err);
    if (rc != LK_OK) {
        assert(m.root == NULL && m.method == NULL && m.result == NULL && m.params == NULL);
        assert((int)err.code == rc && err.msg[0] != '\0');
        return 0;
    }
    assert(json_is_object(m.root));
    assert(m.session_id == NULL || (*m.session_id && strlen(m.session_id) < size));
    if (m.kind == LK_CDP_REPLY) {
        assert(m.method == NULL && m.params == NULL);
        assert((m.result != NULL) != (m.error[0] != '\0'));
        assert(m.result == NULL || json_is_object(m.result));
        assert(memchr(m.error, '\0', sizeof m.error) != NULL);
    } else {
        assert(m.kind == LK_CDP_EVENT);
        assert(m.method && *m.method && m.result == NULL);
        assert(json_is_object(m.params));
    }
    json_decref(m.root);
    return 0;
}
