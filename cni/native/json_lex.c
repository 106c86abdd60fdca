/* The JSON reader's tokens: error messages worded as JSON.parse words them (positions in UTF-16 units),
 * blanks, string literals (escapes, surrogate pairs kept as WTF-8), numbers and the three literals.
 * Every index is checked against the input's length before it is read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_reader.h"
#include "text.h"

static size_t units_before(const reader_t *r, size_t at) { return text_units(r->s, at < r->n ? at : r->n); }

int jr_fail_at(reader_t *r, const char *what, size_t at) {
  if (!r->failed) {
    r->failed = 1;
    snprintf(r->doc->error, sizeof r->doc->error, "%s in JSON at position %zu", what, units_before(r, at));
  }
  return -1;
}

int jr_fail_token(reader_t *r) {
  if (r->failed) return -1;
  if (r->i >= r->n) {
    r->failed = 1;
    snprintf(r->doc->error, sizeof r->doc->error, "Unexpected end of JSON input");
    return -1;
  }
  size_t len;
  (void)text_decode(r->s + r->i, r->n - r->i, &len);
  if (len > 4) len = 4;
  char tok[5];
  memcpy(tok, r->s + r->i, len);
  tok[len] = '\0';
  r->failed = 1;
  snprintf(r->doc->error, sizeof r->doc->error, "Unexpected token '%s' in JSON at position %zu", tok, units_before(r, r->i));
  return -1;
}

int jr_fail_expected(reader_t *r, const char *what) {
  if (r->i >= r->n) return jr_fail_token(r);
  return jr_fail_at(r, what, r->i);
}

int jr_oom(reader_t *r) {
  if (!r->failed) {
    r->failed = 1;
    snprintf(r->doc->error, sizeof r->doc->error, "out of memory");
  }
  return -1;
}

void jr_skip_ws(reader_t *r) {
  while (r->i < r->n) {
    char c = r->s[r->i];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
    r->i++;
  }
}

jval_t *jr_new_val(reader_t *r, jtype_t t) {
  jval_t *v = json_arena_alloc(r->doc, sizeof *v);
  if (v == NULL) {
    jr_oom(r);
    return NULL;
  }
  memset(v, 0, sizeof *v);
  v->t = t;
  return v;
}

static int hex4(const char *s, unsigned *out) {
  unsigned v = 0;
  for (int k = 0; k < 4; k++) {
    char c = s[k];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
    else return -1;
  }
  *out = v;
  return 0;
}

/* Reads a string jr_literal at r->i (the opening quote) into the arena. */
int jr_read_string(reader_t *r, const char **out, size_t *outlen) {
  size_t open = r->i;
  r->i++;
  buf_reset(&r->str);
  for (;;) {
    size_t start = r->i;
    while (r->i < r->n) {
      unsigned char c = (unsigned char)r->s[r->i];
      if (c == '"' || c == '\\' || c < 0x20) break;
      r->i++;
    }
    if (r->i > start && buf_put(&r->str, r->s + start, r->i - start) < 0) return jr_oom(r);
    if (r->i >= r->n) {
      (void)open;
      return jr_fail_at(r, "Unterminated string", r->n);
    }
    unsigned char c = (unsigned char)r->s[r->i];
    if (c == '"') {
      r->i++;
      break;
    }
    if (c < 0x20) return jr_fail_at(r, "Bad control character in string jr_literal", r->i);
    /* backslash */
    if (r->i + 1 >= r->n) return jr_fail_at(r, "Unterminated string", r->n);
    char e = r->s[r->i + 1];
    char plain = 0;
    switch (e) {
      case '"': plain = '"'; break;
      case '\\': plain = '\\'; break;
      case '/': plain = '/'; break;
      case 'b': plain = '\b'; break;
      case 'f': plain = '\f'; break;
      case 'n': plain = '\n'; break;
      case 'r': plain = '\r'; break;
      case 't': plain = '\t'; break;
      case 'u': break;
      default: return jr_fail_at(r, "Bad escaped character", r->i + 1);
    }
    if (e != 'u') {
      if (buf_putc(&r->str, plain) < 0) return jr_oom(r);
      r->i += 2;
      continue;
    }
    unsigned cu;
    if (r->i + 6 > r->n || hex4(r->s + r->i + 2, &cu) < 0) return jr_fail_at(r, "Bad Unicode escape", r->i + 1);
    r->i += 6;
    unsigned cp = cu;
    if (cu >= 0xD800 && cu <= 0xDBFF && r->i + 6 <= r->n && r->s[r->i] == '\\' && r->s[r->i + 1] == 'u') {
      unsigned lo;
      if (hex4(r->s + r->i + 2, &lo) == 0 && lo >= 0xDC00 && lo <= 0xDFFF) {
        cp = 0x10000 + ((cu - 0xD800) << 10) + (lo - 0xDC00);
        r->i += 6;
      }
    }
    if (text_put_cp(&r->str, cp) < 0) return jr_oom(r);
  }
  char *s = json_arena_alloc(r->doc, r->str.len + 1);
  if (s == NULL) return jr_oom(r);
  if (r->str.len > 0) memcpy(s, r->str.p, r->str.len);
  s[r->str.len] = '\0';
  *out = s;
  *outlen = r->str.len;
  return 0;
}

int jr_is_digit(char c) { return c >= '0' && c <= '9'; }

jval_t *jr_read_number(reader_t *r) {
  size_t start = r->i;
  if (r->s[r->i] == '-') {
    r->i++;
    if (r->i >= r->n || !jr_is_digit(r->s[r->i])) {
      jr_fail_expected(r, "No number after minus sign");
      return NULL;
    }
  }
  if (r->s[r->i] == '0') r->i++;
  else while (r->i < r->n && jr_is_digit(r->s[r->i])) r->i++;
  if (r->i < r->n && r->s[r->i] == '.') {
    r->i++;
    if (r->i >= r->n || !jr_is_digit(r->s[r->i])) {
      jr_fail_at(r, "Unterminated fractional number", r->i);
      return NULL;
    }
    while (r->i < r->n && jr_is_digit(r->s[r->i])) r->i++;
  }
  if (r->i < r->n && (r->s[r->i] == 'e' || r->s[r->i] == 'E')) {
    r->i++;
    if (r->i < r->n && (r->s[r->i] == '+' || r->s[r->i] == '-')) r->i++;
    if (r->i >= r->n || !jr_is_digit(r->s[r->i])) {
      jr_fail_at(r, "Exponent part is missing a number", r->i);
      return NULL;
    }
    while (r->i < r->n && jr_is_digit(r->s[r->i])) r->i++;
  }
  size_t len = r->i - start;
  char small[64];
  char *lex = len < sizeof small ? small : malloc(len + 1);
  if (lex == NULL) {
    jr_oom(r);
    return NULL;
  }
  memcpy(lex, r->s + start, len);
  lex[len] = '\0';
  jval_t *v = jr_new_val(r, J_NUM);
  if (v != NULL) v->num = strtod(lex, NULL);
  if (lex != small) free(lex);
  return v;
}

int jr_literal(reader_t *r, const char *word) {
  size_t len = strlen(word);
  for (size_t k = 0; k < len; k++) {
    if (r->i + k >= r->n || r->s[r->i + k] != word[k]) {
      r->i += k;
      return jr_fail_token(r);
    }
  }
  r->i += len;
  return 0;
}
