/* A small JSON reader and writer with JSON.parse/JSON.stringify semantics: the last of duplicate keys
 * wins (in the first one's place), array-index keys ("0", "1", ...) are written first in ascending
 * order, numbers are doubles. Input is UTF-8 (see text_sanitize); nesting is capped. All nodes live in
 * one arena freed by json_free. */
#ifndef WEFT_CNI_JSON_H
#define WEFT_CNI_JSON_H

#include <stddef.h>

#include "buf.h"

#define JSON_MAX_DEPTH 512

typedef enum { J_NULL, J_FALSE, J_TRUE, J_NUM, J_STR, J_ARR, J_OBJ } jtype_t;

typedef struct jval jval_t;
typedef struct {
  const char *key;
  size_t klen;
  jval_t *val;
} jmember_t;

struct jval {
  jtype_t t;
  double num;
  const char *str; /* J_STR: WTF-8 bytes, NUL-terminated */
  size_t len;      /* J_STR: bytes; J_ARR: items; J_OBJ: members */
  jval_t **items;
  jmember_t *members;
};

typedef struct json_arena json_arena_t;

typedef struct {
  json_arena_t *arena;
  jval_t *root;
  char error[160]; /* why parsing failed, as JSON.parse would say it */
} json_doc_t;

/* 0 and doc->root on success; -1 with doc->error on a syntax error or when memory ran out. */
int json_parse(json_doc_t *doc, const char *text, size_t n);
void json_free(json_doc_t *doc);

/* The member's value, or NULL (`undefined`). */
jval_t *json_get(const jval_t *obj, const char *key);
int json_is_object(const jval_t *v);
/* A copy of obj without the named member (`{...obj}` then delete), allocated in doc's arena. */
jval_t *json_without(json_doc_t *doc, const jval_t *obj, const char *key);
/* A copy of obj with `key: val` first (then obj's members minus key), as `{key: val, ...obj}`. */
jval_t *json_with_first(json_doc_t *doc, const jval_t *obj, const char *key, jval_t *val);
jval_t *json_new_string(json_doc_t *doc, const char *s, size_t n);

/* Appends v as JSON.stringify(v) writes it. */
int json_write(buf_t *out, const jval_t *v);

#endif
