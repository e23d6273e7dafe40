/* doctor_layout.c - the lock doctor dialog's widgets: a stack of pages (the
 * scan, the plan, the work, the result) over a row of buttons. Built here,
 * driven by doctor_dialog.c. */
#include "doctor_layout.h"
#include "i18n.h"

static GtkWidget *label_new(gboolean wrap, gboolean selectable)
{
    GtkWidget *l = gtk_label_new(NULL);
    gtk_label_set_xalign(GTK_LABEL(l), 0.0f);
    gtk_label_set_line_wrap(GTK_LABEL(l), wrap);
    gtk_label_set_selectable(GTK_LABEL(l), selectable);
    return l;
}

static void add_text_column(GtkTreeView *tv, const char *title, int col, gboolean expand)
{
    GtkCellRenderer *r = gtk_cell_renderer_text_new();
    if (expand)
        g_object_set(r, "ellipsize", PANGO_ELLIPSIZE_MIDDLE, "width-chars", 30, NULL);
    GtkTreeViewColumn *c = gtk_tree_view_column_new_with_attributes(title, r, "text", col, NULL);
    gtk_tree_view_column_set_resizable(c, TRUE);
    gtk_tree_view_column_set_expand(c, expand);
    gtk_tree_view_append_column(tv, c);
}

static GtkWidget *holders_view(lk_doctor_widgets *d)
{
    GtkWidget *tv;
    GtkCellRenderer *r;
    GtkTreeViewColumn *c;
    d->store = gtk_list_store_new(N_COLS, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING,
                                  G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING);
    tv = gtk_tree_view_new_with_model(GTK_TREE_MODEL(d->store));
    r = gtk_cell_renderer_pixbuf_new();
    c = gtk_tree_view_column_new_with_attributes("", r, "icon-name", COL_ICON, NULL);
    gtk_tree_view_append_column(GTK_TREE_VIEW(tv), c);
    add_text_column(GTK_TREE_VIEW(tv), _("Process"), COL_NAME, FALSE);
    add_text_column(GTK_TREE_VIEW(tv), _("PID"), COL_PID, FALSE);
    add_text_column(GTK_TREE_VIEW(tv), _("User"), COL_USER, FALSE);
    add_text_column(GTK_TREE_VIEW(tv), _("Kind"), COL_KIND, FALSE);
    add_text_column(GTK_TREE_VIEW(tv), _("Action"), COL_ACTION, FALSE);
    /* Last and ellipsized: Chromium's paths are long, the rest must stay in view. */
    add_text_column(GTK_TREE_VIEW(tv), _("What it holds"), COL_HOLDS, TRUE);
    gtk_tree_view_set_tooltip_column(GTK_TREE_VIEW(tv), COL_HOLDS);
    d->scroll = gtk_scrolled_window_new(NULL, NULL);
    gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(d->scroll), GTK_POLICY_AUTOMATIC,
                                   GTK_POLICY_AUTOMATIC);
    gtk_scrolled_window_set_shadow_type(GTK_SCROLLED_WINDOW(d->scroll), GTK_SHADOW_IN);
    gtk_widget_set_vexpand(d->scroll, TRUE);
    gtk_container_add(GTK_CONTAINER(d->scroll), tv);
    return d->scroll;
}

static GtkWidget *page_box(void)
{
    GtkWidget *b = gtk_box_new(GTK_ORIENTATION_VERTICAL, 8);
    gtk_container_set_border_width(GTK_CONTAINER(b), 12);
    return b;
}

void lk_doctor_layout(lk_doctor_widgets *d, GtkWindow *parent)
{
    GtkWidget *outer, *page, *row, *buttons, *details_scroll;

    d->win = gtk_window_new(GTK_WINDOW_TOPLEVEL);
    gtk_window_set_default_size(GTK_WINDOW(d->win), 780, 460);
    gtk_window_set_icon_name(GTK_WINDOW(d->win), "dialog-warning");
    if (parent) {
        gtk_window_set_transient_for(GTK_WINDOW(d->win), parent);
    }
    outer = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
    gtk_container_add(GTK_CONTAINER(d->win), outer);
    d->stack = gtk_stack_new();
    gtk_widget_set_vexpand(d->stack, TRUE);
    gtk_box_pack_start(GTK_BOX(outer), d->stack, TRUE, TRUE, 0);

    /* scanning */
    page = page_box();
    row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
    gtk_widget_set_valign(row, GTK_ALIGN_CENTER);
    gtk_widget_set_halign(row, GTK_ALIGN_CENTER);
    gtk_widget_set_vexpand(row, TRUE);
    d->spinner = gtk_spinner_new();
    d->scan_label = label_new(TRUE, FALSE);
    gtk_box_pack_start(GTK_BOX(row), d->spinner, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(row), d->scan_label, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(page), row, TRUE, TRUE, 0);
    gtk_stack_add_named(GTK_STACK(d->stack), page, "scan");

    /* the plan: holders, spared, uninspectable, locks */
    page = page_box();
    d->headline = label_new(TRUE, TRUE);
    d->where = label_new(FALSE, TRUE);
    gtk_label_set_ellipsize(GTK_LABEL(d->where), PANGO_ELLIPSIZE_MIDDLE);
    gtk_style_context_add_class(gtk_widget_get_style_context(d->where), "dim-label");
    d->details = label_new(TRUE, TRUE);
    gtk_widget_set_valign(d->details, GTK_ALIGN_START);
    details_scroll = gtk_scrolled_window_new(NULL, NULL);
    gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(details_scroll), GTK_POLICY_NEVER,
                                   GTK_POLICY_AUTOMATIC);
    gtk_scrolled_window_set_propagate_natural_height(GTK_SCROLLED_WINDOW(details_scroll), TRUE);
    gtk_scrolled_window_set_max_content_height(GTK_SCROLLED_WINDOW(details_scroll), 160);
    gtk_container_add(GTK_CONTAINER(details_scroll), d->details);
    gtk_box_pack_start(GTK_BOX(page), d->headline, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(page), d->where, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(page), holders_view(d), TRUE, TRUE, 0);
    gtk_box_pack_start(GTK_BOX(page), details_scroll, FALSE, FALSE, 0);
    gtk_stack_add_named(GTK_STACK(d->stack), page, "plan");

    /* the cleanup at work */
    page = page_box();
    gtk_widget_set_valign(page, GTK_ALIGN_CENTER);
    d->progress = gtk_progress_bar_new();
    gtk_progress_bar_set_pulse_step(GTK_PROGRESS_BAR(d->progress), 0.05);
    d->phase = label_new(TRUE, FALSE);
    gtk_box_pack_start(GTK_BOX(page), d->progress, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(page), d->phase, FALSE, FALSE, 0);
    gtk_stack_add_named(GTK_STACK(d->stack), page, "work");

    /* the result */
    page = page_box();
    d->result_head = label_new(TRUE, TRUE);
    d->result_text = label_new(TRUE, TRUE);
    gtk_widget_set_valign(d->result_text, GTK_ALIGN_START);
    row = gtk_scrolled_window_new(NULL, NULL);
    gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(row), GTK_POLICY_NEVER,
                                   GTK_POLICY_AUTOMATIC);
    gtk_widget_set_vexpand(row, TRUE);
    gtk_container_add(GTK_CONTAINER(row), d->result_text);
    gtk_box_pack_start(GTK_BOX(page), d->result_head, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(page), row, TRUE, TRUE, 0);
    gtk_stack_add_named(GTK_STACK(d->stack), page, "result");

    buttons = gtk_button_box_new(GTK_ORIENTATION_HORIZONTAL);
    gtk_button_box_set_layout(GTK_BUTTON_BOX(buttons), GTK_BUTTONBOX_END);
    gtk_box_set_spacing(GTK_BOX(buttons), 6);
    gtk_container_set_border_width(GTK_CONTAINER(buttons), 12);
    d->rescan = gtk_button_new_with_mnemonic(_("_Rescan"));
    d->close = gtk_button_new_with_mnemonic(_("_Close"));
    /* Unlock first: it fixes the lock and keeps the login. */
    d->unlock = gtk_button_new_with_mnemonic(_("_Unlock (keep login)"));
    gtk_style_context_add_class(gtk_widget_get_style_context(d->unlock), "suggested-action");
    gtk_widget_set_can_default(d->unlock, TRUE);
    gtk_widget_set_sensitive(d->unlock, FALSE);
    d->kill = gtk_button_new_with_mnemonic(_("_Delete session"));
    gtk_style_context_add_class(gtk_widget_get_style_context(d->kill), "destructive-action");
    gtk_widget_set_sensitive(d->kill, FALSE);
    gtk_container_add(GTK_CONTAINER(buttons), d->rescan);
    gtk_container_add(GTK_CONTAINER(buttons), d->close);
    gtk_container_add(GTK_CONTAINER(buttons), d->kill);
    gtk_container_add(GTK_CONTAINER(buttons), d->unlock);
    gtk_button_box_set_child_secondary(GTK_BUTTON_BOX(buttons), d->rescan, TRUE);
    gtk_box_pack_end(GTK_BOX(outer), buttons, FALSE, FALSE, 0);
    gtk_box_pack_end(GTK_BOX(outer), gtk_separator_new(GTK_ORIENTATION_HORIZONTAL), FALSE, FALSE,
                     0);

    gtk_widget_show_all(outer);
}
