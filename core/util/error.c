#include "latchkey/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int lk_error_set(lk_error *err, lk_code code, int sys, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        err->code = code;
        err->sys = sys;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return (int)code;
}

void lk_error_clear(lk_error *err)
{
    if (err) {
        err->code = LK_OK;
        err->sys = 0;
        err->msg[0] = '\0';
    }
}

const char *lk_code_name(lk_code code)
{
    switch (code) {
    case LK_OK: return "ok";
    case LK_EINVAL: return "invalid input";
    case LK_ENOENT: return "not found";
    case LK_EACCES: return "permission denied";
    case LK_ENOMEM: return "out of memory";
    case LK_EIO: return "system error";
    case LK_EREFUSED: return "refused";
    case LK_ETIMEDOUT: return "timed out";
    case LK_EBUSY: return "busy";
    case LK_ENOTSUP: return "not supported";
    case LK_EPROTO: return "protocol error";
    }
    return "unknown error";
}
