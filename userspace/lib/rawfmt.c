// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rawfmt.h"
#include "util.h"

/* Fixed part of the header: magic, version, length, flags, clocks, tick_hz, page_size. */
#define RAW_HEADER_FIXED 40

void rb_put(struct raw_buf *b, const void *d, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap < b->len + n)
			cap *= 2;
		b->p = xrealloc(b->p, cap);
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, d, n);
	b->len += n;
}

/* Little endian on the wire; x86_64 is, so these are plain copies. */
void rb_u16(struct raw_buf *b, uint16_t v)
{
	rb_put(b, &v, sizeof(v));
}

void rb_u32(struct raw_buf *b, uint32_t v)
{
	rb_put(b, &v, sizeof(v));
}

void rb_u64(struct raw_buf *b, uint64_t v)
{
	rb_put(b, &v, sizeof(v));
}

void rb_str(struct raw_buf *b, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n >= 0xffff)
		n = 0xfffe;
	rb_u16(b, s ? n : 0xffff);
	rb_put(b, s, n);
}

void rb_free(struct raw_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

const void *ri_bytes(struct raw_in *r, size_t n)
{
	const void *p;

	if (r->bad || r->len - r->off < n) {
		r->bad = true;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

void ri_copy(struct raw_in *r, void *out, size_t n)
{
	const void *p = ri_bytes(r, n);

	if (p)
		memcpy(out, p, n);
	else
		memset(out, 0, n);
}

uint16_t ri_u16(struct raw_in *r)
{
	uint16_t v;

	ri_copy(r, &v, sizeof(v));
	return v;
}

uint32_t ri_u32(struct raw_in *r)
{
	uint32_t v;

	ri_copy(r, &v, sizeof(v));
	return v;
}

uint64_t ri_u64(struct raw_in *r)
{
	uint64_t v;

	ri_copy(r, &v, sizeof(v));
	return v;
}

char *ri_str(struct raw_in *r)
{
	uint16_t n = ri_u16(r);
	const char *p;
	char *s;

	if (n == 0xffff || !(p = ri_bytes(r, n)))
		return NULL;
	s = xmemdup(p, n);
	return s;
}

void raw_header_write(struct raw_buf *b, const struct raw_header *h)
{
	size_t start = b->len;
	uint16_t len;

	rb_put(b, RAW_MAGIC, RAW_MAGIC_LEN);
	rb_u16(b, RAW_VERSION);
	rb_u16(b, 0); /* header length, set below */
	rb_u32(b, 0); /* flags */
	rb_u64(b, h->wall_minus_boot_ns);
	rb_u64(b, h->boot_ns);
	rb_u32(b, h->tick_hz);
	rb_u32(b, h->page_size);
	rb_str(b, h->version);
	rb_str(b, h->kernel);
	rb_str(b, h->hostname);
	rb_str(b, h->process);
	rb_str(b, h->snapshot);
	rb_str(b, h->vsock);
	rb_str(b, h->uffd);
	rb_u64(b, h->vsock_since_ns);
	rb_u32(b, h->keep_processes);
	rb_u64(b, h->keep_for_ns);
	len = b->len - start;
	memcpy(b->p + start + RAW_MAGIC_LEN + 2, &len, sizeof(len));
}

int raw_header_read(struct raw_in *f, struct raw_header *h)
{
	const void *magic = ri_bytes(f, RAW_MAGIC_LEN);
	struct raw_in hr;
	uint16_t version, len;

	memset(h, 0, sizeof(*h));
	if (!magic || memcmp(magic, RAW_MAGIC, RAW_MAGIC_LEN))
		return -EINVAL;
	version = ri_u16(f);
	len = ri_u16(f);
	if (f->bad)
		return -EIO;
	if (version < RAW_VERSION_MIN || version > RAW_VERSION)
		return -EPROTONOSUPPORT;
	h->format = version;
	if (len < RAW_HEADER_FIXED || len > f->len)
		return -EIO;
	hr = (struct raw_in){ f->p, len, f->off, false };
	ri_u32(&hr); /* flags */
	h->wall_minus_boot_ns = ri_u64(&hr);
	h->boot_ns = ri_u64(&hr);
	h->tick_hz = ri_u32(&hr);
	h->page_size = ri_u32(&hr);
	h->version = ri_str(&hr);
	h->kernel = ri_str(&hr);
	h->hostname = ri_str(&hr);
	h->process = ri_str(&hr);
	h->snapshot = ri_str(&hr);
	h->vsock = ri_str(&hr);
	h->uffd = ri_str(&hr);
	h->vsock_since_ns = ri_u64(&hr);
	h->has_retention = hr.off < hr.len;
	if (h->has_retention) {
		h->keep_processes = ri_u32(&hr);
		h->keep_for_ns = ri_u64(&hr);
	}
	f->off = len; /* later versions may add fields: skip what this one does not know */
	return hr.bad ? -EIO : 0;
}

void raw_header_free(struct raw_header *h)
{
	free(h->version);
	free(h->kernel);
	free(h->hostname);
	free(h->process);
	free(h->snapshot);
	free(h->vsock);
	free(h->uffd);
	memset(h, 0, sizeof(*h));
}

int raw_next(struct raw_in *f, uint16_t *type, uint16_t *flags, struct raw_in *payload)
{
	size_t start = f->off;
	uint32_t len;
	const void *p;

	if (f->off == f->len)
		return 0;
	*type = ri_u16(f);
	*flags = ri_u16(f);
	len = ri_u32(f);
	if (f->bad || len > RAW_MAX_LEN || *type == 0 || !(p = ri_bytes(f, len))) {
		f->off = start;
		f->bad = true;
		return -1;
	}
	*payload = (struct raw_in){ p, len, 0, false };
	return 1;
}
