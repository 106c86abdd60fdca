/* The JSON reader's insides, shared by json_lex.c (errors, blanks, strings, numbers, literals) and
 * json_read.c (arrays, objects, the document); json.c owns the arena. Not for the rest of the plugin. */
#ifndef WEFT_CNI_JSON_READER_H
#define WEFT_CNI_JSON_READER_H

#include <stddef.h>

#include "buf.h"
#include "json.h"

/* n bytes (16-aligned) from the document's arena; NULL when memory ran out. */
void *json_arena_alloc(json_doc_t *doc, size_t n);

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

/* Each sets doc->error once (the first failure wins) and returns -1. */
int jr_fail_at(reader_t *r, const char *what, size_t at);
int jr_fail_token(reader_t *r);
/* At the end of input: "Unexpected end"; else `what` at the current position. */
int jr_fail_expected(reader_t *r, const char *what);
int jr_oom(reader_t *r);

void jr_skip_ws(reader_t *r);
int jr_is_digit(char c);
/* A value of type t in the arena, zeroed; NULL (error set) when memory ran out. */
jval_t *jr_new_val(reader_t *r, jtype_t t);
/* Reads a string literal at r->i (the opening quote) into the arena. */
int jr_read_string(reader_t *r, const char **out, size_t *outlen);
jval_t *jr_read_number(reader_t *r);
/* Consumes `word` (true, false, null) or fails at the first byte that differs. */
int jr_literal(reader_t *r, const char *word);

#endif
