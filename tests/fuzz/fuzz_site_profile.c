/* libFuzzer: lk_site_parse on arbitrary bytes (a site profile is a file a
 * user edits, or one that comes with a support ticket). */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "latchkey/site.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lk_site *s = NULL;
    lk_error err;
    size_t i;
    int rc = lk_site_parse((const char *)data, size, &s, &err);
    if (rc != LK_OK) {
        assert(s == NULL && err.msg[0] != '\0');
        return 0;
    }
    /* Whatever was accepted is complete and bounded. */
    assert(s->name && s->url && s->qr_selector && s->qr_attribute && s->logout_url);
    assert(s->nlinked >= 1 && s->nlinked <= 32);
    for (i = 0; i < s->nlinked; i++)
        assert(s->linked[i] && strlen(s->linked[i]) >= 1 && strlen(s->linked[i]) <= 1024);
    assert(s->conflict_text || s->conflict_selector);
    assert(strncmp(s->url, "http://", 7) == 0 || strncmp(s->url, "https://", 8) == 0 ||
           strncmp(s->url, "file://", 7) == 0);
    lk_site_free(s);
    return 0;
}
