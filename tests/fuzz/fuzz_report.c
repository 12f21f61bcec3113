// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness for `cidtrace report`: report_parse on arbitrary bytes, then every renderer
 * on what it accepts. Beyond the sanitizers it checks the promises the renderers make: the
 * normalized JSON reads back to itself, text without color carries no control character but
 * newlines, and no report string can open a tag in the HTML. Then it slices what it accepts
 * (slice.h) and checks that a slice is a report that slices again to itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "slice.h"

static char *render(void (*fn)(FILE *, const struct report *), const struct report *r, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	fn(f, r);
	fclose(f);
	return buf;
}

static void text_plain(FILE *f, const struct report *r)
{
	render_text(f, r, false);
}

static void text_color(FILE *f, const struct report *r)
{
	render_text(f, r, true);
}

/*
 * A slice (a job dir and a time the seeds use; for odd-sized inputs, of a container too, so
 * that hostile cgroup paths reach the container parser) is a report, and slicing it again
 * changes nothing.
 */
static void check_slice(struct report *r, bool container)
{
	struct slice s = { .scope = "/ci/TestSnap/001",
			   .container = container ? "3f2a9c0d1e8b" : NULL,
			   .has_since = true,
			   .since_us = 1795756955000000LL };
	struct report again;
	char err[256], *json, *json2, *out;
	size_t len, len2;

	slice_report(r, &s);
	json = render(render_json, r, &len);
	if (report_parse(json, len, &again, err, sizeof(err)))
		abort(); /* the slice is no report */
	slice_report(&again, &s);
	json2 = render(render_json, &again, &len2);
	if (len != len2 || memcmp(json, json2, len))
		abort(); /* slicing the slice changed it */
	report_free(&again);
	free(json2);
	free(json);
	free(render(text_plain, r, &len));
	out = render(render_html, r, &len);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct report r, again;
	char err[256], *json, *json2, *out;
	size_t len, len2;

	if (report_parse((const char *)data, size, &r, err, sizeof(err)))
		return 0;

	json = render(render_json, &r, &len);
	if (report_parse(json, len, &again, err, sizeof(err)))
		abort(); /* the normalized report is no longer a report */
	json2 = render(render_json, &again, &len2);
	if (len != len2 || memcmp(json, json2, len))
		abort(); /* normalizing twice changed it */
	report_free(&again);
	free(json2);
	free(json);

	out = render(text_plain, &r, &len);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)out[i] < 0x20 && out[i] != '\n')
			abort(); /* a control character reached the terminal */
	free(out);
	free(render(text_color, &r, &len));

	out = render(render_html, &r, &len);
	if (memmem(out, len, "<script", 7) || memmem(out, len, "<img", 4) ||
	    memmem(out, len, "<iframe", 7))
		abort(); /* markup from the report */
	free(out);

	check_slice(&r, size & 1);
	report_free(&r);
	return 0;
}
