/* The parsed document's arena, member access and copies, and the writer (JSON.stringify's output). The
 * reader is json_read.c and json_lex.c. */
#include "json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_reader.h"
#include "text.h"

/* ---- arena ---------------------------------------------------------------------------------------- */

struct json_arena {
  struct json_arena *next;
  size_t used, size;
  _Alignas(16) unsigned char data[];
};

void *json_arena_alloc(json_doc_t *doc, size_t n) {
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
  jval_t *v = json_arena_alloc(doc, sizeof *v);
  char *copy = json_arena_alloc(doc, n + 1);
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
  jval_t *v = json_arena_alloc(doc, sizeof *v);
  jmember_t *m = json_arena_alloc(doc, (count > 0 ? count : 1) * sizeof *m);
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
    if (!jr_is_digit(m->key[k])) return 0;
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
