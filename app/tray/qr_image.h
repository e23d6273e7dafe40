/* qr_image.h - the code a QR window shows: a payload encoded here, or the
 * picture of the page's own canvas, and how it is drawn sharp. */
#ifndef LK_TRAY_QR_IMAGE_H
#define LK_TRAY_QR_IMAGE_H

#include <gtk/gtk.h>
#include <qrencode.h>

typedef struct lk_qr_image {
    char *payload; /* at most one of payload+code / png */
    QRcode *code;
    GdkPixbuf *png;
    GBytes *png_bytes;
} lk_qr_image;

void lk_qr_image_clear(lk_qr_image *im);
gboolean lk_qr_image_shown(const lk_qr_image *im);
/* Each sets what is shown: 1 changed, 0 the same as before, -1 cannot be
 * shown (what was shown is kept). */
int lk_qr_image_set_payload(lk_qr_image *im, const char *payload);
int lk_qr_image_set_png(lk_qr_image *im, const unsigned char *png, size_t len);
/* The side, in pixels, the code needs at the default module size. */
int lk_qr_image_min_side(const lk_qr_image *im);
void lk_qr_image_draw(const lk_qr_image *im, cairo_t *cr, int width, int height);

#endif
