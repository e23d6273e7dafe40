/* latchkey/error.h - every failure has a code and a human message. */
#ifndef LATCHKEY_ERROR_H
#define LATCHKEY_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum lk_code {
    LK_OK = 0,
    LK_EINVAL,    /* bad input from the caller or from outside */
    LK_ENOENT,    /* no such file, folder or process */
    LK_EACCES,    /* permission denied */
    LK_ENOMEM,    /* out of memory */
    LK_EIO,       /* an OS call failed for another reason */
    LK_EREFUSED,  /* a guard rail said no; nothing was touched */
    LK_ETIMEDOUT, /* the deadline passed */
    LK_EBUSY,     /* something still holds it */
    LK_ENOTSUP,   /* not available on this system */
    LK_EPROTO     /* a peer sent something malformed */
} lk_code;

typedef struct lk_error {
    lk_code code;
    int sys; /* errno or GetLastError(), 0 when none */
    char msg[512];
} lk_error;

/* printf-style format checking. mingw's gcc reads format(printf) as msvcrt's
 * dialect (no %zu, no %lld), but the printf family core calls there is
 * mingw's C99 one (__USE_MINGW_ANSI_STDIO, on for C11 and set by the build),
 * which is GNU's dialect. A toolchain matter, not an OS one. */
#if defined(__MINGW32__)
#define LK_PRINTF_FORMAT(fmt, args) __attribute__((format(gnu_printf, fmt, args)))
#elif defined(__GNUC__)
#define LK_PRINTF_FORMAT(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define LK_PRINTF_FORMAT(fmt, args)
#endif

/* Sets err (when not NULL) and returns code, so callers can `return lk_error_set(...)`. */
int lk_error_set(lk_error *err, lk_code code, int sys, const char *fmt, ...) LK_PRINTF_FORMAT(4, 5);
void lk_error_clear(lk_error *err);
const char *lk_code_name(lk_code code);

#ifdef __cplusplus
}
#endif
#endif
