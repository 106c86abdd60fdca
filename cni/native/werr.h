/* weft's error table on the C side: the codes, messages, hints and CNI numbers come from lib/errors
 * (generated into weft_cni_gen.h by scripts/build-cni.mjs), rendered as WeftError does ({param}
 * placeholders) and printed as the CNI error result. */
#ifndef WEFT_CNI_WERR_H
#define WEFT_CNI_WERR_H

#include <stddef.h>

#include "buf.h"

#define WERR_MAX_PARAMS 8

typedef struct {
  const char *code; /* an ERR_WEFT_* name; NULL: no error */
  int nparams;
  struct {
    const char *key;
    buf_t val;
  } params[WERR_MAX_PARAMS];
} werr_t;

void werr_init(werr_t *e);
void werr_free(werr_t *e);
/* Starts an error with this code (drops any earlier one); always returns -1 for `return werr_set(..)`. */
int werr_set(werr_t *e, const char *code);
/* Adds a string parameter (bytes copied as given: callers pass decoded text). */
void werr_param(werr_t *e, const char *key, const char *val, size_t n);
void werr_param_str(werr_t *e, const char *key, const char *val);
void werr_param_int(werr_t *e, const char *key, long long val);
const char *werr_get(const werr_t *e, const char *key);
/* The rendered message (WeftError#message). */
int werr_message(buf_t *out, const werr_t *e);
/* The CNI code: the table's, or for an agent refusal the agent code's own when the table has one. */
int werr_cni_code(const werr_t *e);
/* {"cniVersion","code","msg","details"} as toCniError in the TypeScript plugin built it. */
int werr_cni_json(buf_t *out, const werr_t *e, const char *cni_version);

#endif
