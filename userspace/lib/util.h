/* SPDX-License-Identifier: GPL-2.0 */
/* Small helpers shared by the collector: allocation, clocks, safe text, atomic files. */
#ifndef CIDTRACE_UTIL_H
#define CIDTRACE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cidtrace_events.h"

/* Documented exit codes (README, cidtrace --help). */
enum {
	EXIT_OK = 0,
	EXIT_RUNTIME = 1, /* tracing failed after it started, or the report could not be written */
	EXIT_USAGE = 2, /* bad flags or values, unwritable -o, --ready-file or --metrics */
	EXIT_ENV = 3, /* not root, no BPF, no BTF */
	EXIT_INPUT = 4, /* the input report or raw capture is unreadable or malformed */
	/* --fail-on: the command passed (or record stopped cleanly) but a listed finding occurred;
	 * above the small codes and below 126, so it is not taken for a shell's or signal's */
	EXIT_FINDINGS = 10,
};

/* One lowercase line on stderr, prefixed "cidtrace: ". */
__attribute__((format(printf, 1, 2))) void errmsg(const char *fmt, ...);

/*
 * Allocation that does not fail: on failure each prints "cidtrace: out of memory" and aborts.
 * xreallocarray is xrealloc of n * size, aborting too if that overflows; xmemdup copies len
 * bytes of s and adds a NUL.
 */
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xmemdup(const void *s, size_t len);
FILE *xopen_memstream(char **ptr, size_t *size);

uint64_t now_boot_ns(void);
/* CLOCK_REALTIME minus CLOCK_BOOTTIME, fixed at start so event times stay ordered. */
void clock_init(void);
int64_t boot_to_wall_ns(uint64_t boot_ns);
/* The offset clock_init fixed, and setting it (a replay uses the recorded one). */
int64_t clock_offset(void);
void clock_set_offset(int64_t wall_minus_boot_ns);
/* RFC 3339 UTC with microseconds, e.g. 2026-11-27T03:42:36.123456Z. */
void fmt_rfc3339(char *buf, size_t len, uint64_t boot_ns);
/* The same for a wall-clock time, nanoseconds since the epoch. */
void fmt_rfc3339_wall(char *buf, size_t len, int64_t wall_ns);

/*
 * Make s valid UTF-8 by replacing each invalid byte with U+FFFD. Returns a malloc'ed string
 * (NUL-terminated; embedded NULs are replaced too) and its length in *out_len.
 */
char *utf8_sanitize(const char *s, size_t len, size_t *out_len);

/*
 * If s starts with a C1 control (U+0080..U+009F) or a bidirectional control (U+061C, U+200E,
 * U+200F, U+202A..U+202E, U+2066..U+2069), which can hide or visually reorder text: its
 * length (2 or 3 bytes) and its code point in *cp. Else 0.
 */
size_t utf8_hidden_control(const char *s, size_t avail, uint32_t *cp);

/*
 * Write s (len bytes) for a terminal: control characters, C1 controls, invalid UTF-8 and
 * backslashes are escaped as \n, \t, \xNN or \\, bidi controls as \u202e, so hostile argv
 * cannot move the cursor, forge lines, inject escape sequences or reorder a line.
 */
void fput_escaped(FILE *f, const char *s, size_t len);
/* s escaped as fput_escaped writes it, in a malloc'ed string. */
char *term_escape(const char *s);

/*
 * Every file cidtrace writes is private: mode 0600, and when root runs it through sudo
 * (SUDO_UID, SUDO_GID) owned by the user who ran sudo. Each is created as a temp file with
 * a random name in the target's directory (O_EXCL | O_NOFOLLOW: never a file or symlink
 * someone else put there), then renamed over the target.
 */

/*
 * Replace path with data atomically: a private temp file in the same directory, fsync,
 * rename over path, fsync the directory. Returns 0 or -errno.
 */
int atomic_write(const char *path, const void *data, size_t len);
/*
 * atomic_write, but the file is mode 0644, readable by all: only for what holds nothing of
 * any user (--metrics: counts, the version, hook names), which a reader running as another
 * user (node_exporter) must read.
 */
int atomic_write_public(const char *path, const void *data, size_t len);
/*
 * atomic_write of output made as it is written, never whole in memory: fn writes it to f, a
 * stream on the temp file, and returns 0 or -errno. Unless fn or a write failed, the file is
 * then fsynced and renamed over path; else it is removed and path left as it was. 0 or -errno
 * (fn's own first).
 */
int atomic_write_stream(const char *path, int (*fn)(FILE *f, void *ctx), void *ctx);
/* Check that atomic_write(path) can succeed, without touching path. 0 or -errno. */
int atomic_write_probe(const char *path);
/* path replaced now by a new empty private file, open for writing: its fd, or -errno. */
int private_create(const char *path);
/*
 * path opened for appending (--log, which logrotate renames away): created private as above
 * when absent; else only a regular file of cidtrace's own user (root, or the sudo user)
 * with a single link, and never through a symlink. A file another user planted in a shared
 * directory would get every user's argv, and a symlink or hard link would have root append
 * to a file of the planter's choosing. Its fd, or -errno (ELOOP: a symlink; EPERM: someone
 * else's file, or a hard link; EISDIR, EINVAL: not a regular file).
 */
int private_append(const char *path);
/*
 * What atomic_write_stream is made of, for a caller that writes between the two: atomic_open
 * creates the temp file atomic_write would and opens a stream on it (af->f); atomic_close
 * flushes it and, when commit, fsyncs it and renames it over path, else (or when any of that
 * fails) removes it. path must outlive af. Both return 0 or -errno.
 */
struct atomic_file {
	FILE *f;
	int dirfd;
	const char *name;
	char tmp[4096];
};
int atomic_open(const char *path, struct atomic_file *af);
int atomic_close(struct atomic_file *af, bool commit);
/*
 * From now on, signal sig (unblocked here) ends this process with _exit(status), and removes
 * first the temp file of the atomic write in progress: a writer told to die with its parent
 * (PR_SET_PDEATHSIG) leaves none behind. 0 or -errno.
 */
int atomic_exit_on(int sig, int status);

/* /proc/PID/NAME read whole, up to len - 1 bytes and NUL-terminated; returns the length
 * (0 if unreadable). */
size_t read_proc(int pid, const char *name, char *buf, size_t len);
/* The same without the NUL, up to len bytes; *truncated (may be NULL): there was more. */
size_t read_proc_raw(int pid, const char *name, char *buf, size_t len, bool *truncated);
/* The inode number of namespace ns ("mnt", "net", "pid") of pid now; 0 if unreadable. */
uint32_t proc_ns_inode(int pid, const char *ns);
/*
 * pid, ppid, comm and start time from /proc/PID/stat. The start time is only as precise as a
 * clock tick (USER_HZ), so it identifies a process only together with its pid.
 */
bool proc_identity(int pid, struct ct_event_hdr *h);
/*
 * true if pid still names the process that started at start_ns (the clock tick that holds
 * it); now gets what /proc says of it, state its state letter (Z: a zombie). state may be NULL.
 */
bool proc_same(uint32_t pid, uint64_t start_ns, struct ct_event_hdr *now, char *state);

#endif
