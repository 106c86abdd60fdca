#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(buf_t *b, size_t max) {
  b->p = NULL;
  b->len = 0;
  b->cap = 0;
  b->max = max;
  b->over = 0;
}

void buf_free(buf_t *b) {
  free(b->p);
  b->p = NULL;
  b->len = b->cap = 0;
}

void buf_reset(buf_t *b) {
  b->len = 0;
  if (b->p != NULL) b->p[0] = '\0';
}

char *buf_reserve(buf_t *b, size_t n) {
  if (b->over) return NULL;
  if (n > b->max || b->len > b->max - n) {
    b->over = 1;
    return NULL;
  }
  size_t need = b->len + n + 1;
  if (need > b->cap) {
    size_t cap = b->cap < 256 ? 256 : b->cap;
    while (cap < need) cap = cap > (size_t)-1 / 2 ? need : cap * 2;
    if (cap > b->max + 1) cap = b->max + 1;
    char *p = realloc(b->p, cap);
    if (p == NULL) {
      b->over = 1;
      return NULL;
    }
    b->p = p;
    b->cap = cap;
  }
  return b->p + b->len;
}

void buf_commit(buf_t *b, size_t n) {
  /* Only after a buf_reserve of at least n: len + n stays within cap - 1. */
  if (b->p == NULL || n > b->cap - 1 - b->len) return;
  b->len += n;
  b->p[b->len] = '\0';
}

int buf_put(buf_t *b, const void *data, size_t n) {
  char *at = buf_reserve(b, n);
  if (at == NULL) return -1;
  if (n > 0) memcpy(at, data, n);
  buf_commit(b, n);
  return 0;
}

int buf_putc(buf_t *b, char c) { return buf_put(b, &c, 1); }

int buf_puts(buf_t *b, const char *s) { return buf_put(b, s, strlen(s)); }

int buf_printf(buf_t *b, const char *fmt, ...) {
  char small[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) {
    b->over = 1;
    return -1;
  }
  if ((size_t)n < sizeof small) return buf_put(b, small, (size_t)n);
  char *at = buf_reserve(b, (size_t)n);
  if (at == NULL) return -1;
  va_start(ap, fmt);
  vsnprintf(at, (size_t)n + 1, fmt, ap);
  va_end(ap);
  buf_commit(b, (size_t)n);
  return 0;
}

const char *buf_str(const buf_t *b) { return b->p != NULL ? b->p : ""; }
