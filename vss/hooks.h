/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Freeze hooks (peers.md §a.3 item 2, pain point 23): a directory of
 * executables that quiesce applications around a freeze.
 *
 * Contract:
 *  - hooks run in lexical (byte) order of their names with the argument
 *    `freeze` before any filesystem is frozen; the first that fails (exits
 *    non-zero, is killed, or runs past its timeout) fails the backup and
 *    the hooks after it are not run;
 *  - every hook that was started with `freeze` later gets exactly one
 *    closing call, in reverse order: `thaw` after the filesystems were
 *    thawed (also after an auto-thaw, a SIGTERM or a restart after a
 *    crash), or `freezeFail` when the freeze was rolled back (including
 *    the hook that failed: it may have done part of its work);
 *  - hooks never run while filesystems are frozen;
 *  - executed directly (posix_spawn, no shell), in their own process
 *    group (killed as a group on timeout), working directory /, stdin
 *    /dev/null, stdout and stderr captured line by line for the log,
 *    environment reduced to PATH and LC_ALL=C, default signal handling;
 *  - skipped: names starting with '.', package-manager and editor
 *    leftovers (*~, #*#, *.dpkg-*, *.rpmnew, *.rpmsave, *.rpmorig,
 *    *.ucf-*, *.bak, *.old, *.orig, *.save, *.swp, *.tmp, *.disabled),
 *    anything that is not a regular executable file, and files or a
 *    directory that are not owned by root (or the daemon's user) or are
 *    writable by group or others.
 */
#ifndef HVIS_VSS_HOOKS_H
#define HVIS_VSS_HOOKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HOOKS_MAX 256u
/* Output kept per hook run; more is counted and dropped. */
#define HOOK_OUTPUT_LINE_MAX 512u
#define HOOK_OUTPUT_LINES_MAX 200u

enum hook_phase {
	HOOK_FREEZE,
	HOOK_THAW,
	HOOK_FREEZE_FAIL,
	_HOOK_PHASE_MAX,
};

struct hook_entry {
	char *name;
	char *path;
	const char *skip; /* NULL: runnable; else why it is skipped */
};

struct hook_list {
	struct hook_entry *run; /* runnable, lexical order */
	size_t n_run;
	struct hook_entry *skipped; /* for the log */
	size_t n_skipped;
};

struct hook_result {
	bool spawned;
	bool timed_out;
	int exit_status; /* -1 unless it exited */
	int term_signal; /* 0 unless killed by a signal */
	uint64_t usec; /* run time */
	size_t lines_dropped;
};

/* A line the hook printed (without the newline, NUL-terminated, raw). */
typedef void (*hook_output_fn)(const struct hook_entry *h, const char *line,
			       void *userdata);
/*
 * Before a hook starts; a negative return stops the run with that error
 * (used to record the hook in the marker first).
 */
typedef int (*hook_start_fn)(const struct hook_entry *h, size_t index,
			     void *userdata);
/* After a hook ended; err is what hooks_run_one() returned. */
typedef void (*hook_done_fn)(const struct hook_entry *h, enum hook_phase phase,
			     const struct hook_result *res, int err,
			     void *userdata);

struct hook_options {
	uint64_t timeout_usec; /* per hook; 0: no limit */
	uint64_t budget_usec; /* for a whole freeze phase; 0: no limit */
	hook_output_fn output;
	hook_start_fn start;
	hook_done_fn done;
	void *userdata;
};

/* "freeze", "thaw", "freezeFail". */
const char *hook_phase_arg(enum hook_phase phase);

/* A name the package manager or an editor left behind, or a dot file. */
bool hooks_name_is_leftover(const char *name);

/*
 * Read dir. A missing directory is an empty list. Errors: -errno from
 * opendir/readdir, -ENOMEM. The directory itself must pass the ownership
 * check, else -EPERM.
 */
int hooks_scan(const char *dir, struct hook_list **ret);

/*
 * A list of the given paths (as recorded in the marker), each checked as
 * hooks_scan() would; failing ones go to skipped.
 */
int hooks_from_paths(const char *const *paths, size_t n,
		     struct hook_list **ret);

struct hook_list *hooks_free(struct hook_list *l);

/*
 * Run one hook with arg and wait for it, at most timeout_usec (0: no
 * limit). Returns 0 if it exited with status 0; -ETIMEDOUT (killed with
 * its process group), -EPROTO (non-zero exit), -EINTR (killed by a
 * signal), or -errno from spawning. res is always filled.
 */
int hooks_run_one(const struct hook_entry *h, enum hook_phase phase,
		  uint64_t timeout_usec, hook_output_fn output, void *userdata,
		  struct hook_result *res);

/*
 * The freeze phase: l->run in order until one fails. *ret_started is the
 * number of hooks started (so those owed a closing call: the first
 * *ret_started of l->run). Returns 0 or the failing hook's error; the
 * budget running out is -ETIMEDOUT.
 */
int hooks_freeze(const struct hook_list *l, const struct hook_options *o,
		 size_t *ret_started);

/*
 * The closing phase (HOOK_THAW or HOOK_FREEZE_FAIL): the first `started`
 * hooks of l->run in reverse order, all of them whatever fails. Returns 0
 * or the first error.
 */
int hooks_close(const struct hook_list *l, size_t started,
		enum hook_phase phase, const struct hook_options *o);

#endif
