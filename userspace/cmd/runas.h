/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Who `run`'s command runs as. cidtrace needs root for BPF; the job it wraps does not, so
 * under sudo the command runs as the user who ran sudo (SUDO_UID, SUDO_GID, SUDO_USER), with
 * that user's groups and no capabilities. --as-root keeps root, --user NAME picks another
 * account. Accounts and groups are read from /etc/passwd and /etc/group directly: a static
 * binary cannot count on glibc's NSS modules.
 */
#ifndef CIDTRACE_RUNAS_H
#define CIDTRACE_RUNAS_H

#include <stdbool.h>
#include <sys/types.h>

struct runas {
	bool drop; /* false: the command keeps cidtrace's own identity */
	uid_t uid;
	gid_t gid;
	gid_t *groups; /* supplementary groups, the primary one included */
	int ngroups;
	char *name, *home; /* from /etc/passwd; NULL if the account is not there */
};

/*
 * Decide from --as-root, --user (NULL: none) and the environment sudo leaves. Returns -1 to
 * go on, or the usage error (one line on stderr).
 */
int runas_resolve(struct runas *r, bool as_root, const char *user);
/*
 * In the forked command, before exec: become r's user for good (groups, gid, uid), with no
 * capability left, and HOME, USER and LOGNAME set for it. 0, or -1 with one line on stderr.
 */
int runas_apply(const struct runas *r);

#endif
