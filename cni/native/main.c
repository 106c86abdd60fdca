/* weft-cni: the chained CNI plugin, in C so that no JS runtime starts for every pod operation. It reads
 * the runtime's config on stdin (bounded in size and time), forwards ADD/DEL/CHECK to the node agent over
 * its unix socket (lib/enrollment.ts), asks the agent's health for STATUS, and prints the result or the
 * CNI error JSON. Behaviour, messages and codes are those of the TypeScript plugin it replaces (the tests
 * in test/cni pin them); the error table is generated from lib/errors (weft_cni_gen.h). */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "plugin.h"
#include "text.h"
#include "weft_cni_gen.h"

/* ---- process -------------------------------------------------------------------------------------- */

static volatile sig_atomic_t exiting;
static char hard_limit_out[2048];
static size_t hard_limit_len;

/* Belt and braces over every deadline above: the process never outlives the hard limit. */
static void on_alarm(int sig) {
  (void)sig;
  if (exiting) return;
  exiting = 1;
  size_t off = 0;
  while (off < hard_limit_len) {
    ssize_t w = write(1, hard_limit_out + off, hard_limit_len - off);
    if (w <= 0) break;
    off += (size_t)w;
  }
  _exit(1);
}

static void arm_hard_limit(long limit_ms) {
  werr_t e;
  werr_init(&e);
  char why[64];
  snprintf(why, sizeof why, "still running after %ld ms", limit_ms);
  werr_set(&e, "ERR_WEFT_CNI_INTERNAL");
  werr_param_str(&e, "reason", why);
  buf_t out;
  buf_init(&out, sizeof hard_limit_out - 1);
  if (werr_cni_json(&out, &e, WEFT_LATEST_CNI_VERSION) == 0) {
    memcpy(hard_limit_out, out.p, out.len);
    hard_limit_len = out.len;
  }
  buf_free(&out);
  werr_free(&e);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sigaction(SIGALRM, &sa, NULL);
  alarm((unsigned)((limit_ms + 999) / 1000));
}

static int emit(const buf_t *out, int code) {
  exiting = 1;
  alarm(0);
  (void)write_all(1, buf_str(out), out->len); /* stdout gone (runtime killed): the exit code still tells */
  return code;
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  run_t r;
  werr_init(&r.err);
  plog_init(&r.log, LOG_WARN, NULL);
  buf_init(&r.out, OUT_MAX);
  r.parsed = 0;
  r.doc.arena = NULL;
  r.doc.root = NULL;
  int code;

  long timeout_ms = 0, max_bytes = 0;
  buf_t raw, text;
  buf_init(&raw, (size_t)WEFT_DEFAULT_STDIN_MAX_BYTES + 1);
  buf_init(&text, (size_t)WEFT_DEFAULT_STDIN_MAX_BYTES * 3 + 16);
  target_t t;
  env_read(&t.container_id, "CNI_CONTAINERID");
  env_read(&t.netns, "CNI_NETNS");
  env_read(&t.ifname, "CNI_IFNAME");
  env_read(&t.args, "CNI_ARGS");

  /* Failures before the config is read (bounds, stdin) are reported in the latest version, unlogged. */
  if (env_int(&r.err, WEFT_STDIN_TIMEOUT_ENV, WEFT_DEFAULT_STDIN_TIMEOUT_MS, WEFT_MAX_STDIN_TIMEOUT_MS, &timeout_ms) < 0 ||
      env_int(&r.err, WEFT_STDIN_MAX_BYTES_ENV, WEFT_DEFAULT_STDIN_MAX_BYTES, WEFT_DEFAULT_STDIN_MAX_BYTES, &max_bytes) < 0) {
    werr_cni_json(&r.out, &r.err, WEFT_LATEST_CNI_VERSION);
    code = emit(&r.out, 1);
    goto out;
  }
  arm_hard_limit(WEFT_MAX_AGENT_TIMEOUT_MS + timeout_ms + 5000);
  if (read_stdin(&raw, timeout_ms, max_bytes, &r.err) < 0) {
    werr_cni_json(&r.out, &r.err, WEFT_LATEST_CNI_VERSION);
    code = emit(&r.out, 1);
    goto out;
  }
  text_sanitize(&text, buf_str(&raw), raw.len);
  buf_free(&raw);
  r.parsed = json_parse(&r.doc, buf_str(&text), text.len) == 0;
  /* Errors are reported in the caller's version when it is one we speak. */
  jval_t *requested = r.parsed ? json_get(r.doc.root, "cniVersion") : NULL;
  r.err_version = supported(requested) ? requested->str : WEFT_LATEST_CNI_VERSION;

  if (dispatch(&r, &t) == 0 && !r.out.over) {
    code = emit(&r.out, 0);
  } else {
    if (r.err.code == NULL) oversize(&r, "the output is too large");
    buf_reset(&r.out);
    r.out.over = 0;
    werr_cni_json(&r.out, &r.err, r.err_version);
    buf_t msg, fields;
    buf_init(&msg, 1024 * 1024);
    buf_init(&fields, 4 * 1024 * 1024);
    werr_message(&msg, &r.err);
    buf_printf(&fields, ",\"code\":%d,\"error\":", werr_cni_code(&r.err));
    text_json_quote(&fields, buf_str(&msg), msg.len);
    plog_write(&r.log, LOG_ERROR, "command failed", buf_str(&fields));
    buf_free(&msg);
    buf_free(&fields);
    code = emit(&r.out, 1);
  }
out:
  if (r.parsed) json_free(&r.doc);
  buf_free(&raw);
  buf_free(&text);
  buf_free(&t.container_id.val);
  buf_free(&t.netns.val);
  buf_free(&t.ifname.val);
  buf_free(&t.args.val);
  buf_free(&r.out);
  plog_free(&r.log);
  werr_free(&r.err);
  return code;
}
