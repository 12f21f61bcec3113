// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "options.h"
#include "runas.h"
#include "util.h"

/* The /etc/passwd entry of name, or (name NULL) of uid; false if there is none. */
static bool find_user(const char *name, uid_t uid, struct runas *r)
{
	FILE *f = fopen("/etc/passwd", "re");
	struct passwd *pw;
	bool found = false;

	if (!f)
		return false;
	while (!found && (pw = fgetpwent(f)))
		if (name ? !strcmp(pw->pw_name, name) : pw->pw_uid == uid) {
			r->uid = pw->pw_uid;
			r->gid = pw->pw_gid;
			r->name = xstrdup(pw->pw_name);
			r->home = xstrdup(pw->pw_dir);
			found = true;
		}
	fclose(f);
	return found;
}

static void add_group(struct runas *r, gid_t gid)
{
	for (int i = 0; i < r->ngroups; i++)
		if (r->groups[i] == gid)
			return;
	r->groups = xreallocarray(r->groups, r->ngroups + 1, sizeof(*r->groups));
	r->groups[r->ngroups++] = gid;
}

/* As initgroups(3): the primary group, and every /etc/group entry that lists the name. */
static void find_groups(struct runas *r)
{
	struct group *gr;
	FILE *f;

	add_group(r, r->gid);
	if (!r->name || !(f = fopen("/etc/group", "re")))
		return;
	while ((gr = fgetgrent(f)) && r->ngroups < NGROUPS_MAX)
		for (char **m = gr->gr_mem; m && *m; m++)
			if (!strcmp(*m, r->name)) {
				add_group(r, gr->gr_gid);
				break;
			}
	fclose(f);
}

/* A decimal id of the environment variable var into *out; false if it is not one. */
static bool env_id(const char *var, unsigned int *out)
{
	const char *s = getenv(var);
	unsigned long n;
	char *end;

	if (!s || !*s)
		return false;
	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno || *end || *s == '-' || n >= (unsigned int)-1)
		return false;
	*out = n;
	return true;
}

static int by_name(struct runas *r, const char *user)
{
	unsigned long n;
	char *end;

	errno = 0;
	n = strtoul(user, &end, 10);
	if (*user && !*end && !errno && *user != '-' && n < (unsigned int)-1) {
		if (!find_user(NULL, n, r))
			return usage_error("--user %s: no such uid in /etc/passwd", user);
	} else if (!*user || !find_user(user, 0, r)) {
		return usage_error("--user '%s': no such user in /etc/passwd", user);
	}
	return -1;
}

/* sudo's SUDO_UID and SUDO_GID, and SUDO_USER for the groups (else the uid's name). */
static int by_sudo(struct runas *r)
{
	const char *user = getenv("SUDO_USER");
	unsigned int uid, gid;

	if (!env_id("SUDO_UID", &uid) || !env_id("SUDO_GID", &gid))
		return usage_error("SUDO_UID and SUDO_GID must be numeric ids: run the command "
				   "as root with --as-root, or as an account with --user NAME");
	if (!(user && find_user(user, 0, r) && r->uid == uid)) {
		free(r->name);
		free(r->home);
		r->name = r->home = NULL;
		find_user(NULL, uid, r);
	}
	r->uid = uid;
	r->gid = gid;
	return -1;
}

int runas_resolve(struct runas *r, bool as_root, const char *user)
{
	int ret = -1;

	memset(r, 0, sizeof(*r));
	if (as_root && user)
		return usage_error("--as-root and --user exclude each other");
	if (as_root || geteuid() != 0)
		return -1;
	if (user)
		ret = by_name(r, user);
	else if (getenv("SUDO_UID"))
		ret = by_sudo(r);
	else
		return -1; /* root itself ran cidtrace: the command stays root */
	if (ret >= 0)
		return ret;
	r->drop = r->uid != 0;
	if (r->drop)
		find_groups(r);
	return -1;
}

int runas_apply(const struct runas *r)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct caps[2] = { { 0 } };

	if (!r->drop)
		return 0;
	if (setgroups(r->ngroups, r->groups) || setresgid(r->gid, r->gid, r->gid) ||
	    setresuid(r->uid, r->uid, r->uid)) {
		errmsg("cannot run the command as uid %u: %s", (unsigned int)r->uid,
		       strerror(errno));
		return -1;
	}
	/*
	 * Leaving uid 0 for good cleared every capability, unless securebits said to keep them:
	 * clear them all the same, the ambient ones too, and make sure root cannot come back.
	 */
	if (syscall(SYS_capset, &hdr, caps) ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) || !setuid(0)) {
		errmsg("cannot drop the capabilities of the command");
		return -1;
	}
	if (r->name && (setenv("USER", r->name, 1) || setenv("LOGNAME", r->name, 1)))
		return -1;
	if (r->home && setenv("HOME", r->home, 1))
		return -1;
	return 0;
}
