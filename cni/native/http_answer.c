#define _GNU_SOURCE
#include "http_answer.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "text.h"

/* ---- answer parsing (HTTP/1.1, Content-Length, chunked, or until EOF) ------------------------------- */

static int latin1_space(unsigned char c) { return c == 0x09 || c == 0x0A || c == 0x0B || c == 0x0C || c == 0x0D || c == 0x20 || c == 0xA0; }

static void trim(const char **s, size_t *n) {
  while (*n > 0 && latin1_space((unsigned char)(*s)[0])) {
    (*s)++;
    (*n)--;
  }
  while (*n > 0 && latin1_space((unsigned char)(*s)[*n - 1])) (*n)--;
}

/* JSON.stringify(latin1 text.slice(0, units)), as the TypeScript client put bytes into its errors. */
static int quote_latin1(buf_t *out, const char *s, size_t n, size_t units) {
  buf_t tmp;
  buf_init(&tmp, 4 * units + 16);
  if (n > units) n = units;
  for (size_t k = 0; k < n; k++) (void)text_put_cp(&tmp, (unsigned char)s[k]);
  int rc = tmp.over ? -1 : text_json_quote(out, buf_str(&tmp), tmp.len);
  buf_free(&tmp);
  return rc;
}

static const char *find(const char *hay, size_t n, const char *needle, size_t m) { return memmem(hay, n, needle, m); }

/* parseInt(text, 16) on a trimmed chunk-size field: sign, optional 0x, hex digits; NaN when none. */
static double parse_hex(const char *s, size_t n) {
  size_t k = 0;
  int neg = 0;
  if (k < n && (s[k] == '-' || s[k] == '+')) neg = s[k++] == '-';
  if (k + 1 < n && s[k] == '0' && (s[k + 1] == 'x' || s[k + 1] == 'X')) k += 2;
  double v = 0;
  size_t digits = 0;
  for (; k < n; k++, digits++) {
    char c = s[k];
    int d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else break;
    v = v * 16 + d;
  }
  if (digits == 0) return NAN;
  return neg ? -v : v;
}

/* The body of a chunked transfer coding: 1 when the last chunk is in, 0 before, -1 malformed. */
static int dechunk(const char *s, size_t n, buf_t *body, buf_t *reason) {
  size_t at = 0;
  buf_reset(body);
  for (;;) {
    const char *eol = at <= n ? find(s + at, n - at, "\r\n", 2) : NULL;
    if (eol == NULL) return 0;
    size_t e = (size_t)(eol - s);
    const char *field = s + at;
    size_t flen = e - at;
    const char *semi = memchr(field, ';', flen);
    if (semi != NULL) flen = (size_t)(semi - field);
    trim(&field, &flen);
    double size = parse_hex(field, flen);
    if (isnan(size) || size < 0 || isinf(size)) {
      buf_puts(reason, "a malformed chunk size");
      return -1;
    }
    if (size == 0) return 1;
    if ((double)n < (double)e + 2 + size + 2) return 0;
    size_t sz = (size_t)size;
    if (buf_put(body, s + e + 2, sz) < 0) {
      buf_printf(reason, "a body over %d bytes", MAX_BODY_BYTES);
      return -1;
    }
    at = e + 2 + sz + 2;
  }
}

int http_parse_answer(const char *buf, size_t len, int eof, int *status, buf_t *body, buf_t *reason) {
  const char *end = find(buf, len, "\r\n\r\n", 4);
  if (end == NULL) {
    if (len > MAX_HEAD_BYTES) return buf_puts(reason, "an answer head over 16 KiB"), -1;
    if (eof) return buf_puts(reason, "an answer without a complete head"), -1;
    return 0;
  }
  size_t head = (size_t)(end - buf);
  const char *nl = find(buf, head, "\r\n", 2);
  size_t l0 = nl != NULL ? (size_t)(nl - buf) : head;
  /* ^HTTP/1\.[01] (\d{3})(?: |$) */
  int ok = l0 >= 12 && memcmp(buf, "HTTP/1.", 7) == 0 && (buf[7] == '0' || buf[7] == '1') && buf[8] == ' ';
  for (int k = 9; ok && k < 12; k++) ok = buf[k] >= '0' && buf[k] <= '9';
  if (ok && l0 > 12 && buf[12] != ' ') ok = 0;
  if (!ok) {
    buf_puts(reason, "not an HTTP/1.1 answer: ");
    quote_latin1(reason, buf, l0, 64);
    return -1;
  }
  int code = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
  long length = -1;
  int chunked = 0;
  size_t at = nl != NULL ? l0 + 2 : head;
  while (at < head) {
    const char *next = find(buf + at, head - at, "\r\n", 2);
    size_t lend = next != NULL ? (size_t)(next - buf) : head;
    const char *line = buf + at;
    size_t llen = lend - at;
    at = lend + 2;
    const char *colon = memchr(line, ':', llen);
    if (colon == NULL || colon == line) continue;
    const char *name = line;
    size_t nlen = (size_t)(colon - line);
    const char *value = colon + 1;
    size_t vlen = llen - nlen - 1;
    trim(&name, &nlen);
    trim(&value, &vlen);
    if (nlen == 14 && strncasecmp(name, "content-length", 14) == 0) {
      int digits = vlen >= 1 && vlen <= 9;
      for (size_t k = 0; digits && k < vlen; k++) digits = value[k] >= '0' && value[k] <= '9';
      if (!digits) {
        buf_puts(reason, "bad content-length ");
        quote_latin1(reason, value, vlen, 32);
        return -1;
      }
      length = 0;
      for (size_t k = 0; k < vlen; k++) length = length * 10 + (value[k] - '0');
    } else if (nlen == 17 && strncasecmp(name, "transfer-encoding", 17) == 0) {
      chunked = 0;
      for (size_t k = 0; k + 7 <= vlen; k++) {
        if (strncasecmp(value + k, "chunked", 7) == 0) {
          chunked = 1;
          break;
        }
      }
    }
  }
  const char *rest = buf + head + 4;
  size_t rlen = len - head - 4;
  buf_t raw;
  buf_init(&raw, len);
  const char *bstart = rest;
  size_t blen;
  int rc = 1;
  if (chunked) {
    int d = dechunk(rest, rlen, &raw, reason);
    if (d < 0) rc = -1;
    else if (d == 0) rc = eof ? (buf_puts(reason, "a chunked body cut short"), -1) : 0;
    bstart = buf_str(&raw);
    blen = raw.len;
  } else if (length >= 0) {
    if (length > MAX_BODY_BYTES) rc = (buf_printf(reason, "a body over %d bytes", MAX_BODY_BYTES), -1);
    else if (rlen < (size_t)length) rc = eof ? (buf_puts(reason, "a body shorter than its content-length"), -1) : 0;
    blen = (size_t)length;
  } else {
    if (!eof) rc = 0;
    blen = rlen;
  }
  if (rc == 1 && blen > MAX_BODY_BYTES) rc = (buf_printf(reason, "a body over %d bytes", MAX_BODY_BYTES), -1);
  if (rc == 1) {
    *status = code;
    buf_reset(body);
    if (text_sanitize(body, bstart, blen) < 0) rc = (buf_puts(reason, "an answer too large to decode"), -1);
  }
  buf_free(&raw);
  return rc;
}
