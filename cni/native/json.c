#include "json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

/* ---- arena ---------------------------------------------------------------------------------------- */

struct json_arena {
  struct json_arena *next;
  size_t used, size;
  _Alignas(16) unsigned char data[];
};

static void *arena_alloc(json_doc_t *doc, size_t n) {
  n = (n + 15) & ~(size_t)15;
  json_arena_t *a = doc->arena;
  if (a == NULL || a->size - a->used < n) {
    size_t size = n > 64 * 1024 ? n : 64 * 1024;
    json_arena_t *b = malloc(sizeof *b + size);
    if (b == NULL) return NULL;
    b->next = a;
    b->used = 0;
    b->size = size;
    doc->arena = b;
    a = b;
  }
  void *p = a->data + a->used;
  a->used += n;
  return p;
}

void json_free(json_doc_t *doc) {
  json_arena_t *a = doc->arena;
  while (a != NULL) {
    json_arena_t *next = a->next;
    free(a);
    a = next;
  }
  doc->arena = NULL;
  doc->root = NULL;
}

/* ---- reader --------------------------------------------------------------------------------------- */

typedef struct {
  json_doc_t *doc;
  const char *s;
  size_t n, i;
  /* Scratch stacks for the children of open arrays and objects; copied into the arena on close. */
  jval_t **vs;
  size_t vn, vcap;
  jmember_t *ms;
  size_t mn, mcap;
  buf_t str; /* scratch for decoding one string */
  int failed;
} reader_t;

static size_t units_before(const reader_t *r, size_t at) { return text_units(r->s, at < r->n ? at : r->n); }

static int fail_at(reader_t *r, const char *what, size_t at) {
  if (!r->failed) {
    r->failed = 1;
    snprintf(r->doc->error, sizeof r->doc->error, "%s in JSON at position %zu", what, units_before(r, at));
  }
  return -1;
}

static int fail_token(reader_t *r) {
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

/* At the end of input: "Unexpected end"; else `what` at the current position. */
static int fail_expected(reader_t *r, const char *what) {
  if (r->i >= r->n) return fail_token(r);
  return fail_at(r, what, r->i);
}

static int oom(reader_t *r) {
  if (!r->failed) {
    r->failed = 1;
    snprintf(r->doc->error, sizeof r->doc->error, "out of memory");
  }
  return -1;
}

static void skip_ws(reader_t *r) {
  while (r->i < r->n) {
    char c = r->s[r->i];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
    r->i++;
  }
}

static jval_t *new_val(reader_t *r, jtype_t t) {
  jval_t *v = arena_alloc(r->doc, sizeof *v);
  if (v == NULL) {
    oom(r);
    return NULL;
  }
  memset(v, 0, sizeof *v);
  v->t = t;
  return v;
}

static int push_val(reader_t *r, jval_t *v) {
  if (r->vn == r->vcap) {
    size_t cap = r->vcap == 0 ? 64 : r->vcap * 2;
    jval_t **p = realloc(r->vs, cap * sizeof *p);
    if (p == NULL) return oom(r);
    r->vs = p;
    r->vcap = cap;
  }
  r->vs[r->vn++] = v;
  return 0;
}

static int push_member(reader_t *r, const char *key, size_t klen, jval_t *v) {
  if (r->mn == r->mcap) {
    size_t cap = r->mcap == 0 ? 64 : r->mcap * 2;
    jmember_t *p = realloc(r->ms, cap * sizeof *p);
    if (p == NULL) return oom(r);
    r->ms = p;
    r->mcap = cap;
  }
  r->ms[r->mn].key = key;
  r->ms[r->mn].klen = klen;
  r->ms[r->mn].val = v;
  r->mn++;
  return 0;
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

/* Reads a string literal at r->i (the opening quote) into the arena. */
static int read_string(reader_t *r, const char **out, size_t *outlen) {
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
    if (r->i > start && buf_put(&r->str, r->s + start, r->i - start) < 0) return oom(r);
    if (r->i >= r->n) {
      (void)open;
      return fail_at(r, "Unterminated string", r->n);
    }
    unsigned char c = (unsigned char)r->s[r->i];
    if (c == '"') {
      r->i++;
      break;
    }
    if (c < 0x20) return fail_at(r, "Bad control character in string literal", r->i);
    /* backslash */
    if (r->i + 1 >= r->n) return fail_at(r, "Unterminated string", r->n);
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
      default: return fail_at(r, "Bad escaped character", r->i + 1);
    }
    if (e != 'u') {
      if (buf_putc(&r->str, plain) < 0) return oom(r);
      r->i += 2;
      continue;
    }
    unsigned cu;
    if (r->i + 6 > r->n || hex4(r->s + r->i + 2, &cu) < 0) return fail_at(r, "Bad Unicode escape", r->i + 1);
    r->i += 6;
    unsigned cp = cu;
    if (cu >= 0xD800 && cu <= 0xDBFF && r->i + 6 <= r->n && r->s[r->i] == '\\' && r->s[r->i + 1] == 'u') {
      unsigned lo;
      if (hex4(r->s + r->i + 2, &lo) == 0 && lo >= 0xDC00 && lo <= 0xDFFF) {
        cp = 0x10000 + ((cu - 0xD800) << 10) + (lo - 0xDC00);
        r->i += 6;
      }
    }
    if (text_put_cp(&r->str, cp) < 0) return oom(r);
  }
  char *s = arena_alloc(r->doc, r->str.len + 1);
  if (s == NULL) return oom(r);
  if (r->str.len > 0) memcpy(s, r->str.p, r->str.len);
  s[r->str.len] = '\0';
  *out = s;
  *outlen = r->str.len;
  return 0;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static jval_t *read_number(reader_t *r) {
  size_t start = r->i;
  if (r->s[r->i] == '-') {
    r->i++;
    if (r->i >= r->n || !is_digit(r->s[r->i])) {
      fail_expected(r, "No number after minus sign");
      return NULL;
    }
  }
  if (r->s[r->i] == '0') r->i++;
  else while (r->i < r->n && is_digit(r->s[r->i])) r->i++;
  if (r->i < r->n && r->s[r->i] == '.') {
    r->i++;
    if (r->i >= r->n || !is_digit(r->s[r->i])) {
      fail_at(r, "Unterminated fractional number", r->i);
      return NULL;
    }
    while (r->i < r->n && is_digit(r->s[r->i])) r->i++;
  }
  if (r->i < r->n && (r->s[r->i] == 'e' || r->s[r->i] == 'E')) {
    r->i++;
    if (r->i < r->n && (r->s[r->i] == '+' || r->s[r->i] == '-')) r->i++;
    if (r->i >= r->n || !is_digit(r->s[r->i])) {
      fail_at(r, "Exponent part is missing a number", r->i);
      return NULL;
    }
    while (r->i < r->n && is_digit(r->s[r->i])) r->i++;
  }
  size_t len = r->i - start;
  char small[64];
  char *lex = len < sizeof small ? small : malloc(len + 1);
  if (lex == NULL) {
    oom(r);
    return NULL;
  }
  memcpy(lex, r->s + start, len);
  lex[len] = '\0';
  jval_t *v = new_val(r, J_NUM);
  if (v != NULL) v->num = strtod(lex, NULL);
  if (lex != small) free(lex);
  return v;
}

static int literal(reader_t *r, const char *word) {
  size_t len = strlen(word);
  for (size_t k = 0; k < len; k++) {
    if (r->i + k >= r->n || r->s[r->i + k] != word[k]) {
      r->i += k;
      return fail_token(r);
    }
  }
  r->i += len;
  return 0;
}

/* FNV-1a over the key bytes. */
static uint64_t key_hash(const char *k, size_t n) {
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)k[i]) * 1099511628211ULL;
  return h;
}

/* Closes an object: members [from, r->mn) become its members, duplicates folded into the first place. */
static int close_object(reader_t *r, jval_t *obj, size_t from) {
  size_t count = r->mn - from;
  jmember_t *m = count > 0 ? arena_alloc(r->doc, count * sizeof *m) : NULL;
  if (count > 0 && m == NULL) return oom(r);
  size_t out = 0;
  if (count <= 8) {
    for (size_t k = from; k < r->mn; k++) {
      size_t j;
      for (j = 0; j < out; j++) {
        if (m[j].klen == r->ms[k].klen && memcmp(m[j].key, r->ms[k].key, m[j].klen) == 0) break;
      }
      if (j < out) m[j].val = r->ms[k].val;
      else m[out++] = r->ms[k];
    }
  } else {
    size_t tsize = 16;
    while (tsize < count * 2) tsize *= 2;
    size_t *table = calloc(tsize, sizeof *table); /* index + 1 into m; 0 = empty */
    if (table == NULL) return oom(r);
    for (size_t k = from; k < r->mn; k++) {
      size_t slot = (size_t)key_hash(r->ms[k].key, r->ms[k].klen) & (tsize - 1);
      for (;;) {
        size_t at = table[slot];
        if (at == 0) {
          m[out] = r->ms[k];
          table[slot] = ++out;
          break;
        }
        jmember_t *e = &m[at - 1];
        if (e->klen == r->ms[k].klen && memcmp(e->key, r->ms[k].key, e->klen) == 0) {
          e->val = r->ms[k].val;
          break;
        }
        slot = (slot + 1) & (tsize - 1);
      }
    }
    free(table);
  }
  obj->members = m;
  obj->len = out;
  r->mn = from;
  return 0;
}

static jval_t *read_value(reader_t *r, int depth);

static jval_t *read_array(reader_t *r, int depth) {
  jval_t *arr = new_val(r, J_ARR);
  if (arr == NULL) return NULL;
  size_t from = r->vn;
  r->i++;
  skip_ws(r);
  if (r->i < r->n && r->s[r->i] == ']') {
    r->i++;
    return arr;
  }
  for (;;) {
    jval_t *v = read_value(r, depth + 1);
    if (v == NULL || push_val(r, v) < 0) return NULL;
    skip_ws(r);
    if (r->i < r->n && r->s[r->i] == ',') {
      r->i++;
      continue;
    }
    if (r->i < r->n && r->s[r->i] == ']') {
      r->i++;
      break;
    }
    fail_expected(r, "Expected ',' or ']' after array element");
    return NULL;
  }
  size_t count = r->vn - from;
  arr->items = arena_alloc(r->doc, count * sizeof *arr->items);
  if (arr->items == NULL) {
    oom(r);
    return NULL;
  }
  memcpy(arr->items, r->vs + from, count * sizeof *arr->items);
  arr->len = count;
  r->vn = from;
  return arr;
}

static jval_t *read_object(reader_t *r, int depth) {
  jval_t *obj = new_val(r, J_OBJ);
  if (obj == NULL) return NULL;
  size_t from = r->mn;
  r->i++;
  skip_ws(r);
  if (r->i < r->n && r->s[r->i] == '}') {
    r->i++;
    return obj;
  }
  for (;;) {
    skip_ws(r);
    if (r->i >= r->n || r->s[r->i] != '"') {
      fail_expected(r, "Expected double-quoted property name");
      return NULL;
    }
    const char *key;
    size_t klen;
    if (read_string(r, &key, &klen) < 0) return NULL;
    skip_ws(r);
    if (r->i >= r->n || r->s[r->i] != ':') {
      fail_expected(r, "Expected ':' after property name");
      return NULL;
    }
    r->i++;
    jval_t *v = read_value(r, depth + 1);
    if (v == NULL || push_member(r, key, klen, v) < 0) return NULL;
    skip_ws(r);
    if (r->i < r->n && r->s[r->i] == ',') {
      r->i++;
      continue;
    }
    if (r->i < r->n && r->s[r->i] == '}') {
      r->i++;
      break;
    }
    fail_expected(r, "Expected ',' or '}' after property value");
    return NULL;
  }
  return close_object(r, obj, from) < 0 ? NULL : obj;
}

static jval_t *read_value(reader_t *r, int depth) {
  if (depth > JSON_MAX_DEPTH) {
    fail_at(r, "Nesting deeper than 512 levels", r->i);
    return NULL;
  }
  skip_ws(r);
  if (r->i >= r->n) {
    fail_token(r);
    return NULL;
  }
  char c = r->s[r->i];
  switch (c) {
    case '{': return read_object(r, depth);
    case '[': return read_array(r, depth);
    case '"': {
      jval_t *v = new_val(r, J_STR);
      if (v == NULL || read_string(r, &v->str, &v->len) < 0) return NULL;
      return v;
    }
    case 't': return literal(r, "true") < 0 ? NULL : new_val(r, J_TRUE);
    case 'f': return literal(r, "false") < 0 ? NULL : new_val(r, J_FALSE);
    case 'n': return literal(r, "null") < 0 ? NULL : new_val(r, J_NULL);
    default:
      if (c == '-' || is_digit(c)) return read_number(r);
      fail_token(r);
      return NULL;
  }
}

int json_parse(json_doc_t *doc, const char *text, size_t n) {
  doc->arena = NULL;
  doc->root = NULL;
  doc->error[0] = '\0';
  reader_t r = {.doc = doc, .s = text, .n = n};
  /* A string is never longer than the input. */
  buf_init(&r.str, n);
  jval_t *root = read_value(&r, 0);
  if (root != NULL) {
    skip_ws(&r);
    if (r.i < r.n) {
      fail_at(&r, "Unexpected non-whitespace character after JSON", r.i);
      root = NULL;
    }
  }
  free(r.vs);
  free(r.ms);
  buf_free(&r.str);
  if (root == NULL) {
    if (doc->error[0] == '\0') snprintf(doc->error, sizeof doc->error, "out of memory");
    json_free(doc);
    return -1;
  }
  doc->root = root;
  return 0;
}

/* ---- access and building -------------------------------------------------------------------------- */

int json_is_object(const jval_t *v) { return v != NULL && v->t == J_OBJ; }

jval_t *json_get(const jval_t *obj, const char *key) {
  if (!json_is_object(obj)) return NULL;
  size_t klen = strlen(key);
  for (size_t k = 0; k < obj->len; k++) {
    if (obj->members[k].klen == klen && memcmp(obj->members[k].key, key, klen) == 0) return obj->members[k].val;
  }
  return NULL;
}

static int key_is(const jmember_t *m, const char *key) {
  size_t klen = strlen(key);
  return m->klen == klen && memcmp(m->key, key, klen) == 0;
}

jval_t *json_new_string(json_doc_t *doc, const char *s, size_t n) {
  jval_t *v = arena_alloc(doc, sizeof *v);
  char *copy = arena_alloc(doc, n + 1);
  if (v == NULL || copy == NULL) return NULL;
  memset(v, 0, sizeof *v);
  if (n > 0) memcpy(copy, s, n);
  copy[n] = '\0';
  v->t = J_STR;
  v->str = copy;
  v->len = n;
  return v;
}

static jval_t *copy_members(json_doc_t *doc, const jval_t *obj, const char *drop, const char *first_key, jval_t *first_val) {
  size_t count = (obj != NULL ? obj->len : 0) + (first_key != NULL ? 1 : 0);
  jval_t *v = arena_alloc(doc, sizeof *v);
  jmember_t *m = arena_alloc(doc, (count > 0 ? count : 1) * sizeof *m);
  if (v == NULL || m == NULL) return NULL;
  memset(v, 0, sizeof *v);
  v->t = J_OBJ;
  size_t out = 0;
  if (first_key != NULL) {
    m[out].key = first_key;
    m[out].klen = strlen(first_key);
    m[out].val = first_val;
    out++;
  }
  for (size_t k = 0; obj != NULL && k < obj->len; k++) {
    if (key_is(&obj->members[k], drop)) continue;
    m[out++] = obj->members[k];
  }
  v->members = m;
  v->len = out;
  return v;
}

jval_t *json_without(json_doc_t *doc, const jval_t *obj, const char *key) { return copy_members(doc, obj, key, NULL, NULL); }

jval_t *json_with_first(json_doc_t *doc, const jval_t *obj, const char *key, jval_t *val) { return copy_members(doc, obj, key, key, val); }

/* ---- writer --------------------------------------------------------------------------------------- */

/* An array index key ("0" .. "4294967294", no leading zeros): JavaScript orders these first. */
static int index_key(const jmember_t *m, uint64_t *out) {
  if (m->klen == 0 || m->klen > 10) return 0;
  if (m->klen > 1 && m->key[0] == '0') return 0;
  uint64_t v = 0;
  for (size_t k = 0; k < m->klen; k++) {
    if (!is_digit(m->key[k])) return 0;
    v = v * 10 + (uint64_t)(m->key[k] - '0');
  }
  if (v > 4294967294ULL) return 0;
  *out = v;
  return 1;
}

typedef struct {
  uint64_t index;
  size_t at;
} keyed_t;

static int cmp_keyed(const void *a, const void *b) {
  const keyed_t *x = a, *y = b;
  return x->index < y->index ? -1 : x->index > y->index;
}

static int write_member(buf_t *out, const jmember_t *m, int *first) {
  if (!*first && buf_putc(out, ',') < 0) return -1;
  *first = 0;
  if (text_json_quote(out, m->key, m->klen) < 0 || buf_putc(out, ':') < 0) return -1;
  return json_write(out, m->val);
}

int json_write(buf_t *out, const jval_t *v) {
  switch (v->t) {
    case J_NULL: return buf_puts(out, "null");
    case J_FALSE: return buf_puts(out, "false");
    case J_TRUE: return buf_puts(out, "true");
    case J_NUM: return text_json_number(out, v->num);
    case J_STR: return text_json_quote(out, v->str, v->len);
    case J_ARR:
      if (buf_putc(out, '[') < 0) return -1;
      for (size_t k = 0; k < v->len; k++) {
        if ((k > 0 && buf_putc(out, ',') < 0) || json_write(out, v->items[k]) < 0) return -1;
      }
      return buf_putc(out, ']');
    case J_OBJ: {
      if (buf_putc(out, '{') < 0) return -1;
      int first = 1;
      size_t nidx = 0;
      uint64_t idx;
      for (size_t k = 0; k < v->len; k++) nidx += (size_t)index_key(&v->members[k], &idx);
      if (nidx > 0) {
        keyed_t *order = malloc(nidx * sizeof *order);
        if (order == NULL) {
          out->over = 1;
          return -1;
        }
        size_t o = 0;
        for (size_t k = 0; k < v->len; k++) {
          if (index_key(&v->members[k], &idx)) order[o++] = (keyed_t){idx, k};
        }
        qsort(order, nidx, sizeof *order, cmp_keyed);
        for (size_t k = 0; k < nidx; k++) {
          if (write_member(out, &v->members[order[k].at], &first) < 0) {
            free(order);
            return -1;
          }
        }
        free(order);
      }
      for (size_t k = 0; k < v->len; k++) {
        if (nidx > 0 && index_key(&v->members[k], &idx)) continue;
        if (write_member(out, &v->members[k], &first) < 0) return -1;
      }
      return buf_putc(out, '}');
    }
  }
  return -1;
}
