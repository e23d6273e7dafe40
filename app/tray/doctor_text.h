/* doctor_text.h - the lock doctor's words: what a plan and a report say, for
 * the doctor dialog. Pure text from core's reports; no widgets. */
#ifndef LK_TRAY_DOCTOR_TEXT_H
#define LK_TRAY_DOCTOR_TEXT_H

#include <glib.h>

#include "latchkey/doctor.h"

const char *lk_doctor_step_text(const char *step); /* core's phases, translated */
const char *lk_doctor_kind_icon(lk_kind k);
const char *lk_doctor_kind_text(lk_kind k);
/* Who started a browser, in the user's language: "orphaned: its launcher
 * exited", "used by a running bot: node pid 4242", "started by Latchkey". */
char *lk_launcher_text(const lk_holder *hd);
/* What a holder holds, relative to the folder, one line each (the browser:
 * who started it). */
char *lk_doctor_holds_text(const lk_holders *h, const lk_holder *hd);
/* Spared processes, uninspectable ones and the profile's locks. */
char *lk_doctor_details_text(const lk_holders *h);
/* The plan's headline (dry run c), and the title's short state. */
char *lk_doctor_plan_text(const lk_cleanup *c, const char *name, char **state);
/* A finished unlock or delete: headline, title state and the full report. */
char *lk_doctor_result_text(const lk_cleanup *c, const char *name, gboolean stopped,
                            char **head, char **state);

#endif
