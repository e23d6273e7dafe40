/* ui_font_win32.c - a UI font that Windows can actually draw.
 *
 * GDK takes GTK's font from the system's message font (Segoe UI on Windows
 * 10 and 11), converted through Pango's DirectWrite backend. Where that
 * conversion fails (wine's DirectWrite, a damaged font setup) GTK is told to
 * use a family named "(NULL)" and every glyph comes out as a box. So the
 * setting is checked once GTK is up: a family Pango cannot find is replaced
 * by one it can, in the size the system asked for. LATCHKEY_UI_FONT
 * ("Family Size") overrides both. */
#include "ui_font_win32.h"

#include <pango/pangocairo.h>

#define DEFAULT_SIZE_PT 9

/* The family of the font map whose name is name (case-insensitive), or NULL. */
static PangoFontFamily *find_family(PangoFontFamily **fams, int n, const char *name)
{
    int i;
    for (i = 0; name && i < n; i++)
        if (g_ascii_strcasecmp(pango_font_family_get_name(fams[i]), name) == 0)
            return fams[i];
    return NULL;
}

static int by_name(const void *a, const void *b)
{
    return g_ascii_strcasecmp(pango_font_family_get_name(*(PangoFontFamily *const *)a),
                              pango_font_family_get_name(*(PangoFontFamily *const *)b));
}

void lk_ui_font_check(void)
{
    /* The families Windows and wine install, most to least native. */
    static const char *const wanted[] = {"Segoe UI",    "Tahoma",          "Microsoft Sans Serif",
                                         "Arial",       "Liberation Sans", "DejaVu Sans",
                                         "Noto Sans",   "Verdana"};
    GtkSettings *settings = gtk_settings_get_default();
    const char *forced = g_getenv("LATCHKEY_UI_FONT");
    PangoFontFamily **fams = NULL, *use = NULL;
    PangoFontDescription *desc;
    const char *family;
    char *current = NULL, *pick;
    int n = 0, size;
    size_t i;

    if (!settings)
        return;
    if (forced && *forced) {
        g_object_set(settings, "gtk-font-name", forced, NULL);
        return;
    }
    g_object_get(settings, "gtk-font-name", &current, NULL);
    desc = pango_font_description_from_string(current ? current : "");
    family = pango_font_description_get_family(desc);
    pango_font_map_list_families(pango_cairo_font_map_get_default(), &fams, &n);
    if (family && find_family(fams, n, family)) {
        /* Drawable: nothing to do (the normal case on Windows). */
        goto out;
    }
    for (i = 0; i < G_N_ELEMENTS(wanted) && !use; i++)
        use = find_family(fams, n, wanted[i]);
    if (!use && n > 0) {
        qsort(fams, (size_t)n, sizeof *fams, by_name);
        use = fams[0];
    }
    if (!use) {
        g_warning("no font family is available to draw text with");
        goto out;
    }
    size = pango_font_description_get_size(desc) / PANGO_SCALE;
    if (size <= 0 || size > 72)
        size = DEFAULT_SIZE_PT;
    pick = g_strdup_printf("%s %d", pango_font_family_get_name(use), size);
    g_message("the system's UI font \"%s\" cannot be drawn; using \"%s\"",
              current ? current : "", pick);
    g_object_set(settings, "gtk-font-name", pick, NULL);
    g_free(pick);
out:
    g_free(fams);
    pango_font_description_free(desc);
    g_free(current);
}
