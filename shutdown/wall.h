/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A wall(1)-style broadcast: the text goes to the terminal of every user
 * logged in according to utmp. Never blocks: terminals are opened and
 * written non-blocking, and one that would block is skipped.
 */
#ifndef SHUTDOWN_WALL_H
#define SHUTDOWN_WALL_H

/*
 * Write text (already safe to show: the caller escapes host strings) to
 * <dev_dir>/<ut_line> of each USER_PROCESS record in utmp_path, once per
 * terminal. Only character devices are written. Returns how many
 * terminals got the whole text, 0 if utmp does not exist, or -errno if it
 * cannot be read.
 */
int shutdown_wall(const char *utmp_path, const char *dev_dir, const char *text);

#endif
