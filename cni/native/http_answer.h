/* The node agent's answer as the plugin reads it: an HTTP/1.1 status line and headers, then the body by
 * Content-Length, chunked transfer coding, or until EOF; every length is checked against a cap. */
#ifndef WEFT_CNI_HTTP_ANSWER_H
#define WEFT_CNI_HTTP_ANSWER_H

#include <stddef.h>

#include "buf.h"

/* Largest agent answer read; enrollment answers are a few hundred bytes. */
#define MAX_BODY_BYTES (64 * 1024)
/* Largest status line + headers read. */
#define MAX_HEAD_BYTES (16 * 1024)

/* The answer so far: 1 complete (status, body set), 0 incomplete, -1 malformed (why in reason). */
int http_parse_answer(const char *buf, size_t len, int eof, int *status, buf_t *body, buf_t *reason);

#endif
