/* i18n.h - translatable strings: _("...") for text, N_("...") for tables. */
#ifndef LK_TRAY_I18N_H
#define LK_TRAY_I18N_H

#define GETTEXT_PACKAGE "latchkey"
#include <glib/gi18n.h>

/* Binds the text domain to the installed (or, from a build folder, the
 * built) translations. Call once, before any window exists. */
void lk_i18n_init(void);

#endif
