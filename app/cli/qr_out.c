/* A QR payload drawn in the terminal (Unicode half blocks) or as a PNG. */
#include <qrencode.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "qr_out.h"

#define QUIET 4

static int dark(const QRcode *q, int x, int y)
{
    if (x < 0 || y < 0 || x >= q->width || y >= q->width)
        return 0;
    return q->data[y * q->width + x] & 1;
}

int lk_qr_print(FILE *out, const char *payload)
{
    QRcode *q = QRcode_encodeString8bit(payload, 0, QR_ECLEVEL_L);
    int x, y;
    if (!q)
        return -1;
    /* Two rows per line; light-on-dark terminals scan fine with the quiet zone. */
    for (y = -QUIET; y < q->width + QUIET; y += 2) {
        for (x = -QUIET; x < q->width + QUIET; x++) {
            int top = dark(q, x, y), bottom = dark(q, x, y + 1);
            /* Dark modules are printed as spaces on a light background. */
            fputs(top && bottom ? " "
                  : top         ? "\xe2\x96\x84"
                  : bottom      ? "\xe2\x96\x80"
                                : "\xe2\x96\x88",
                  out);
        }
        fputc('\n', out);
    }
    QRcode_free(q);
    return 0;
}

static uint32_t crc_table[256];

static void crc_init(void)
{
    uint32_t n, c;
    int k;
    for (n = 0; n < 256; n++) {
        c = n;
        for (k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[n] = c;
    }
}

static uint32_t crc(uint32_t c, const unsigned char *p, size_t n)
{
    c = ~c;
    while (n--)
        c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
    return ~c;
}

static void be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static int chunk(FILE *f, const char *type, const unsigned char *data, size_t n)
{
    unsigned char hdr[8], tail[4];
    uint32_t c;
    be32(hdr, (uint32_t)n);
    memcpy(hdr + 4, type, 4);
    c = crc(0, hdr + 4, 4);
    c = crc(c, data, n);
    be32(tail, c);
    return fwrite(hdr, 1, 8, f) == 8 && (n == 0 || fwrite(data, 1, n, f) == n) &&
                   fwrite(tail, 1, 4, f) == 4
               ? 0
               : -1;
}

/* A grey-scale PNG, deflate "stored" blocks: no zlib needed, still valid. */
int lk_qr_write_png(const char *path, const char *payload, int scale)
{
    QRcode *q = QRcode_encodeString8bit(payload, 0, QR_ECLEVEL_L);
    int size, x, y, rc = -1;
    size_t row, raw_len, z_len, i, off;
    unsigned char *raw, *z, ihdr[13];
    uint32_t a = 1, b = 0;
    FILE *f;
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (!q)
        return -1;
    size = (q->width + 2 * QUIET) * scale;
    row = (size_t)size + 1;
    raw_len = row * (size_t)size;
    raw = malloc(raw_len);
    z_len = 2 + raw_len + 5 * (raw_len / 65535 + 1) + 4;
    z = malloc(z_len);
    if (!raw || !z)
        goto out;
    for (y = 0; y < size; y++) {
        raw[(size_t)y * row] = 0; /* filter: none */
        for (x = 0; x < size; x++)
            raw[(size_t)y * row + 1 + (size_t)x] =
                dark(q, x / scale - QUIET, y / scale - QUIET) ? 0 : 255;
    }
    z[0] = 0x78;
    z[1] = 0x01;
    off = 2;
    for (i = 0; i < raw_len; i += 65535) {
        size_t n = raw_len - i < 65535 ? raw_len - i : 65535;
        z[off++] = i + n >= raw_len ? 1 : 0;
        z[off++] = (unsigned char)(n & 0xff);
        z[off++] = (unsigned char)(n >> 8);
        z[off++] = (unsigned char)(~n & 0xff);
        z[off++] = (unsigned char)((~n >> 8) & 0xff);
        memcpy(z + off, raw + i, n);
        off += n;
    }
    for (i = 0; i < raw_len; i++) {
        a = (a + raw[i]) % 65521;
        b = (b + a) % 65521;
    }
    be32(z + off, (b << 16) | a);
    off += 4;
    be32(ihdr, (uint32_t)size);
    be32(ihdr + 4, (uint32_t)size);
    ihdr[8] = 8; /* bit depth */
    ihdr[9] = 0; /* grey */
    ihdr[10] = ihdr[11] = ihdr[12] = 0;
    crc_init();
    f = lk_cli_fopen(path, "wb");
    if (!f)
        goto out;
    rc = fwrite(sig, 1, 8, f) == 8 && chunk(f, "IHDR", ihdr, 13) == 0 &&
                 chunk(f, "IDAT", z, off) == 0 && chunk(f, "IEND", NULL, 0) == 0
             ? 0
             : -1;
    if (fclose(f) != 0)
        rc = -1;
out:
    free(raw);
    free(z);
    QRcode_free(q);
    return rc;
}

int lk_write_file(const char *path, const unsigned char *data, size_t len)
{
    FILE *f = lk_cli_fopen(path, "wb");
    int rc;
    if (!f)
        return -1;
    rc = fwrite(data, 1, len, f) == len ? 0 : -1;
    if (fclose(f) != 0)
        rc = -1;
    return rc;
}
