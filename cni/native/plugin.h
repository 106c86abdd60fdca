/* What the plugin's parts share: one run (error, log, parsed stdin, output), the conflist entry, the CNI
 * environment of the pod, and the steps main() strings together (config.c, target.c, commands.c,
 * env.c, stdin.c). */
#ifndef WEFT_CNI_PLUGIN_H
#define WEFT_CNI_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "json.h"
#include "plog.h"
#include "werr.h"

/* Largest stdout: a result passed through (stdin is at most 4 MiB; escapes and numbers may grow it). */
#define OUT_MAX ((size_t)64 * 1024 * 1024)
/* Largest environment value taken into account. */
#define ENV_MAX ((size_t)64 * 1024)

typedef struct {
  buf_t val;
  int set;
} envval_t;

typedef struct {
  const char *cni_version;
  const char *socket;
  const jval_t *exclude; /* NULL: the defaults */
  long timeout_ms;
  const char *log_file;
  int log_level;
  jval_t *prev; /* NULL: none */
  jval_t *raw;  /* stdin without prevResult */
} config_t;

typedef struct {
  werr_t err;
  plog_t log;
  json_doc_t doc;
  int parsed;
  buf_t out;
  int exit_code;
  const char *err_version;
} run_t;

typedef struct {
  envval_t container_id, netns, ifname, args;
  /* From CNI_ARGS (last pair wins). */
  const char *ns, *name, *uid;
  size_t ns_len, name_len, uid_len;
} target_t;

/* env.c: the environment as Node's process.env has it (UTF-8, U+FFFD for invalid bytes). */
void env_read(envval_t *v, const char *name);
int env_empty(const envval_t *v);
/* The bound from the environment; a malformed value is refused (CNI code 4), not ignored. */
int env_int(werr_t *err, const char *name, long fallback, long max, long *out);

/* config.c: errors set on the run (each returns -1) and the conflist entry. */
int invalid(run_t *r, const char *reason);
int env_error(run_t *r, const buf_t *reason);
int oversize(run_t *r, const char *what);
/* JavaScript's name for the JSON value's type, as the TypeScript plugin's messages said it. */
const char *describe(const jval_t *v);
/* Whether v is a cniVersion string this plugin speaks. */
int supported(const jval_t *v);
/* 0 with c filled, or -1 with r->err set; DEL drops a malformed prevResult instead of failing. */
int parse_config(run_t *r, jval_t *obj, int drop_bad_prev, config_t *c);

/* target.c: the pod the command is about, and the agent call. */
int target_of(run_t *r, const char *command, int need_netns, target_t *t);
int is_pod(const target_t *t);
int excluded(const config_t *c, const target_t *t);
/* Every later log line names the pod. */
void bind_pod(run_t *r, const target_t *t);
/* Forwards the command; 0 with the agent's answer logged, -1 with r->err set. */
int forward(run_t *r, const char *command, const target_t *t, const config_t *c, int64_t deadline, int64_t retry_until);

/* commands.c: runs CNI_COMMAND; 0 with r->out set, or -1 with r->err set. */
int dispatch(run_t *r, target_t *t);

/* stdin.c: reads fd 0 to end-of-file, refusing more than max_bytes or waiting past timeout_ms (code 5). */
int read_stdin(buf_t *raw, long timeout_ms, long max_bytes, werr_t *err);

#endif
