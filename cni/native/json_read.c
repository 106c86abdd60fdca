/* The JSON reader's structure: arrays, objects (the last of duplicate keys wins, in the first one's
 * place, as JSON.parse does), nesting capped at JSON_MAX_DEPTH, and the whole document. Children of open
 * containers wait on scratch stacks and are copied into the arena when their container closes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_reader.h"

static int push_val(reader_t *r, jval_t *v) {
  if (r->vn == r->vcap) {
    size_t cap = r->vcap == 0 ? 64 : r->vcap * 2;
    jval_t **p = realloc(r->vs, cap * sizeof *p);
    if (p == NULL) return jr_oom(r);
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
    if (p == NULL) return jr_oom(r);
    r->ms = p;
    r->mcap = cap;
  }
  r->ms[r->mn].key = key;
  r->ms[r->mn].klen = klen;
  r->ms[r->mn].val = v;
  r->mn++;
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
  jmember_t *m = count > 0 ? json_arena_alloc(r->doc, count * sizeof *m) : NULL;
  if (count > 0 && m == NULL) return jr_oom(r);
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
    if (table == NULL) return jr_oom(r);
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

/* At '[' or '{': consumes it and the blanks after it; 1 when `close` follows at once (an empty
 * container, consumed too), else 0. */
static int open_container(reader_t *r, char close) {
  r->i++;
  jr_skip_ws(r);
  if (r->i < r->n && r->s[r->i] == close) {
    r->i++;
    return 1;
  }
  return 0;
}

/* After an element: 0 at ',' (another follows), 1 at `close` (the container ends; both consumed), or
 * -1 with the error `what` set. */
static int next_element(reader_t *r, char close, const char *what) {
  jr_skip_ws(r);
  if (r->i < r->n && (r->s[r->i] == ',' || r->s[r->i] == close)) return r->s[r->i++] == close;
  return jr_fail_expected(r, what);
}

static jval_t *read_array(reader_t *r, int depth) {
  jval_t *arr = jr_new_val(r, J_ARR);
  if (arr == NULL) return NULL;
  size_t from = r->vn;
  if (open_container(r, ']')) return arr;
  for (;;) {
    jval_t *v = read_value(r, depth + 1);
    if (v == NULL || push_val(r, v) < 0) return NULL;
    int end = next_element(r, ']', "Expected ',' or ']' after array element");
    if (end < 0) return NULL;
    if (end) break;
  }
  size_t count = r->vn - from;
  arr->items = json_arena_alloc(r->doc, count * sizeof *arr->items);
  if (arr->items == NULL) {
    jr_oom(r);
    return NULL;
  }
  memcpy(arr->items, r->vs + from, count * sizeof *arr->items);
  arr->len = count;
  r->vn = from;
  return arr;
}

static jval_t *read_object(reader_t *r, int depth) {
  jval_t *obj = jr_new_val(r, J_OBJ);
  if (obj == NULL) return NULL;
  size_t from = r->mn;
  if (open_container(r, '}')) return obj;
  for (;;) {
    jr_skip_ws(r);
    if (r->i >= r->n || r->s[r->i] != '"') {
      jr_fail_expected(r, "Expected double-quoted property name");
      return NULL;
    }
    const char *key;
    size_t klen;
    if (jr_read_string(r, &key, &klen) < 0) return NULL;
    jr_skip_ws(r);
    if (r->i >= r->n || r->s[r->i] != ':') {
      jr_fail_expected(r, "Expected ':' after property name");
      return NULL;
    }
    r->i++;
    jval_t *v = read_value(r, depth + 1);
    if (v == NULL || push_member(r, key, klen, v) < 0) return NULL;
    int end = next_element(r, '}', "Expected ',' or '}' after property value");
    if (end < 0) return NULL;
    if (end) break;
  }
  return close_object(r, obj, from) < 0 ? NULL : obj;
}

static jval_t *read_value(reader_t *r, int depth) {
  if (depth > JSON_MAX_DEPTH) {
    jr_fail_at(r, "Nesting deeper than 512 levels", r->i);
    return NULL;
  }
  jr_skip_ws(r);
  if (r->i >= r->n) {
    jr_fail_token(r);
    return NULL;
  }
  char c = r->s[r->i];
  switch (c) {
    case '{': return read_object(r, depth);
    case '[': return read_array(r, depth);
    case '"': {
      jval_t *v = jr_new_val(r, J_STR);
      if (v == NULL || jr_read_string(r, &v->str, &v->len) < 0) return NULL;
      return v;
    }
    case 't': return jr_literal(r, "true") < 0 ? NULL : jr_new_val(r, J_TRUE);
    case 'f': return jr_literal(r, "false") < 0 ? NULL : jr_new_val(r, J_FALSE);
    case 'n': return jr_literal(r, "null") < 0 ? NULL : jr_new_val(r, J_NULL);
    default:
      if (c == '-' || jr_is_digit(c)) return jr_read_number(r);
      jr_fail_token(r);
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
    jr_skip_ws(&r);
    if (r.i < r.n) {
      jr_fail_at(&r, "Unexpected non-whitespace character after JSON", r.i);
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
