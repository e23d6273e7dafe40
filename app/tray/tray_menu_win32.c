/* tray_menu_win32.c - the notification-area menu on Windows: where it opens,
 * and closing it when the user has moved on.
 *
 * gtk_status_icon_position_menu() places the menu at the click and lets GTK
 * push it into the screen: at a taskbar along the screen's bottom edge GTK
 * then shrinks the menu to what fits below the click and scrolls it (wine
 * draws that as an empty box). Anchored to the click point instead, GDK
 * flips it above, beside or below the point, wherever the taskbar is, at its
 * full size.
 *
 * GTK's Win32 tray menus stay open when the user clicks elsewhere (the
 * taskbar's window gets the click, not GTK's grab): a menu the pointer has
 * not been over for a few seconds is closed. */
#include "tray_menu_win32.h"

#define IDLE_CLOSE_MS 4000
#define IDLE_TICK_MS 250

typedef struct idle_close {
    guint src;
    gint64 last_inside_us;
} idle_close;

/* The pointer is over the menu or one of its open submenus. */
static gboolean pointer_over(GtkWidget *menu, GdkDevice *pointer)
{
    GtkWidget *top = gtk_widget_get_toplevel(menu);
    GdkWindow *win = top ? gtk_widget_get_window(top) : NULL;
    GList *kids, *l;
    gboolean over = FALSE;
    int x, y;
    if (!win || !gtk_widget_get_mapped(menu))
        return FALSE;
    gdk_window_get_device_position(win, pointer, &x, &y, NULL);
    if (x >= 0 && y >= 0 && x < gdk_window_get_width(win) && y < gdk_window_get_height(win))
        return TRUE;
    kids = gtk_container_get_children(GTK_CONTAINER(menu));
    for (l = kids; l && !over; l = l->next) {
        GtkWidget *sub = GTK_IS_MENU_ITEM(l->data) ? gtk_menu_item_get_submenu(l->data) : NULL;
        over = sub && pointer_over(sub, pointer);
    }
    g_list_free(kids);
    return over;
}

static gboolean idle_tick(gpointer p)
{
    GtkWidget *menu = p;
    idle_close *ic = g_object_get_data(G_OBJECT(menu), "lk-idle-close");
    GdkSeat *seat = gdk_display_get_default_seat(gtk_widget_get_display(menu));
    GdkDevice *pointer = seat ? gdk_seat_get_pointer(seat) : NULL;
    gint64 now = g_get_monotonic_time();
    if (pointer && pointer_over(menu, pointer))
        ic->last_inside_us = now;
    if (now - ic->last_inside_us < (gint64)IDLE_CLOSE_MS * 1000)
        return G_SOURCE_CONTINUE;
    ic->src = 0;
    gtk_menu_shell_deactivate(GTK_MENU_SHELL(menu));
    return G_SOURCE_REMOVE;
}

static void idle_stop(GtkWidget *menu, gpointer user)
{
    idle_close *ic = g_object_get_data(G_OBJECT(menu), "lk-idle-close");
    if (ic && ic->src) {
        g_source_remove(ic->src);
        ic->src = 0;
    }
}

static void idle_close_free(gpointer p)
{
    idle_close *ic = p;
    if (ic->src)
        g_source_remove(ic->src);
    g_free(ic);
}

void lk_tray_menu_popup_win32(GtkMenu *menu, GtkStatusIcon *icon)
{
    GdkScreen *screen = gtk_status_icon_get_screen(icon);
    GdkSeat *seat = gdk_display_get_default_seat(gdk_screen_get_display(screen));
    GdkDevice *pointer = seat ? gdk_seat_get_pointer(seat) : NULL;
    GdkRectangle at = {0, 0, 1, 1};
    idle_close *ic = g_object_get_data(G_OBJECT(menu), "lk-idle-close");

    if (!ic) {
        ic = g_new0(idle_close, 1);
        g_object_set_data_full(G_OBJECT(menu), "lk-idle-close", ic, idle_close_free);
        g_signal_connect(menu, "hide", G_CALLBACK(idle_stop), NULL);
    }
    if (pointer)
        gdk_device_get_position(pointer, NULL, &at.x, &at.y);
    g_object_set(menu, "anchor-hints", GDK_ANCHOR_FLIP | GDK_ANCHOR_SLIDE | GDK_ANCHOR_RESIZE,
                 NULL);
    /* The menu's bottom-left corner at the point: up and to the right, the
     * usual place above a taskbar at the bottom; flipped when it does not fit. */
    gtk_menu_popup_at_rect(menu, gdk_screen_get_root_window(screen), &at, GDK_GRAVITY_NORTH_WEST,
                           GDK_GRAVITY_SOUTH_WEST, NULL);
    idle_stop(GTK_WIDGET(menu), NULL);
    ic->last_inside_us = g_get_monotonic_time();
    ic->src = g_timeout_add(IDLE_TICK_MS, idle_tick, menu);
}
