// SPDX-License-Identifier: GPL-2.0
/*
 * `cidtrace cids`: which process holds which vhost-vsock CID on this host right now, for an
 * operator who cannot wait for a trace. The task_file iterator reads the bound CID from the
 * kernel; without it, /proc fd links and an exact guest-cid=N argv token stand in.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector.h"
#include "commands.h"
#include "jobcg.h"
#include "json.h"
#include "options.h"
#include "report_proc.h"
#include "testdir.h"
#include "tracer.h"
#include "util.h"
#include "vocab.h"
#include "vsock_files.h"
#include "vsock_hooks.h"

const char cids_help[] =
	"usage: cidtrace cids [--json] [--scratch-root DIR]... [--test-dir-depth N]\n"
	"\n"
	"List the vhost-vsock CIDs bound on this host now, one line per binding: CID, network\n"
	"namespace, the holder's pid, ppid (INSIDE: its pid in its own pid namespace, if not\n"
	"the host's), container (a short id, from its cgroup) and comm, its state (running,\n"
	"exiting, dumping_core), age and test dir. Read from the kernel with the BPF task_file\n"
	"iterator, else from /proc. Needs root. NETNS is the vhost file's namespace on Linux\n"
	"7.0+ (marked *: \"local\" vsock mode, its CIDs are its own), else the holder's: before\n"
	"7.0, CIDs are one space for the host whatever the namespaces.\n"
	"\n"
	"options:\n"
	"      --json               print one JSON document instead of the table: an array\n"
	"                           with an object per binding (cid, net_ns, net_ns_of\n"
	"                           (\"file\" or \"holder\"), ns_mode, pid, ppid, comm,\n"
	"                           test_dir, ns, cgroup, container, age_s, state, source)\n"
	"      --scratch-root DIR   also find test dirs under DIR (repeatable; defaults:\n"
	"                           $TMPDIR, /tmp, /ci)\n"
	"      --test-dir-depth N   path components below a scratch root naming a test (2)\n"
	"  -h, --help               this help\n"
	"\n"
	"exit codes: 0 ok (also when no CID is bound), 2 usage error, 3 environment (not root,\n"
	"no BPF, no BTF, not in the host pid namespace).\n"
	"\n"
	"examples:\n"
	"  sudo cidtrace cids\n"
	"  sudo cidtrace cids --json | jq '.[] | select(.cid == 3) | .pid'\n";

const struct option cids_options[] = {
	{ "json", no_argument, NULL, SNAP_JSON },
	{ "scratch-root", required_argument, NULL, SNAP_SCRATCH_ROOT },
	{ "test-dir-depth", required_argument, NULL, SNAP_DEPTH },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct row {
	struct ct_vsock_event e;
	char test_dir[PATH_MAX];
	/* the holder's namespaces and cgroup (in p, cgroup), as /proc shows them now */
	struct proc p;
	char cgroup[CT_CGROUP_MAX];
};

struct table {
	const struct testdir_cfg *td;
	struct row *rows;
	size_t n;
};

/*
 * Where the holder runs: the iterator's record has no namespaces, so /proc's NSpid line, ns
 * links and cgroup, read like its argv (a pid reused meanwhile is another process's; the
 * table is a snapshot). Left unknown when unreadable.
 */
static void holder_ns(struct row *r)
{
	char status[4096], *line;
	struct proc *p = &r->p;

	memset(p, 0, sizeof(*p));
	p->pid = r->e.hdr.pid;
	read_proc(p->pid, "status", status, sizeof(status));
	line = strstr(status, "\nNSpid:");
	for (char *s = line ? line + 7 : NULL, *end; s && *s != '\n';) {
		unsigned long v = strtoul(s, &end, 10);

		if (end == s)
			break;
		if (p->nspid_levels == PROC_NSPID_MAX) {
			p->nspid_truncated = true;
			break;
		}
		p->nspid[p->nspid_levels++] = v;
		s = end;
	}
	if (p->nspid_levels && p->nspid[0] != p->pid)
		p->nspid_levels = 0;
	p->pid_ns = proc_ns_inode(p->pid, "pid");
	p->mnt_ns = proc_ns_inode(p->pid, "mnt");
	p->net_ns = proc_ns_inode(p->pid, "net");
	if (!p->pid_ns || !p->mnt_ns || !p->net_ns)
		p->nspid_levels = 0;
	if (jobcg_path_of(p->pid, r->cgroup, sizeof(r->cgroup)))
		p->cgroup = r->cgroup;
}

static void add_row(const struct ct_vsock_event *e, void *arg)
{
	static char argv[CT_ARGV_MAX];
	struct table *t = arg;
	char cwd[PATH_MAX], link[64];
	struct row *r;
	bool truncated;
	size_t alen;
	ssize_t n;

	r = xreallocarray(t->rows, t->n + 1, sizeof(*r));
	t->rows = r;
	r = &t->rows[t->n++];
	r->e = *e;
	r->test_dir[0] = '\0';
	alen = read_proc_raw(e->hdr.pid, "cmdline", argv, sizeof(argv), &truncated);
	snprintf(link, sizeof(link), "/proc/%u/cwd", e->hdr.pid);
	n = readlink(link, cwd, sizeof(cwd) - 1);
	cwd[n > 0 ? n : 0] = '\0';
	if (!testdir_from_argv(t->td, argv, alen, truncated, r->test_dir, sizeof(r->test_dir)) &&
	    !testdir_from_path(t->td, n > 0 ? cwd : NULL, r->test_dir, sizeof(r->test_dir)))
		r->test_dir[0] = '\0';
	holder_ns(r);
}

static const char *state(uint32_t flags)
{
	return holder_state_name(flags & CT_HOLDER_COREDUMP  ? HOLDER_DUMPING_CORE
				 : flags & CT_HOLDER_EXITING ? HOLDER_EXITING
							     : HOLDER_RUNNING);
}

static int list_cids(const struct testdir_cfg *td, bool json)
{
	struct table tab = { td, NULL, 0 };
	uint64_t now = now_boot_ns();
	const char *source;
	int ret = tracer_check_env();

	if (ret)
		return ret;
	source = vsock_files_now(add_row, &tab);
	if (json) {
		struct json_object *arr = json_object_new_array();

		for (size_t i = 0; i < tab.n; i++) {
			const struct row *r = &tab.rows[i];
			struct json_object *o = json_object_new_object();

			json_object_object_add(o, "cid", jint(r->e.cid));
			json_object_object_add(o, "net_ns", r->e.net_ns ? jint(r->e.net_ns) : NULL);
			json_object_object_add(
				o, "net_ns_of",
				jstr(r->e.net_flags & CT_VSOCK_NET_FILE ? "file" : "holder"));
			json_object_object_add(
				o, "ns_mode",
				jstr(r->e.net_flags & CT_VSOCK_NET_LOCAL ? "local" : "global"));
			json_object_object_add(o, "pid", jint(r->e.hdr.pid));
			json_object_object_add(o, "ppid", jint(r->e.hdr.ppid));
			json_object_object_add(
				o, "comm",
				jstrn(r->e.hdr.comm, strnlen(r->e.hdr.comm, CT_COMM_LEN)));
			json_object_object_add(o, "test_dir",
					       r->test_dir[0] ? jstr(r->test_dir) : NULL);
			json_object_object_add(o, "ns", ns_json(&r->p));
			json_object_object_add(o, "cgroup", jstr_or_null(r->p.cgroup));
			json_object_object_add(o, "container", container_json(&r->p));
			json_object_object_add(
				o, "age_s",
				json_object_new_double((now - r->e.hdr.start_ns) / 1e9));
			json_object_object_add(o, "state", jstr(state(r->e.holder_flags)));
			json_object_object_add(o, "source", jstr(source));
			json_object_array_add(arr, o);
		}
		jwrite(stdout, arr, CT_JSON_FLAGS | JSON_C_TO_STRING_PRETTY);
		putchar('\n');
		json_object_put(arr);
	} else if (!tab.n) {
		puts("no vhost-vsock CIDs bound on this host");
	} else {
		char(*cts)[CONTAINER_SHORT_MAX] = xreallocarray(NULL, tab.n, sizeof(*cts));
		char where[PROC_WHERE_MAX];
		int ctwidth = strlen("CONTAINER");

		for (size_t i = 0; i < tab.n; i++) {
			proc_where(&tab.rows[i].p, where, cts[i]);
			if ((int)strlen(cts[i]) > ctwidth)
				ctwidth = strlen(cts[i]);
		}
		printf("%-10s %-11s %7s %7s %7s %-*s %-16s %-12s %9s  %s\n", "CID", "NETNS", "PID",
		       "PPID", "INSIDE", ctwidth, "CONTAINER", "COMM", "STATE", "AGE", "TEST_DIR");
		for (size_t i = 0; i < tab.n; i++) {
			const struct row *r = &tab.rows[i];
			size_t clen = strnlen(r->e.hdr.comm, CT_COMM_LEN);
			char inside[12] = "-";

			if (proc_inner_pid(&r->p))
				snprintf(inside, sizeof(inside), "%u", proc_inner_pid(&r->p));
			printf("%-10llu %10u%c %7u %7u %7s %-*s ", (unsigned long long)r->e.cid,
			       r->e.net_ns, r->e.net_flags & CT_VSOCK_NET_LOCAL ? '*' : ' ',
			       r->e.hdr.pid, r->e.hdr.ppid, inside, ctwidth,
			       cts[i][0] ? cts[i] : "-");
			fput_escaped(stdout, r->e.hdr.comm, clen);
			printf("%*s %-12s %8.1fs  ", (int)(16 - clen), "", state(r->e.holder_flags),
			       (now - r->e.hdr.start_ns) / 1e9);
			fput_escaped(stdout, r->test_dir[0] ? r->test_dir : "-",
				     strlen(r->test_dir[0] ? r->test_dir : "-"));
			putchar('\n');
		}
		free(cts);
	}
	free(tab.rows);
	return EXIT_OK;
}

int cids_command(int argc, char **argv)
{
	struct collector_cfg cfg;
	bool json = false;
	int ret;

	collector_cfg_defaults(&cfg);
	ret = parse_snapshot_options(argc, argv, cids_options, &cfg, &json);
	return ret >= 0 ? ret : list_cids(&cfg.td, json);
}
