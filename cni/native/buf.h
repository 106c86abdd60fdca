/* A growable byte buffer with a hard size cap: every append checks the length first and fails (sets
 * `over`) rather than writing past the allocation or growing without bound. The contents are always
 * NUL-terminated, so they can be passed to libc string functions. */
#ifndef WEFT_CNI_BUF_H
#define WEFT_CNI_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct {
  char *p;
  size_t len;
  size_t cap;  /* bytes allocated, NUL included */
  size_t max;  /* largest len accepted */
  int over;    /* an append was refused (cap reached or out of memory) */
} buf_t;

void buf_init(buf_t *b, size_t max);
void buf_free(buf_t *b);
void buf_reset(buf_t *b);
/* 0 on success; -1 (and b->over set) when the bytes do not fit under max or memory ran out. */
int buf_put(buf_t *b, const void *data, size_t n);
int buf_putc(buf_t *b, char c);
int buf_puts(buf_t *b, const char *s);
int buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A pointer to the NUL-terminated contents ("" for an empty buffer). */
const char *buf_str(const buf_t *b);
/* Makes room for n more bytes and returns where they go (not counted in len until buf_commit). */
char *buf_reserve(buf_t *b, size_t n);
void buf_commit(buf_t *b, size_t n);

#endif
