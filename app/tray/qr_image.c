/* qr_image.c - the code a QR window shows, drawn in whole device pixels. */
#include <string.h>

#include "qr_image.h"

#define QUIET 4            /* modules of white around the code (the standard's minimum) */
#define MIN_MODULE_PX 6    /* the smallest module at the default size */
#define TYPICAL_MODULES 65 /* a WhatsApp payload (version 10, 57 modules) and the quiet zone */

void lk_qr_image_clear(lk_qr_image *im)
{
    g_clear_pointer(&im->payload, g_free);
    g_clear_pointer(&im->code, QRcode_free);
    g_clear_object(&im->png);
    g_clear_pointer(&im->png_bytes, g_bytes_unref);
}

gboolean lk_qr_image_shown(const lk_qr_image *im)
{
    return im->code || im->png;
}

int lk_qr_image_set_payload(lk_qr_image *im, const char *payload)
{
    QRcode *c;
    if (im->code && g_strcmp0(im->payload, payload) == 0)
        return 0;
    /* The same encoding as latchkeyctl's PNG and terminal output (one 8-bit
     * segment, level L), so the window and the CLI show the same symbol for
     * the same payload. */
    c = QRcode_encodeString8bit(payload, 0, QR_ECLEVEL_L);
    if (!c)
        return -1;
    lk_qr_image_clear(im);
    im->payload = g_strdup(payload);
    im->code = c;
    return 1;
}

static GdkPixbuf *load_png(const unsigned char *data, size_t len)
{
    GdkPixbufLoader *l = gdk_pixbuf_loader_new_with_type("png", NULL);
    GdkPixbuf *p = NULL;
    if (!l)
        return NULL;
    if (gdk_pixbuf_loader_write(l, data, len, NULL) && gdk_pixbuf_loader_close(l, NULL)) {
        p = gdk_pixbuf_loader_get_pixbuf(l);
        if (p)
            g_object_ref(p);
    } else {
        gdk_pixbuf_loader_close(l, NULL);
    }
    g_object_unref(l);
    return p;
}

int lk_qr_image_set_png(lk_qr_image *im, const unsigned char *png, size_t len)
{
    GdkPixbuf *p;
    if (im->png && im->png_bytes && g_bytes_get_size(im->png_bytes) == len &&
        memcmp(g_bytes_get_data(im->png_bytes, NULL), png, len) == 0)
        return 0;
    p = load_png(png, len);
    if (!p)
        return -1;
    lk_qr_image_clear(im);
    im->png = p;
    im->png_bytes = g_bytes_new(png, len);
    return 1;
}

int lk_qr_image_min_side(const lk_qr_image *im)
{
    int modules = im->code ? im->code->width + 2 * QUIET : 0;
    return MAX(TYPICAL_MODULES, modules) * MIN_MODULE_PX;
}

/* The white square around the captured canvas: the page's canvas is drawn
 * edge to edge, and a dark theme must not touch the code. */
static int png_margin(const GdkPixbuf *p)
{
    int side = MAX(gdk_pixbuf_get_width(p), gdk_pixbuf_get_height(p));
    return MAX(8, side / 16);
}

void lk_qr_image_draw(const lk_qr_image *im, cairo_t *cr, int aw, int ah)
{
    /* Whole device pixels only: no antialiasing, no filtering, no fractional
     * offsets, so every module edge is sharp for the phone's camera. */
    cairo_set_antialias(cr, CAIRO_ANTIALIAS_NONE);
    if (im->code) {
        int n = im->code->width + 2 * QUIET, mod = MAX(1, MIN(aw, ah) / n), side = n * mod;
        int x0 = (aw - side) / 2, y0 = (ah - side) / 2, x, y;
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_rectangle(cr, x0, y0, side, side);
        cairo_fill(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        for (y = 0; y < im->code->width; y++)
            for (x = 0; x < im->code->width; x++)
                if (im->code->data[y * im->code->width + x] & 1)
                    cairo_rectangle(cr, x0 + (x + QUIET) * mod, y0 + (y + QUIET) * mod, mod, mod);
        cairo_fill(cr);
    } else if (im->png) {
        int pw = gdk_pixbuf_get_width(im->png), ph = gdk_pixbuf_get_height(im->png);
        int m = png_margin(im->png);
        int f = MAX(1, MIN(aw / (pw + 2 * m), ah / (ph + 2 * m)));
        int bw = (pw + 2 * m) * f, bh = (ph + 2 * m) * f;
        int x0 = (aw - bw) / 2, y0 = (ah - bh) / 2;
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_rectangle(cr, x0, y0, bw, bh);
        cairo_fill(cr);
        cairo_save(cr);
        cairo_translate(cr, x0 + m * f, y0 + m * f);
        cairo_scale(cr, f, f);
        gdk_cairo_set_source_pixbuf(cr, im->png, 0, 0);
        cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
        cairo_rectangle(cr, 0, 0, pw, ph);
        cairo_fill(cr);
        cairo_restore(cr);
    }
}
