/* Guard rails: folders cleanup refuses to touch, whatever it is told. */
#include <stdlib.h>
#include <string.h>

#include "latchkey/doctor.h"
#include "latchkey/path.h"

static int looks_like_profile(const char *dir, int win)
{
    char *local_state = lk_path_join(dir, "Local State", win);
    char *def = lk_path_join(dir, "Default", win);
    int yes = (local_state && lk_sys_ftype(local_state) == LK_FT_FILE) ||
              (def && lk_sys_ftype(def) == LK_FT_DIR);
    free(local_state);
    free(def);
    return yes;
}

static int refuse_one(const char *path, const char *given, unsigned flags, int win, lk_error *err)
{
    char *home = lk_sys_home_dir();
    int rc = LK_OK;
    if (lk_sys_is_fs_root(path))
        rc = lk_error_set(err, LK_EREFUSED, 0, "%s is the root of a file system", given);
    else if (home && lk_path_within(path, home, win))
        rc = lk_error_set(err, LK_EREFUSED, 0,
                          lk_path_equal(path, home, win) ? "%s is your home folder"
                                                         : "%s contains your home folder",
                          given);
    else if (lk_sys_is_system_dir(path))
        rc = lk_error_set(err, LK_EREFUSED, 0, "%s is a system folder", given);
    else if (!(flags & LK_CLEAN_ANY_FOLDER) && !looks_like_profile(path, win))
        rc = lk_error_set(err, LK_EREFUSED, 0,
                          "%s does not look like a Chromium profile (no 'Local State' file and no "
                          "'Default' folder); pass --any-folder if you are sure",
                          given);
    free(home);
    return rc;
}

int lk_doctor_check_target(const char *abspath, unsigned flags, lk_error *err)
{
    char *real = NULL;
    int win = lk_path_is_win(abspath);
    int rc = refuse_one(abspath, abspath, flags, win, err);
    /* The real path too: a harmless-looking link must not lead to /usr. */
    if (rc == LK_OK && lk_sys_realpath(abspath, &real, NULL) == LK_OK &&
        !lk_path_equal(real, abspath, win))
        rc = refuse_one(real, abspath, flags, win, err);
    free(real);
    return rc;
}
