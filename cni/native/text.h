/* Text as the TypeScript plugin saw it: bytes decoded as UTF-8 with U+FFFD for invalid sequences (what
 * Node's Buffer#toString('utf8') and process.env do), lengths in UTF-16 code units (String#slice), and
 * JSON output exactly as JSON.stringify writes strings and numbers. Strings decoded from JSON may hold
 * lone surrogates (from \uD800-style escapes); they are kept as 3-byte "WTF-8" sequences and written back
 * as \udXXX escapes, as JavaScript does. */
#ifndef WEFT_CNI_TEXT_H
#define WEFT_CNI_TEXT_H

#include <stddef.h>

#include "buf.h"

/* Appends `s[0..n)` decoded as UTF-8, each invalid sequence replaced by U+FFFD (WHATWG decoder). */
int text_sanitize(buf_t *out, const char *s, size_t n);
/* Appends the first `units` UTF-16 code units of the (WTF-8) string, like String#slice(0, units). */
int text_slice(buf_t *out, const char *s, size_t n, size_t units);
/* Length of the string in UTF-16 code units. */
size_t text_units(const char *s, size_t n);
/* Decodes one code point at s (valid WTF-8 assumed, from text_sanitize or the JSON reader); sets *len. */
unsigned text_decode(const char *s, size_t n, size_t *len);
/* Whether a code point is JavaScript whitespace (String#trim, RegExp \s). */
int text_is_js_space(unsigned cp);
/* Appends the string as a JSON string literal, quotes included, escaped as JSON.stringify does. */
int text_json_quote(buf_t *out, const char *s, size_t n);
/* Appends a number as JSON.stringify writes it (shortest round-trip digits; null when not finite). */
int text_json_number(buf_t *out, double d);
/* Appends one code point as (WTF-8) UTF-8. */
int text_put_cp(buf_t *out, unsigned cp);

#endif
