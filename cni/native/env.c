/* The CNI environment as the TypeScript plugin read it from process.env, and the numeric bounds taken from
 * it (Number() semantics). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plugin.h"
#include "text.h"

/* The environment variable decoded as Node's process.env has it (UTF-8, U+FFFD for invalid bytes). */
void env_read(envval_t *v, const char *name) {
  buf_init(&v->val, ENV_MAX * 3);
  const char *raw = getenv(name);
  v->set = raw != NULL;
  if (raw != NULL) {
    size_t n = strlen(raw);
    text_sanitize(&v->val, raw, n < ENV_MAX ? n : ENV_MAX);
  }
}

int env_empty(const envval_t *v) { return !v->set || v->val.len == 0; }

/* Number(raw) for the bound variables: decimal (with fraction/exponent), 0x/0o/0b, Infinity; NaN else. */
static double js_number(const char *s, size_t n) {
  size_t len;
  while (n > 0 && text_is_js_space(text_decode(s, n, &len))) s += len, n -= len;
  while (n > 0) {
    size_t k = n - 1;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80) k--;
    if (!text_is_js_space(text_decode(s + k, n - k, &len))) break;
    n = k;
  }
  if (n == 0) return 0;
  if (n > 2 && s[0] == '0' && strchr("xXoObB", s[1]) != NULL) {
    int base = (s[1] | 0x20) == 'x' ? 16 : (s[1] | 0x20) == 'o' ? 8 : 2;
    double v = 0;
    for (size_t k = 2; k < n; k++) {
      int d = s[k] >= '0' && s[k] <= '9' ? s[k] - '0' : (s[k] | 0x20) >= 'a' && (s[k] | 0x20) <= 'f' ? (s[k] | 0x20) - 'a' + 10 : 99;
      if (d >= base) return NAN;
      v = v * base + d;
    }
    return v;
  }
  size_t k = 0;
  int neg = 0;
  if (s[k] == '+' || s[k] == '-') neg = s[k++] == '-';
  if (n - k == 8 && memcmp(s + k, "Infinity", 8) == 0) return neg ? -INFINITY : INFINITY;
  size_t digits = 0, start = k;
  while (k < n && s[k] >= '0' && s[k] <= '9') k++, digits++;
  if (k < n && s[k] == '.') {
    k++;
    while (k < n && s[k] >= '0' && s[k] <= '9') k++, digits++;
  }
  if (digits == 0) return NAN;
  if (k < n && (s[k] == 'e' || s[k] == 'E')) {
    k++;
    if (k < n && (s[k] == '+' || s[k] == '-')) k++;
    size_t e = 0;
    while (k < n && s[k] >= '0' && s[k] <= '9') k++, e++;
    if (e == 0) return NAN;
  }
  if (k != n) return NAN;
  char tmp[128];
  if (n - start >= sizeof tmp) return NAN;
  memcpy(tmp, s + start, n - start);
  tmp[n - start] = '\0';
  double v = strtod(tmp, NULL);
  return neg ? -v : v;
}

/* The bound from the environment; a malformed value is refused (CNI code 4), not ignored. */
int env_int(werr_t *err, const char *name, long fallback, long max, long *out) {
  envval_t v;
  env_read(&v, name);
  int rc = 0;
  if (env_empty(&v)) *out = fallback;
  else {
    double d = js_number(v.val.p, v.val.len);
    if (!isfinite(d) || floor(d) != d || d < 1 || d > (double)max) {
      buf_t why;
      buf_init(&why, 4096);
      buf_printf(&why, "%s must be an integer in [1, %ld], got \"", name, max);
      text_slice(&why, v.val.p, v.val.len, 32);
      buf_putc(&why, '"');
      werr_set(err, "ERR_WEFT_CNI_ENV_INVALID");
      werr_param(err, "reason", buf_str(&why), why.len);
      buf_free(&why);
      rc = -1;
    } else {
      *out = (long)d;
    }
  }
  buf_free(&v.val);
  return rc;
}
