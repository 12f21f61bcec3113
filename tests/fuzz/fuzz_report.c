// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness for `cidtrace report`: report_parse on arbitrary bytes, then every renderer
 * on what it accepts. Beyond the sanitizers it checks the promises the renderers make: the
 * normalized JSON reads back to itself, text without color carries no control character but
 * newlines, and no report string can open a tag in the HTML.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"

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

	report_free(&r);
	return 0;
}
