/* tmp_dir_fixture.h - a fresh temp dir for a unit test that works on a real database file, and
 * its removal. Static inline: a test takes what it needs. Not a test itself (CMake builds
 * tests/unit/test_*.c). */
#ifndef HO_TMP_DIR_FIXTURE_H
#define HO_TMP_DIR_FIXTURE_H

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

/* A new directory made from tmpl ("/tmp/ho-NAME-XXXXXX") in dir, and db = dir/handoff.db.
 * 0, or -1 when mkdtemp fails. */
static inline int s_tmp_dir_new(char *dir, size_t dir_cap, char *db, size_t db_cap,
                                const char *tmpl)
{
    snprintf(dir, dir_cap, "%s", tmpl);
    if (!mkdtemp(dir)) {
        return -1;
    }
    snprintf(db, db_cap, "%s/handoff.db", dir);
    return 0;
}

/* rm -rf dir: 0, or -1 when that failed. */
static inline int s_tmp_dir_remove(const char *dir)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

#endif
