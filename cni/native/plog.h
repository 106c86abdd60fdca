/* The plugin's log: one JSON line per event appended to log_file (or written to stderr, which runtimes
 * keep in their own logs), synchronously: the process lives for one command. */
#ifndef WEFT_CNI_PLOG_H
#define WEFT_CNI_PLOG_H

#include "buf.h"

enum { LOG_DEBUG = 10, LOG_INFO = 20, LOG_WARN = 30, LOG_ERROR = 40 };

typedef struct {
  int min;
  const char *file; /* NULL: stderr */
  buf_t bindings;   /* `,"key":value` pairs added to every line */
} plog_t;

void plog_init(plog_t *log, int min, const char *file);
void plog_free(plog_t *log);
void plog_bind(plog_t *log, const char *key, const char *val, size_t n);
/* `fields`: `,"key":value` pairs for this line only (may be NULL). */
void plog_write(plog_t *log, int level, const char *msg, const char *fields);
/* Writes all of s to fd, waiting (bounded) while a non-blocking pipe is full; -1 when it cannot. */
int write_all(int fd, const char *s, size_t n);

#endif
