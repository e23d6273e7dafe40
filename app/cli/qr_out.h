#ifndef LK_CLI_QR_OUT_H
#define LK_CLI_QR_OUT_H

#include <stddef.h>
#include <stdio.h>

int lk_qr_print(FILE *out, const char *payload);
int lk_qr_write_png(const char *path, const char *payload, int scale);
int lk_write_file(const char *path, const unsigned char *data, size_t len);

#endif
