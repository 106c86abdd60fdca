#include "text.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int text_put_cp(buf_t *out, unsigned cp) {
  char u[4];
  size_t n;
  if (cp < 0x80) {
    u[0] = (char)cp;
    n = 1;
  } else if (cp < 0x800) {
    u[0] = (char)(0xC0 | (cp >> 6));
    u[1] = (char)(0x80 | (cp & 0x3F));
    n = 2;
  } else if (cp < 0x10000) {
    u[0] = (char)(0xE0 | (cp >> 12));
    u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[2] = (char)(0x80 | (cp & 0x3F));
    n = 3;
  } else {
    u[0] = (char)(0xF0 | (cp >> 18));
    u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[3] = (char)(0x80 | (cp & 0x3F));
    n = 4;
  }
  return buf_put(out, u, n);
}

static const char REPLACEMENT[] = "\xEF\xBF\xBD";

int text_sanitize(buf_t *out, const char *s, size_t n) {
  const unsigned char *u = (const unsigned char *)s;
  size_t i = 0;
  while (i < n) {
    /* Runs of ASCII go in one copy. */
    size_t start = i;
    while (i < n && u[i] < 0x80) i++;
    if (i > start && buf_put(out, s + start, i - start) < 0) return -1;
    if (i >= n) break;
    unsigned char b = u[i];
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) need = 1;
    else if (b >= 0xE0 && b <= 0xEF) {
      need = 2;
      if (b == 0xE0) lo = 0xA0;
      if (b == 0xED) hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      need = 3;
      if (b == 0xF0) lo = 0x90;
      if (b == 0xF4) hi = 0x8F;
    } else {
      if (buf_put(out, REPLACEMENT, 3) < 0) return -1;
      i++;
      continue;
    }
    size_t seen = 0;
    size_t j = i + 1;
    while (seen < need && j < n && u[j] >= lo && u[j] <= hi) {
      lo = 0x80;
      hi = 0xBF;
      seen++;
      j++;
    }
    if (seen == need) {
      if (buf_put(out, s + i, need + 1) < 0) return -1;
    } else if (buf_put(out, REPLACEMENT, 3) < 0) {
      return -1;
    }
    /* The byte that broke the sequence (if any) is decoded afresh. */
    i = j;
  }
  return 0;
}

unsigned text_decode(const char *s, size_t n, size_t *len) {
  const unsigned char *u = (const unsigned char *)s;
  unsigned char b = u[0];
  if (b < 0x80 || n < 2) {
    *len = 1;
    return b;
  }
  if (b < 0xE0) {
    *len = 2;
    return ((unsigned)(b & 0x1F) << 6) | (u[1] & 0x3F);
  }
  if (b < 0xF0 || n < 4) {
    if (n < 3) {
      *len = n;
      return 0xFFFD;
    }
    *len = 3;
    return ((unsigned)(b & 0x0F) << 12) | ((unsigned)(u[1] & 0x3F) << 6) | (u[2] & 0x3F);
  }
  *len = 4;
  return ((unsigned)(b & 0x07) << 18) | ((unsigned)(u[1] & 0x3F) << 12) | ((unsigned)(u[2] & 0x3F) << 6) | (u[3] & 0x3F);
}

size_t text_units(const char *s, size_t n) {
  size_t units = 0;
  for (size_t i = 0; i < n;) {
    size_t len;
    unsigned cp = text_decode(s + i, n - i, &len);
    units += cp >= 0x10000 ? 2 : 1;
    i += len;
  }
  return units;
}

int text_slice(buf_t *out, const char *s, size_t n, size_t units) {
  size_t i = 0, taken = 0;
  while (i < n && taken < units) {
    size_t len;
    unsigned cp = text_decode(s + i, n - i, &len);
    if (cp >= 0x10000) {
      if (taken + 2 > units) {
        /* Cut between the two halves of a pair: JavaScript keeps the high surrogate alone. */
        unsigned v = cp - 0x10000;
        if (buf_put(out, s, i) < 0) return -1;
        return text_put_cp(out, 0xD800 + (v >> 10));
      }
      taken += 2;
    } else {
      taken += 1;
    }
    i += len;
  }
  return buf_put(out, s, i);
}

int text_is_js_space(unsigned cp) {
  switch (cp) {
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x20: case 0xA0: case 0x1680:
    case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000: case 0xFEFF:
      return 1;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

int text_json_quote(buf_t *out, const char *s, size_t n) {
  static const char HEX[] = "0123456789abcdef";
  if (buf_putc(out, '"') < 0) return -1;
  size_t i = 0;
  while (i < n) {
    size_t start = i;
    while (i < n) {
      unsigned char c = (unsigned char)s[i];
      if (c < 0x20 || c == '"' || c == '\\') break;
      /* A WTF-8 surrogate (ED A0..BF xx) is written as an escape. */
      if (c == 0xED && i + 1 < n && ((unsigned char)s[i + 1] & 0xE0) == 0xA0) break;
      i++;
    }
    if (i > start && buf_put(out, s + start, i - start) < 0) return -1;
    if (i >= n) break;
    unsigned char c = (unsigned char)s[i];
    char esc[7];
    size_t elen = 2;
    esc[0] = '\\';
    if (c == 0xED) {
      size_t len;
      unsigned cp = text_decode(s + i, n - i, &len);
      esc[1] = 'u';
      esc[2] = HEX[(cp >> 12) & 0xF];
      esc[3] = HEX[(cp >> 8) & 0xF];
      esc[4] = HEX[(cp >> 4) & 0xF];
      esc[5] = HEX[cp & 0xF];
      elen = 6;
      i += len;
    } else {
      switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
          esc[1] = 'u';
          esc[2] = '0';
          esc[3] = '0';
          esc[4] = HEX[c >> 4];
          esc[5] = HEX[c & 0xF];
          elen = 6;
      }
      i++;
    }
    if (buf_put(out, esc, elen) < 0) return -1;
  }
  return buf_putc(out, '"');
}

/* Number::toString (ECMA-262 6.1.6.1.20) with the shortest digits that read back as the same double. */
int text_json_number(buf_t *out, double d) {
  if (!isfinite(d)) return buf_puts(out, "null");
  if (d == 0) return buf_putc(out, '0');
  char tmp[40];
  int p;
  for (p = 1; p <= 17; p++) {
    snprintf(tmp, sizeof tmp, "%.*e", p - 1, d);
    if (strtod(tmp, NULL) == d) break;
  }
  /* tmp: [-]D[.DDD]e(+|-)XX */
  char digits[24];
  size_t k = 0;
  const char *q = tmp;
  int neg = 0;
  if (*q == '-') {
    neg = 1;
    q++;
  }
  for (; *q != 'e' && *q != '\0'; q++) {
    if (*q >= '0' && *q <= '9' && k < sizeof digits - 1) digits[k++] = *q;
  }
  digits[k] = '\0';
  long e = *q == 'e' ? strtol(q + 1, NULL, 10) : 0;
  while (k > 1 && digits[k - 1] == '0') digits[--k] = '\0';
  long n = e + 1;
  if (neg && buf_putc(out, '-') < 0) return -1;
  if ((long)k <= n && n <= 21) {
    if (buf_put(out, digits, k) < 0) return -1;
    for (long z = 0; z < n - (long)k; z++) {
      if (buf_putc(out, '0') < 0) return -1;
    }
    return 0;
  }
  if (0 < n && n <= 21) {
    if (buf_put(out, digits, (size_t)n) < 0 || buf_putc(out, '.') < 0) return -1;
    return buf_put(out, digits + n, k - (size_t)n);
  }
  if (-6 < n && n <= 0) {
    if (buf_puts(out, "0.") < 0) return -1;
    for (long z = 0; z < -n; z++) {
      if (buf_putc(out, '0') < 0) return -1;
    }
    return buf_put(out, digits, k);
  }
  if (buf_putc(out, digits[0]) < 0) return -1;
  if (k > 1 && (buf_putc(out, '.') < 0 || buf_put(out, digits + 1, k - 1) < 0)) return -1;
  return buf_printf(out, "e%c%ld", n - 1 >= 0 ? '+' : '-', labs(n - 1));
}
