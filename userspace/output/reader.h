/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The reader of `cidtrace report`: a strict JSON parser that normalizes the document against
 * a table of its fields as it reads it, into a compact tree. Unknown fields and values of the
 * wrong type are validated and skipped, never stored; an absent field takes no memory. So
 * the tree costs at most a few times the input, whatever the input (docs/report-command.md),
 * which json-c's tree of the whole document, at about 800 bytes per object, did not.
 */
#ifndef CIDTRACE_READER_H
#define CIDTRACE_READER_H

#include <stdbool.h>
#include <stddef.h>

#include "rtree.h"

/*
 * Parse len bytes of buf (not NUL-terminated) as one JSON document and normalize it against
 * sc into t. Returns 0, or -1 with a lowercase reason in err: not JSON ("truncated JSON: it
 * ends at byte 812 inside a value", "not JSON: unexpected character at byte 3"), not an
 * object, refused by want_schema, or an array longer than its limit. want_schema gets the
 * root's "schema" string (NULL: none) once the whole document is known to be JSON; when it
 * says no, with its reason in err, nothing is normalized.
 */
int reader_parse(const char *buf, size_t len, const struct schema *sc,
		 bool (*want_schema)(const char *schema, char *err, size_t errlen), struct rtree *t,
		 char *err, size_t errlen);

#endif
