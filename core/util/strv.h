/* Private growable arrays for core: one push helper instead of realloc at every site. */
#ifndef LK_UTIL_STRV_H
#define LK_UTIL_STRV_H

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Makes room for one more element of size `size` in *arr (count *n, capacity
 * *cap); returns a pointer to the new zeroed slot, or NULL when out of memory. */
static inline void *lk_push(void *arr_ptr, size_t *n, size_t *cap, size_t size)
{
    void **arr = (void **)arr_ptr;
    char *slot;
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        void *grown = realloc(*arr, ncap * size);
        if (!grown)
            return NULL;
        *arr = grown;
        *cap = ncap;
    }
    slot = (char *)*arr + (*n)++ * size;
    memset(slot, 0, size);
    return slot;
}

static inline char *lk_strdup(const char *s)
{
    size_t n;
    char *d;
    if (!s)
        return NULL;
    n = strlen(s) + 1;
    d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* ASCII-only case-insensitive comparison of the first n bytes. */
static inline int lk_ascii_ncaseeq(const char *a, const char *b, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z')
            x = (char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (char)(y - 'A' + 'a');
        if (x != y)
            return 0;
        if (!x)
            return 1;
    }
    return 1;
}

#endif
