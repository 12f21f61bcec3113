// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "live.h"
#include "report_proc.h"
#include "util.h"

/* Text lines cut long argv here; the report keeps the whole of it. */
#define TEXT_DETAIL_MAX 160

/* Set at the first failed write; no live line is printed after it, until a new --log. */
static bool stopped;
/* --log: the file live lines are appended to; NULL: stdout. */
static FILE *log_file;

static FILE *out(void)
{
	return log_file ? log_file : stdout;
}

/* Text: a new --log file starts with the column header; one appended to has it already. */
static bool log_empty(void)
{
	struct stat st;

	return fstat(fileno(log_file), &st) == 0 && st.st_size == 0;
}

static bool kind_shown(const struct collector *c, enum live_kind kind)
{
	return c->cfg.live != LIVE_NONE && !stopped &&
	       (!c->cfg.live_kinds || (c->cfg.live_kinds & kind));
}

/*
 * A line is out. If stdout is gone (EPIPE: `| head` exited; SIGPIPE does not kill cidtrace),
 * or a write failed otherwise (a full disk under --log), say so once and print no more:
 * tracing and the report go on.
 */
static void flush_line(void)
{
	int err;

	if (!fflush(out()) && !ferror(out()))
		return;
	err = errno;
	stopped = true;
	errmsg("live output stopped: %s; still tracing, the report is written as usual",
	       strerror(err));
}

/* Which processes get live lines: only those under --pid; then the scope under --scope, else
 * the job under `run`, else all; VMMs always, since they are what cidtrace is for. */
static bool visible(const struct collector *c, const struct proc *p, enum live_kind kind)
{
	if (!kind_shown(c, kind) || !collector_in_pids(c, p))
		return false;
	if (p->role == ROLE_VMM)
		return true;
	if (collector_scoped(&c->cfg))
		return p->in_scope;
	if (c->cfg.job_pid)
		return p->in_job;
	return true;
}

static void text_prefix(struct collector *c, const char *event, const struct proc *p, uint64_t ts)
{
	int64_t wall = boot_to_wall_ns(ts);
	time_t sec = wall / 1000000000;
	struct tm tm;

	if (!c->header_printed) {
		if (!log_file || log_empty())
			fprintf(out(), "%-12s %-7s %7s %7s %-16s %s\n", "TIME(UTC)", "EVENT", "PID",
				"PPID", "COMM", "DETAIL [TEST_DIR]");
		c->header_printed = true;
	}
	gmtime_r(&sec, &tm);
	fprintf(out(), "%02d:%02d:%02d.%03ld %-7s %7u %7u ", tm.tm_hour, tm.tm_min, tm.tm_sec,
		(long)(wall % 1000000000) / 1000000, event, p->pid, p->ppid);
	fput_escaped(out(), p->comm, strlen(p->comm));
	fprintf(out(), "%*s ", (int)(16 - strnlen(p->comm, 16)), "");
}

static void text_suffix(const struct proc *p)
{
	char where[PROC_WHERE_MAX];

	if (p->test_dir) {
		fputs(" [", out());
		fput_escaped(out(), p->test_dir, strlen(p->test_dir));
		fputc(']', out());
	}
	/* the pid the container's own log shows, after the columns: they stay narrow */
	if (proc_where(p, where, NULL))
		fprintf(out(), " (%s)", where);
	fputc('\n', out());
	flush_line();
}

static struct json_object *json_prefix(const char *event, const struct proc *p, uint64_t ts)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "time", jtime(ts));
	json_object_object_add(o, "event", jstr(event));
	json_object_object_add(o, "pid", jint(p->pid));
	json_object_object_add(o, "ppid", jint(p->ppid));
	json_object_object_add(o, "start_ns", jint(p->start_ns));
	json_object_object_add(o, "comm", jstr(p->comm));
	json_object_object_add(o, "test_dir", jstr_or_null(p->test_dir));
	json_object_object_add(o, "mnt_ns", mnt_ns_json(p));
	json_object_object_add(o, "ns", ns_json(p));
	json_object_object_add(o, "container", container_json(p));
	return o;
}

static void json_print(struct json_object *o)
{
	jwrite(out(), o, CT_JSON_FLAGS);
	fputc('\n', out());
	flush_line();
	json_object_put(o);
}

void live_fork(struct collector *c, const struct proc *p, uint64_t ts)
{
	if (!visible(c, p, LIVE_FORK))
		return;
	if (c->cfg.live == LIVE_JSON)
		return json_print(json_prefix("fork", p, ts));
	text_prefix(c, "fork", p, ts);
	text_suffix(p);
}

void live_exec(struct collector *c, const struct proc *p, uint64_t ts)
{
	if (!visible(c, p, LIVE_EXEC))
		return;
	if (c->cfg.live == LIVE_JSON) {
		struct json_object *o = json_prefix("exec", p, ts);

		json_object_object_add(o, "exe", jstr_or_null(p->exe));
		json_object_object_add(o, "argv", jargv(p->argv, p->argv_len));
		json_object_object_add(o, "argv_truncated",
				       json_object_new_boolean(p->argv_truncated));
		return json_print(o);
	}
	text_prefix(c, "exec", p, ts);
	for (size_t i = 0, budget = TEXT_DETAIL_MAX; i < p->argv_len;) {
		size_t n = strnlen(p->argv + i, p->argv_len - i);

		if (i)
			fputc(' ', out());
		if (n > budget) {
			fput_escaped(out(), p->argv + i, budget);
			fputs("...", out());
			break;
		}
		fput_escaped(out(), p->argv + i, n);
		budget -= n;
		i += n + 1;
	}
	text_suffix(p);
}

void live_exit(struct collector *c, const struct proc *p, uint64_t ts)
{
	int sig = p->exit_status & 0x7f;
	char buf[16];

	if (!visible(c, p, LIVE_EXIT))
		return;
	if (c->cfg.live == LIVE_JSON) {
		struct json_object *o = json_prefix("exit", p, ts);

		json_object_object_add(o, "code", jint(sig ? 0 : (p->exit_status >> 8) & 0xff));
		json_object_object_add(o, "signal", jint(sig));
		json_object_object_add(o, "core_dumped",
				       json_object_new_boolean(p->exit_status & 0x80));
		return json_print(o);
	}
	text_prefix(c, "exit", p, ts);
	if (sig)
		fprintf(out(), "killed by %s%s", signal_name(sig, buf, sizeof(buf)),
			p->exit_status & 0x80 ? " (core dumped)" : "");
	else
		fprintf(out(), "code %u", (p->exit_status >> 8) & 0xff);
	text_suffix(p);
}

void live_signal(struct collector *c, const struct proc *p, const struct fatal_signal *s)
{
	char buf[16];

	if (!visible(c, p, LIVE_EXIT))
		return;
	if (c->cfg.live == LIVE_JSON) {
		struct json_object *o = json_prefix("signal", p, s->at_ns);

		json_object_object_add(o, "signal", jint(s->signal));
		json_object_object_add(o, "signal_name",
				       jstr(signal_name(s->signal, buf, sizeof(buf))));
		json_object_object_add(o, "sender_pid", jint(s->sender_pid));
		json_object_object_add(o, "sender_comm", jstr(s->sender_comm));
		return json_print(o);
	}
	text_prefix(c, "signal", p, s->at_ns);
	fprintf(out(), "%s from %u (", signal_name(s->signal, buf, sizeof(buf)), s->sender_pid);
	fput_escaped(out(), s->sender_comm, strlen(s->sender_comm));
	fputc(')', out());
	text_suffix(p);
}

/* Findings are always shown, whatever the scope: they are what cidtrace is for. */
static void live_finding(struct collector *c, enum live_kind kind, const char *event,
			 const struct proc *p, uint64_t ts, struct json_object *fields,
			 const char *detail)
{
	if (!kind_shown(c, kind)) {
		json_object_put(fields);
		return;
	}
	if (c->cfg.live == LIVE_JSON) {
		struct json_object *o = json_prefix(event, p, ts);

		json_object_object_foreach(fields, k, v)
			json_object_object_add(o, k, json_object_get(v));
		json_object_object_add(o, "detail", jstr(detail));
		json_object_put(fields);
		return json_print(o);
	}
	json_object_put(fields);
	text_prefix(c, event, p, ts);
	fput_escaped(out(), detail, strlen(detail));
	text_suffix(p);
}

void live_vsock(struct collector *c, const char *event, const struct proc *p, uint64_t ts,
		uint64_t cid, const char *detail)
{
	struct json_object *f = json_object_new_object();

	json_object_object_add(f, "cid", jint(cid));
	live_finding(c, LIVE_CONFLICT, event, p, ts, f, detail);
}

void live_uffd(struct collector *c, const struct proc *owner, uint64_t ts, const char *uffd_id,
	       const char *state, const char *detail)
{
	struct json_object *f;

	if (collector_scoped(&c->cfg) && !owner->in_scope)
		return; /* as in the report: a guest outside --scope is someone else's */
	f = json_object_new_object();
	json_object_object_add(f, "uffd", jstr(uffd_id));
	json_object_object_add(f, "state", jstr(state));
	live_finding(c, LIVE_UFFD, "uffd", owner, ts, f, detail);
}

/* The core's observer callbacks: its ctx is the collector. */
static void observe_fork(void *c, const struct proc *p, uint64_t ts)
{
	live_fork(c, p, ts);
}

static void observe_exec(void *c, const struct proc *p, uint64_t ts)
{
	live_exec(c, p, ts);
}

static void observe_exit(void *c, const struct proc *p, uint64_t ts)
{
	live_exit(c, p, ts);
}

static void observe_signal(void *c, const struct proc *p, const struct fatal_signal *s)
{
	live_signal(c, p, s);
}

static void observe_vsock(void *c, const char *event, const struct proc *p, uint64_t ts,
			  uint64_t cid, const char *detail)
{
	live_vsock(c, event, p, ts, cid, detail);
}

static void observe_uffd(void *c, const struct proc *owner, uint64_t ts, const char *uffd_id,
			 const char *state, const char *detail)
{
	live_uffd(c, owner, ts, uffd_id, state, detail);
}

int live_log_open(struct collector *c, const char *path)
{
	int fd = private_append(path), err;
	FILE *f;

	if (fd < 0)
		return fd;
	if (!(f = fdopen(fd, "a"))) {
		err = -errno;
		close(fd);
		return err;
	}
	if (log_file)
		fclose(log_file); /* every line was flushed as it was written */
	log_file = f;
	stopped = false;
	c->header_printed = false; /* a header if this file is new (log_empty) */
	return 0;
}

void live_log_close(void)
{
	if (log_file)
		fclose(log_file);
	log_file = NULL;
}

void live_observe(struct collector *c)
{
	c->observer = (struct core_observer){
		.ctx = c,
		.fork = observe_fork,
		.exec = observe_exec,
		.exit = observe_exit,
		.signal = observe_signal,
		.vsock = observe_vsock,
		.uffd = observe_uffd,
	};
}
