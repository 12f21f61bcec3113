// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "util.h"

/* Room for the startup snapshot of a busy host (it is buffered until the header is out). */
#define CAPTURE_BUF_BYTES (16u << 20)
/* The writer wakes this often, or as soon as a quarter of the buffer is used. */
#define FLUSH_MS 50

struct capture {
	int fd;
	/* the buffer, a ring: head and tail count bytes ever put and written */
	uint8_t *buf;
	size_t size;
	uint64_t head, tail;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t writer;
	bool running, stop, broken;
	int werr;
	uint64_t records, bytes, dropped;
	/* kernel addresses become small ids: a capture never holds one */
	uint64_t *addr_keys, *addr_ids;
	size_t addr_cap, addr_n;
	/* the real sources behind the wrappers */
	struct uffd_source uffd;
	struct vsock_source vsock;
	bool uffd_wrapped, vsock_wrapped;
	uint64_t (*now)(void *ctx);
	void *now_ctx;
};

static size_t buf_size(void)
{
	const char *env = getenv("CIDTRACE_RAW_BUFFER"); /* tests: force drops */
	long n = env ? strtol(env, NULL, 10) : 0;

	return n >= 4096 ? (size_t)n : CAPTURE_BUF_BYTES;
}

struct capture *capture_open(const char *path)
{
	struct capture *cap = calloc(1, sizeof(*cap));
	/* private like the report: a new 0600 file, never whatever already sits at path */
	int fd = private_create(path);

	if (fd < 0 || !cap) {
		if (fd >= 0)
			close(fd);
		free(cap);
		errno = fd < 0 ? -fd : ENOMEM;
		return NULL;
	}
	cap->fd = fd;
	cap->size = buf_size();
	cap->buf = xmalloc(cap->size);
	pthread_mutex_init(&cap->mu, NULL);
	pthread_cond_init(&cap->cv, NULL);
	return cap;
}

static void ring_copy(struct capture *cap, const void *d, size_t n)
{
	size_t off = cap->head % cap->size, first = n < cap->size - off ? n : cap->size - off;

	memcpy(cap->buf + off, d, first);
	memcpy(cap->buf, (const uint8_t *)d + first, n - first);
	cap->head += n;
}

/* One record of two parts. Dropped, with every later one, if the buffer has no room. */
static void put_rec(struct capture *cap, uint16_t type, uint16_t flags, const void *a, size_t alen,
		    const void *b, size_t blen)
{
	uint32_t len = alen + blen;
	size_t need = RAW_REC_HDR + len;
	uint8_t hdr[RAW_REC_HDR];

	if (!cap)
		return;
	memcpy(hdr, &type, 2);
	memcpy(hdr + 2, &flags, 2);
	memcpy(hdr + 4, &len, 4);
	pthread_mutex_lock(&cap->mu);
	if (cap->broken || cap->size - (cap->head - cap->tail) < need || len > RAW_MAX_LEN) {
		cap->broken = true;
		cap->dropped++;
	} else {
		ring_copy(cap, hdr, sizeof(hdr));
		if (alen)
			ring_copy(cap, a, alen);
		if (blen)
			ring_copy(cap, b, blen);
		cap->records++;
		cap->bytes += need;
		if (cap->running && cap->head - cap->tail >= cap->size / 4)
			pthread_cond_signal(&cap->cv);
	}
	pthread_mutex_unlock(&cap->mu);
}

static void put_buf(struct capture *cap, uint16_t type, uint16_t flags, struct raw_buf *b)
{
	put_rec(cap, type, flags, b->p, b->len, NULL, 0);
	rb_free(b);
}

static void *writer(void *arg)
{
	struct capture *cap = arg;

	pthread_mutex_lock(&cap->mu);
	for (;;) {
		size_t off, n;

		while (cap->head == cap->tail && !cap->stop) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += FLUSH_MS * 1000000L;
			if (ts.tv_nsec >= 1000000000L)
				ts.tv_sec++, ts.tv_nsec -= 1000000000L;
			pthread_cond_timedwait(&cap->cv, &cap->mu, &ts);
		}
		if (cap->head == cap->tail)
			break;
		off = cap->tail % cap->size;
		n = cap->head - cap->tail;
		if (n > cap->size - off)
			n = cap->size - off;
		pthread_mutex_unlock(&cap->mu);
		for (size_t done = 0; done < n && !cap->werr;) {
			ssize_t w = write(cap->fd, cap->buf + off + done, n - done);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				cap->werr = w < 0 ? -errno : -EIO;
			else
				done += w;
		}
		pthread_mutex_lock(&cap->mu);
		cap->tail += n;
		if (cap->werr)
			cap->broken = true;
	}
	pthread_mutex_unlock(&cap->mu);
	return NULL;
}

int capture_start(struct capture *cap, const struct raw_header *h)
{
	struct raw_buf b = { 0 };
	int err = 0;

	raw_header_write(&b, h);
	if (write(cap->fd, b.p, b.len) != (ssize_t)b.len)
		err = -EIO;
	rb_free(&b);
	if (!err)
		err = -pthread_create(&cap->writer, NULL, writer, cap);
	if (err) {
		cap->werr = err;
		cap->broken = true;
		return err;
	}
	cap->running = true;
	return 0;
}

int capture_close(struct capture *cap)
{
	int err;

	if (!cap)
		return 0;
	pthread_mutex_lock(&cap->mu);
	cap->stop = true;
	pthread_cond_signal(&cap->cv);
	pthread_mutex_unlock(&cap->mu);
	if (cap->running)
		pthread_join(cap->writer, NULL);
	err = cap->werr;
	if (close(cap->fd) && !err)
		err = -errno;
	free(cap->buf);
	free(cap->addr_keys);
	free(cap->addr_ids);
	free(cap);
	return err;
}

void capture_stats(struct capture *cap, struct raw_stats *st)
{
	pthread_mutex_lock(&cap->mu);
	*st = (struct raw_stats){ cap->records, cap->bytes, cap->dropped,
				  !cap->broken && !cap->werr };
	pthread_mutex_unlock(&cap->mu);
}

/* The id standing for a kernel address (0 stays 0): the first one seen is 1, and so on. */
static uint64_t mask(struct capture *cap, uint64_t addr)
{
	size_t i;

	if (!addr)
		return 0;
	if (cap->addr_n * 2 >= cap->addr_cap) {
		size_t ncap = cap->addr_cap ? cap->addr_cap * 2 : 64;
		uint64_t *keys = xcalloc(ncap, sizeof(*keys)), *ids = xcalloc(ncap, sizeof(*ids));

		for (size_t j = 0; j < cap->addr_cap; j++) {
			if (!cap->addr_keys[j])
				continue;
			for (i = (cap->addr_keys[j] >> 4) % ncap; keys[i]; i = (i + 1) % ncap)
				;
			keys[i] = cap->addr_keys[j];
			ids[i] = cap->addr_ids[j];
		}
		free(cap->addr_keys);
		free(cap->addr_ids);
		cap->addr_keys = keys;
		cap->addr_ids = ids;
		cap->addr_cap = ncap;
	}
	for (i = (addr >> 4) % cap->addr_cap; cap->addr_keys[i]; i = (i + 1) % cap->addr_cap)
		if (cap->addr_keys[i] == addr)
			return cap->addr_ids[i];
	cap->addr_keys[i] = addr;
	cap->addr_ids[i] = ++cap->addr_n;
	return cap->addr_n;
}

static void mask_uffd(struct capture *cap, struct ct_uffd_event *e)
{
	e->ctx = mask(cap, e->ctx);
	if (e->hdr.type == CT_EV_UFFD_FILE)
		e->bytes = mask(cap, e->bytes); /* the file's f_op */
}

void capture_config(struct capture *cap, const struct collector_cfg *cfg, const char *mode,
		    char *const *command)
{
	struct raw_buf b = { 0 };
	uint64_t spin;
	uint16_t n = 0;

	if (!cap)
		return;
	memcpy(&spin, &cfg->spin_pct, sizeof(spin));
	rb_u32(&b, cfg->td.depth);
	rb_u32(&b, 0); /* was the testdir file check: gone, no IS_FILE records follow */
	rb_u32(&b, cfg->live);
	rb_u32(&b, cfg->live_kinds);
	rb_u32(&b, cfg->job_pid);
	rb_u32(&b, cfg->self_pid);
	rb_u64(&b, spin);
	rb_u64(&b, cfg->spin_window_ns);
	rb_u16(&b, cfg->td.nroots);
	for (int i = 0; i < cfg->td.nroots; i++)
		rb_str(&b, cfg->td.roots[i]);
	rb_u16(&b, cfg->nscopes);
	for (int i = 0; i < cfg->nscopes; i++)
		rb_str(&b, cfg->scopes[i]);
	rb_u16(&b, cfg->nvmm_comms);
	for (int i = 0; i < cfg->nvmm_comms; i++)
		rb_str(&b, cfg->vmm_comms[i]);
	rb_u16(&b, cfg->npids);
	for (int i = 0; i < cfg->npids; i++)
		rb_u32(&b, cfg->pids[i]);
	rb_str(&b, mode);
	while (command && command[n])
		n++;
	rb_u16(&b, n);
	for (int i = 0; i < n; i++)
		rb_str(&b, command[i]);
	rb_u64(&b, cfg->kill_orphans_ns);
	rb_u64(&b, cfg->scope_mnt_ns);
	rb_u16(&b, cfg->nscope_cgroups);
	for (int i = 0; i < cfg->nscope_cgroups; i++)
		rb_str(&b, cfg->scope_cgroups[i]);
	rb_u16(&b, cfg->nscope_containers);
	for (int i = 0; i < cfg->nscope_containers; i++)
		rb_str(&b, cfg->scope_containers[i]);
	put_buf(cap, RAW_CONFIG, 0, &b);
}

/* uffd source wrappers: call the real source, log its result. */
struct scan_log {
	struct capture *cap;
	void (*fn)(const struct ct_uffd_event *e, void *arg);
	void *arg;
	struct raw_buf events;
	uint32_t n;
};

static void log_file(const struct ct_uffd_event *e, void *arg)
{
	struct scan_log *l = arg;
	struct ct_uffd_event m = *e;

	mask_uffd(l->cap, &m);
	rb_put(&l->events, &m, sizeof(m));
	l->n++;
	l->fn(e, l->arg);
}

static int w_scan(void *ctx, uint32_t pid, void (*fn)(const struct ct_uffd_event *e, void *arg),
		  void *arg)
{
	struct capture *cap = ctx;
	struct scan_log l = { cap, fn, arg, { 0 }, 0 };
	int ret = cap->uffd.scan(cap->uffd.ctx, pid, log_file, &l);
	uint32_t head[3] = { pid, (uint32_t)ret, l.n };

	put_rec(cap, RAW_UFFD_SCAN, 0, head, sizeof(head), l.events.p, l.events.len);
	rb_free(&l.events);
	return ret;
}

struct serves_log {
	struct capture *cap;
	bool (*fn)(const struct ct_uffd_serve_key *k, const struct ct_uffd_serve_stats *s,
		   void *arg);
	void *arg;
	struct raw_buf out;
	uint32_t n;
};

static bool log_serve(const struct ct_uffd_serve_key *k, const struct ct_uffd_serve_stats *s,
		      void *arg)
{
	struct serves_log *l = arg;
	struct ct_uffd_serve_key m = *k;

	m.ctx = mask(l->cap, m.ctx);
	rb_put(&l->out, &m, sizeof(m));
	rb_put(&l->out, s, sizeof(*s));
	l->n++;
	return l->fn(k, s, l->arg);
}

static void w_serves(void *ctx,
		     bool (*fn)(const struct ct_uffd_serve_key *k,
				const struct ct_uffd_serve_stats *s, void *arg),
		     void *arg)
{
	struct capture *cap = ctx;
	struct serves_log l = { cap, fn, arg, { 0 }, 0 };

	cap->uffd.serves(cap->uffd.ctx, log_serve, &l);
	put_rec(cap, RAW_UFFD_SERVES, 0, &l.n, sizeof(l.n), l.out.p, l.out.len);
	rb_free(&l.out);
}

_Static_assert(offsetof(struct thread_cpu, run_ns) == RAW_THREAD_LEN,
	       "thread_cpu layout in RAW_THREADS");

static int w_threads(void *ctx, uint32_t pid, struct thread_cpu *out, int max)
{
	struct capture *cap = ctx;
	int n = cap->uffd.threads(cap->uffd.ctx, pid, out, max);
	struct raw_buf b = { 0 };

	rb_u32(&b, pid);
	rb_u32(&b, n);
	for (int i = 0; i < n; i++)
		rb_put(&b, &out[i], RAW_THREAD_LEN);
	/* after all the threads: a reader of older captures finds none and judges by granted */
	for (int i = 0; i < n; i++) {
		rb_u64(&b, out[i].run_ns);
		rb_u64(&b, out[i].wait_ns);
		rb_u32(&b, out[i].sched);
		rb_u32(&b, 0);
	}
	put_rec(cap, RAW_THREADS, 0, b.p, b.len, NULL, 0);
	rb_free(&b);
	return n;
}

static bool w_cpu_ticks(void *ctx, uint32_t pid, uint64_t *ticks)
{
	struct capture *cap = ctx;
	bool ok = cap->uffd.cpu_ticks(cap->uffd.ctx, pid, ticks);
	struct {
		uint32_t pid, ok;
		uint64_t ticks;
	} r = { pid, ok, ok ? *ticks : 0 };

	put_rec(cap, RAW_CPU_TICKS, 0, &r, sizeof(r), NULL, 0);
	return ok;
}

static bool w_fdinfo(void *ctx, uint32_t pid, int fd, uint64_t *pending, uint64_t *total)
{
	struct capture *cap = ctx;
	bool ok = cap->uffd.fdinfo(cap->uffd.ctx, pid, fd, pending, total);
	struct {
		uint32_t pid;
		int32_t fd;
		uint32_t ok, pad;
		uint64_t pending, total;
	} r = { pid, fd, ok, 0, ok ? *pending : 0, ok ? *total : 0 };

	put_rec(cap, RAW_FDINFO, 0, &r, sizeof(r), NULL, 0);
	return ok;
}

static bool w_registered(void *ctx, uint32_t pid, uint64_t *registered, uint64_t *resident)
{
	struct capture *cap = ctx;
	bool ok = cap->uffd.registered(cap->uffd.ctx, pid, registered, resident);
	struct {
		uint32_t pid, ok;
		uint64_t registered, resident;
	} r = { pid, ok, ok ? *registered : 0, ok ? *resident : 0 };

	put_rec(cap, RAW_REGISTERED, 0, &r, sizeof(r), NULL, 0);
	return ok;
}

static int w_regions(void *ctx, uint32_t pid, struct ct_uffd_region *out, int max)
{
	struct capture *cap = ctx;
	int n = cap->uffd.regions(cap->uffd.ctx, pid, out, max);
	uint32_t head[4] = { pid, (uint32_t)n, n < 0 ? 0 : n > max ? max : n, 0 };
	struct raw_buf b = { 0 };

	for (uint32_t i = 0; i < head[2]; i++) {
		struct ct_uffd_region m = out[i];

		m.ctx = mask(cap, m.ctx);
		rb_put(&b, &m, sizeof(m));
	}
	put_rec(cap, RAW_REGIONS, 0, head, sizeof(head), b.p, b.len);
	rb_free(&b);
	return n;
}

static bool w_resident(void *ctx, uint32_t pid, const struct ct_uffd_region *rg, int n,
		       uint64_t *bytes)
{
	struct capture *cap = ctx;
	bool ok = cap->uffd.resident(cap->uffd.ctx, pid, rg, n, bytes);
	struct {
		uint32_t pid, ok, n, pad;
		uint64_t bytes;
	} r = { pid, ok, n, 0, ok ? *bytes : 0 };

	put_rec(cap, RAW_RESIDENT, 0, &r, sizeof(r), NULL, 0);
	return ok;
}

void capture_wrap_uffd(struct capture *cap, struct uffd_source *src)
{
	struct {
		uint32_t ioctls_traced, serves;
		int64_t tick_hz;
		uint32_t schedstat, pad;
	} r = { src->ioctls_traced,
		(src->serves != NULL) | (uint32_t)src->final_counts << 1 |
			(uint32_t)(src->regions != NULL) << 2,
		src->tick_hz, src->schedstat, 0 };

	if (!cap)
		return;
	cap->uffd = *src;
	cap->uffd_wrapped = true;
	src->ctx = cap;
	src->scan = src->scan ? w_scan : NULL;
	src->serves = src->serves ? w_serves : NULL;
	src->threads = src->threads ? w_threads : NULL;
	src->cpu_ticks = src->cpu_ticks ? w_cpu_ticks : NULL;
	src->fdinfo = src->fdinfo ? w_fdinfo : NULL;
	src->registered = src->registered ? w_registered : NULL;
	src->regions = src->regions ? w_regions : NULL;
	src->resident = src->resident ? w_resident : NULL;
	put_rec(cap, RAW_UFFD_SOURCE, 0, &r, sizeof(r), NULL, 0);
}

/* vsock source wrappers */
static int w_vsock_scan(void *ctx, uint64_t instance, struct vsock_holder *out, int max)
{
	struct capture *cap = ctx;
	int n = cap->vsock.scan(cap->vsock.ctx, instance, out, max);
	struct raw_buf b = { 0 };

	rb_u64(&b, mask(cap, instance));
	rb_u32(&b, n);
	rb_u32(&b, max);
	for (int i = 0; i < n; i++) {
		rb_u32(&b, out[i].pid);
		rb_u32(&b, out[i].flags);
		rb_u64(&b, out[i].start_ns);
	}
	put_buf(cap, RAW_VSOCK_SCAN, 0, &b);
	return n;
}

static int64_t w_local_cid(void *ctx)
{
	struct capture *cap = ctx;
	int64_t cid = cap->vsock.local_cid(cap->vsock.ctx);

	put_rec(cap, RAW_LOCAL_CID, 0, &cid, sizeof(cid), NULL, 0);
	return cid;
}

void capture_wrap_vsock(struct capture *cap, struct vsock_source *src)
{
	uint32_t r[2] = { src->scan != NULL, src->releases_traced };

	if (!cap)
		return;
	cap->vsock = *src;
	cap->vsock_wrapped = true;
	src->ctx = cap;
	src->scan = src->scan ? w_vsock_scan : NULL;
	src->local_cid = src->local_cid ? w_local_cid : NULL;
	put_rec(cap, RAW_VSOCK_SOURCE, 0, r, sizeof(r), NULL, 0);
}

static uint64_t w_now(void *ctx)
{
	struct capture *cap = ctx;
	uint64_t now = cap->now(cap->now_ctx);

	put_rec(cap, RAW_CLOCK, 0, &now, sizeof(now), NULL, 0);
	return now;
}

void capture_wrap_core(struct capture *cap, struct collector *c)
{
	if (!cap)
		return;
	cap->now = c->now;
	cap->now_ctx = c->now_ctx;
	c->now = w_now;
	c->now_ctx = cap;
}

/* Inputs */
int capture_ring(struct capture *cap, struct collector *c, void *data, size_t len)
{
	const struct ct_event_hdr *h = data;

	if (cap && len >= sizeof(*h)) {
		union {
			struct ct_uffd_event u;
			struct ct_vsock_event v;
		} m;

		if (h->type >= CT_EV_UFFD_IOCTL && h->type <= CT_EV_UFFD_FILE &&
		    len >= sizeof(m.u)) {
			memcpy(&m.u, data, sizeof(m.u));
			mask_uffd(cap, &m.u);
			put_rec(cap, RAW_RING, 0, &m.u, sizeof(m.u), (uint8_t *)data + sizeof(m.u),
				len - sizeof(m.u));
		} else if (h->type >= CT_EV_VSOCK_BIND && h->type <= CT_EV_VSOCK_FILE &&
			   len >= sizeof(m.v)) {
			memcpy(&m.v, data, sizeof(m.v));
			m.v.instance = mask(cap, m.v.instance);
			put_rec(cap, RAW_RING, 0, &m.v, sizeof(m.v), (uint8_t *)data + sizeof(m.v),
				len - sizeof(m.v));
		} else {
			put_rec(cap, RAW_RING, 0, data, len, NULL, 0);
		}
	} else if (cap) {
		put_rec(cap, RAW_RING, 0, data, len, NULL, 0);
	}
	return collector_handle(c, data, len);
}

void capture_seed(struct capture *cap, struct collector *c, const struct ct_exec_event *e,
		  const char *argv, size_t argv_len, bool argv_truncated, const char *exe)
{
	if (cap) {
		struct raw_buf b = { 0 };

		rb_u32(&b, argv_len);
		rb_u32(&b, (argv_truncated ? 1 : 0) | (exe ? 2 : 0));
		rb_put(&b, e, CT_EXEC_FIXED_LEN);
		rb_put(&b, argv, argv_len);
		if (exe)
			rb_put(&b, exe, strlen(exe));
		put_buf(cap, RAW_SEED, 0, &b);
	}
	collector_seed(c, e, argv, argv_len, argv_truncated, exe);
}

void capture_link(struct capture *cap, struct collector *c)
{
	put_rec(cap, RAW_LINK, 0, NULL, 0, NULL, 0);
	collector_link_parents(c);
}

void capture_vsock_seed(struct capture *cap, struct collector *c, const struct ct_vsock_event *e)
{
	if (cap) {
		struct ct_vsock_event m = *e;

		m.instance = mask(cap, m.instance);
		put_rec(cap, RAW_VSOCK_SEED, 0, &m, sizeof(m), NULL, 0);
	}
	vsock_seed(c, e);
}

void capture_tick(struct capture *cap, struct collector *c, uint64_t now, unsigned int which)
{
	put_rec(cap, RAW_TICK, which, &now, sizeof(now), NULL, 0);
	if (which & RAW_TICK_VSOCK)
		vsock_tick(c, now);
	if (which & RAW_TICK_UFFD)
		uffd_tick(c, now);
	collector_tick(c, now);
}

void capture_reparent(struct capture *cap, struct collector *c, uint32_t pid, uint64_t start_ns,
		      uint32_t ppid)
{
	struct {
		uint32_t pid, ppid;
		uint64_t start_ns;
	} r = { pid, ppid, start_ns };

	put_rec(cap, RAW_PPID, 0, &r, sizeof(r), NULL, 0);
	collector_reparent(c, pid, start_ns, ppid);
}

void capture_started(struct capture *cap, struct collector *c, uint64_t started_ns)
{
	put_rec(cap, RAW_START, 0, &started_ns, sizeof(started_ns), NULL, 0);
	c->started_ns = started_ns;
}

void capture_job(struct capture *cap, struct collector *c, pid_t pid, const char *cgroup)
{
	if (cap) {
		struct raw_buf b = { 0 };

		rb_u32(&b, pid);
		rb_str(&b, cgroup);
		put_buf(cap, RAW_JOB, 0, &b);
	}
	c->cfg.job_pid = pid;
	c->cfg.job_cgroup = cgroup;
}

void capture_report(struct capture *cap)
{
	put_rec(cap, RAW_REPORT, 0, NULL, 0, NULL, 0);
}

void capture_forked(struct capture *cap, struct collector *c)
{
	if (!cap)
		return;
	c->now = cap->now;
	c->now_ctx = cap->now_ctx;
	if (cap->uffd_wrapped)
		uffd_set_source(c->uffd, &cap->uffd);
	if (cap->vsock_wrapped)
		vsock_set_source(c->vsock, &cap->vsock);
}

static void put_reap(struct capture *cap, const struct reap_action *a, uint16_t flags)
{
	struct {
		uint32_t pid, exited;
		uint64_t start_ns, at_ns;
	} r = { a->proc->pid, a->exited, a->proc->start_ns, a->at_ns };

	put_rec(cap, RAW_REAP, flags, &r, sizeof(r), a->action, strlen(a->action));
}

void capture_reaped(struct capture *cap, const struct reap_log *log)
{
	/* --kill-orphans' actions went out as they were taken */
	for (int i = 0; cap && log && i < log->n; i++)
		if (strcmp(log->v[i].reason, "uffd_orphan"))
			put_reap(cap, &log->v[i], 0);
}

void capture_kill(struct capture *cap, struct collector *c, struct proc *owner, const char *action,
		  uint64_t at_ns, bool exited)
{
	struct reap_action a = {
		.proc = owner, .action = action, .at_ns = at_ns, .exited = exited
	};

	if (cap)
		put_reap(cap, &a, RAW_REAP_UFFD_ORPHAN);
	uffd_log_kill(c, owner, action, at_ns)->exited = exited;
}

void capture_meta(struct capture *cap, const struct capture_meta *m, struct raw_stats *st)
{
	struct raw_buf b = { 0 };

	if (!cap)
		return;
	capture_stats(cap, st);
	rb_u64(&b, m->ended_ns);
	rb_u64(&b, m->lost);
	rb_u64(&b, m->vsock_since_ns);
	rb_u64(&b, st->records);
	rb_u64(&b, st->bytes);
	rb_u64(&b, st->dropped);
	rb_u32(&b, st->complete);
	rb_str(&b, m->process);
	rb_str(&b, m->snapshot);
	rb_str(&b, m->vsock);
	rb_str(&b, m->uffd);
	rb_u64(&b, m->ringbuf_bytes);
	rb_u64(&b, m->cp ? m->cp->interval_ns : 0);
	rb_u64(&b, m->cp ? m->cp->written : 0);
	rb_u64(&b, m->cp ? m->cp->skipped : 0);
	rb_u64(&b, m->cp ? m->cp->failed : 0);
	rb_u64(&b, m->cp ? m->cp->last_stall_ns : 0);
	rb_u64(&b, m->cp ? m->cp->max_stall_ns : 0);
	rb_u64(&b, m->uffd_serves_overflow);
	put_buf(cap, RAW_META, 0, &b);
}
