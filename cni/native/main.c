/* weft-cni: the chained CNI plugin, in C so that no JS runtime starts for every pod operation. It reads
 * the runtime's config on stdin (bounded in size and time), forwards ADD/DEL/CHECK to the node agent over
 * its unix socket (lib/enrollment.ts), asks the agent's health for STATUS, and prints the result or the
 * CNI error JSON. Behaviour, messages and codes are those of the TypeScript plugin it replaces (the tests
 * in test/cni pin them); the error table is generated from lib/errors (weft_cni_gen.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "agent.h"
#include "buf.h"
#include "clock.h"
#include "json.h"
#include "plog.h"
#include "text.h"
#include "weft_cni_gen.h"
#include "werr.h"

/* How long DEL keeps trying to connect to an absent or restarting agent before giving up (and succeeding). */
#define DEL_CONNECT_RETRY_MS 1000
/* Largest stdout: a result passed through (stdin is at most 4 MiB; escapes and numbers may grow it). */
#define OUT_MAX ((size_t)64 * 1024 * 1024)
/* Largest environment value taken into account. */
#define ENV_MAX ((size_t)64 * 1024)

typedef struct {
  buf_t val;
  int set;
} envval_t;

/* The environment variable decoded as Node's process.env has it (UTF-8, U+FFFD for invalid bytes). */
static void env_read(envval_t *v, const char *name) {
  buf_init(&v->val, ENV_MAX * 3);
  const char *raw = getenv(name);
  v->set = raw != NULL;
  if (raw != NULL) {
    size_t n = strlen(raw);
    text_sanitize(&v->val, raw, n < ENV_MAX ? n : ENV_MAX);
  }
}

static int env_empty(const envval_t *v) { return !v->set || v->val.len == 0; }

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

/* ---- errors --------------------------------------------------------------------------------------- */

static int invalid(run_t *r, const char *reason) {
  werr_set(&r->err, "ERR_WEFT_CNI_CONFIG_INVALID");
  werr_param_str(&r->err, "reason", reason);
  return -1;
}

static int env_error(run_t *r, const buf_t *reason) {
  werr_set(&r->err, "ERR_WEFT_CNI_ENV_INVALID");
  werr_param(&r->err, "reason", buf_str(reason), reason->len);
  return -1;
}

static const char *describe(const jval_t *v) {
  switch (v->t) {
    case J_NULL: return "null";
    case J_ARR: return "an array";
    case J_NUM: return "number";
    case J_STR: return "string";
    case J_TRUE:
    case J_FALSE: return "boolean";
    default: return "object";
  }
}

static int supported(const jval_t *v) {
  if (v == NULL || v->t != J_STR) return 0;
  for (size_t k = 0; k < WEFT_SUPPORTED_VERSIONS_N; k++) {
    if (strlen(WEFT_SUPPORTED_VERSIONS[k]) == v->len && memcmp(WEFT_SUPPORTED_VERSIONS[k], v->str, v->len) == 0) return 1;
  }
  return 0;
}

/* ---- config (the conflist entry) ------------------------------------------------------------------ */

/* `v ?? fallback`: JSON null counts as absent. */
static jval_t *present(jval_t *v) { return v != NULL && v->t != J_NULL ? v : NULL; }

static int has_nul(const jval_t *v) { return memchr(v->str, '\0', v->len) != NULL; }

static int check_prev_result(run_t *r, const jval_t *prev) {
  if (!json_is_object(prev)) {
    char why[96];
    snprintf(why, sizeof why, "prevResult must be a CNI result object, got %s", describe(prev));
    return invalid(r, why);
  }
  static const char *const LISTS[] = {"interfaces", "ips", "routes"};
  for (size_t k = 0; k < 3; k++) {
    const jval_t *v = json_get(prev, LISTS[k]);
    if (v != NULL && v->t != J_ARR) {
      char why[64];
      snprintf(why, sizeof why, "prevResult.%s must be an array", LISTS[k]);
      return invalid(r, why);
    }
  }
  const jval_t *ips = json_get(prev, "ips");
  for (size_t k = 0; ips != NULL && k < ips->len; k++) {
    const jval_t *addr = json_get(ips->items[k], "address");
    if (!json_is_object(ips->items[k]) || addr == NULL || addr->t != J_STR) return invalid(r, "prevResult.ips[] must be objects with an address");
  }
  const jval_t *dns = json_get(prev, "dns");
  if (dns != NULL && !json_is_object(dns)) return invalid(r, "prevResult.dns must be an object");
  return 0;
}

static int parse_config(run_t *r, jval_t *obj, int drop_bad_prev, config_t *c) {
  const jval_t *version = json_get(obj, "cniVersion");
  if (version == NULL || version->t != J_STR || version->len == 0) return invalid(r, "cniVersion must be a non-empty string");
  if (!supported(version)) {
    buf_t v, list;
    buf_init(&v, 256);
    buf_init(&list, 256);
    text_slice(&v, version->str, version->len, 32);
    for (size_t k = 0; k < WEFT_SUPPORTED_VERSIONS_N; k++) buf_printf(&list, "%s%s", k > 0 ? ", " : "", WEFT_SUPPORTED_VERSIONS[k]);
    werr_set(&r->err, "ERR_WEFT_CNI_VERSION_INCOMPATIBLE");
    werr_param(&r->err, "version", buf_str(&v), v.len);
    werr_param(&r->err, "supported", buf_str(&list), list.len);
    buf_free(&v);
    buf_free(&list);
    return -1;
  }
  c->cni_version = version->str;
  const jval_t *name = json_get(obj, "name");
  if (name == NULL || name->t != J_STR) return invalid(r, "name must be a string");
  const jval_t *type = present(json_get(obj, "type"));
  if (type != NULL && type->t != J_STR) return invalid(r, "type must be a string");

  const jval_t *sock = present(json_get(obj, "cni_socket"));
  if (sock != NULL && (sock->t != J_STR || sock->len == 0 || has_nul(sock))) return invalid(r, "cni_socket must be a non-empty path");
  c->socket = sock != NULL ? sock->str : WEFT_DEFAULT_CNI_SOCKET;

  const jval_t *exclude = present(json_get(obj, "exclude_namespaces"));
  if (exclude != NULL) {
    int ok = exclude->t == J_ARR;
    for (size_t k = 0; ok && k < exclude->len; k++) ok = exclude->items[k]->t == J_STR;
    if (!ok) return invalid(r, "exclude_namespaces must be an array of namespace names");
  }
  c->exclude = exclude;

  const jval_t *timeout = present(json_get(obj, "agent_timeout_ms"));
  if (timeout != NULL) {
    double t = timeout->num;
    if (timeout->t != J_NUM || !isfinite(t) || floor(t) != t || t < 1 || t > WEFT_MAX_AGENT_TIMEOUT_MS) {
      char why[96];
      snprintf(why, sizeof why, "agent_timeout_ms must be an integer between 1 and %d", WEFT_MAX_AGENT_TIMEOUT_MS);
      return invalid(r, why);
    }
    c->timeout_ms = (long)t;
  } else {
    c->timeout_ms = WEFT_DEFAULT_AGENT_TIMEOUT_MS;
  }

  const jval_t *log_file = json_get(obj, "log_file");
  if (log_file != NULL && (log_file->t != J_STR || log_file->len == 0 || has_nul(log_file))) return invalid(r, "log_file must be a path");
  c->log_file = log_file != NULL ? log_file->str : NULL;
  const jval_t *level = present(json_get(obj, "log_level"));
  c->log_level = LOG_WARN;
  if (level != NULL) {
    static const struct {
      const char *name;
      int level;
    } LEVELS[] = {{"debug", LOG_DEBUG}, {"info", LOG_INFO}, {"warn", LOG_WARN}, {"error", LOG_ERROR}};
    int found = 0;
    for (size_t k = 0; level->t == J_STR && k < 4; k++) {
      if (strlen(LEVELS[k].name) == level->len && memcmp(LEVELS[k].name, level->str, level->len) == 0) {
        c->log_level = LEVELS[k].level;
        found = 1;
      }
    }
    if (!found) return invalid(r, "log_level must be one of debug, info, warn, error");
  }

  jval_t *prev = present(json_get(obj, "prevResult"));
  if (prev != NULL && check_prev_result(r, prev) < 0) {
    if (!drop_bad_prev) return -1;
    werr_set(&r->err, NULL);
    prev = NULL;
  }
  c->prev = json_is_object(prev) ? prev : NULL;
  c->raw = json_without(&r->doc, obj, "prevResult");
  if (c->raw == NULL) {
    werr_set(&r->err, "ERR_WEFT_CNI_INTERNAL");
    werr_param_str(&r->err, "reason", "out of memory");
    return -1;
  }
  return 0;
}

/* ---- the CNI environment -------------------------------------------------------------------------- */

typedef struct {
  envval_t container_id, netns, ifname, args;
  /* From CNI_ARGS (last pair wins). */
  const char *ns, *name, *uid;
  size_t ns_len, name_len, uid_len;
} target_t;

static int container_id_ok(const buf_t *b) {
  if (b->len == 0) return 0;
  for (size_t k = 0; k < b->len; k++) {
    char c = b->p[k];
    int alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (k == 0 || (c != '_' && c != '.' && c != '-'))) return 0;
  }
  return 1;
}

/* /^[^/:\s]{1,15}$/ in UTF-16 units, and not "." or "..". */
static int ifname_ok(const buf_t *b) {
  size_t units = 0;
  for (size_t k = 0; k < b->len;) {
    size_t len;
    unsigned cp = text_decode(b->p + k, b->len - k, &len);
    if (cp == '/' || cp == ':' || text_is_js_space(cp)) return 0;
    units += cp >= 0x10000 ? 2 : 1;
    k += len;
  }
  if (units < 1 || units > 15) return 0;
  return !(b->len == 1 && b->p[0] == '.') && !(b->len == 2 && b->p[0] == '.' && b->p[1] == '.');
}

/* `NAME is not set (CMD)` or `NAME "<first units of the value>" is not <what> (CMD)`. */
static void bad_env(buf_t *why, const char *name, const buf_t *val, size_t units, const char *what, const char *command) {
  if (val->len == 0) {
    buf_printf(why, "%s is not set (%s)", name, command);
    return;
  }
  buf_printf(why, "%s \"", name);
  text_slice(why, buf_str(val), val->len, units);
  buf_printf(why, "\" is not %s (%s)", what, command);
}

static int target_of(run_t *r, const char *command, int need_netns, target_t *t) {
  buf_t why;
  buf_init(&why, 4096);
  int rc = -1;
  if (!container_id_ok(&t->container_id.val)) {
    bad_env(&why, "CNI_CONTAINERID", &t->container_id.val, 64, "a valid container ID", command);
    goto done;
  }
  if (need_netns && t->netns.val.len == 0) {
    buf_printf(&why, "CNI_NETNS is not set (%s)", command);
    goto done;
  }
  if (!ifname_ok(&t->ifname.val)) {
    bad_env(&why, "CNI_IFNAME", &t->ifname.val, 32, "a valid interface name", command);
    goto done;
  }
  /* CNI_ARGS: "K=V;K=V" (spec 1.0 §2); a pair without `=` is an invalid environment, empty pairs pass. */
  const char *a = buf_str(&t->args.val);
  size_t n = t->args.val.len;
  t->ns = t->name = t->uid = "";
  t->ns_len = t->name_len = t->uid_len = 0;
  for (size_t at = 0; at <= n;) {
    const char *semi = memchr(a + at, ';', n - at);
    size_t end = semi != NULL ? (size_t)(semi - a) : n;
    const char *pair = a + at;
    size_t plen = end - at;
    at = end + 1;
    if (plen == 0) {
      if (semi == NULL) break;
      continue;
    }
    const char *eq = memchr(pair, '=', plen);
    if (eq == NULL || eq == pair) {
      buf_puts(&why, "CNI_ARGS pair \"");
      text_slice(&why, pair, plen, 64);
      buf_puts(&why, "\" is not KEY=VALUE");
      goto done;
    }
    size_t klen = (size_t)(eq - pair);
    const char *val = eq + 1;
    size_t vlen = plen - klen - 1;
    if (klen == 17 && memcmp(pair, "K8S_POD_NAMESPACE", 17) == 0) t->ns = val, t->ns_len = vlen;
    else if (klen == 12 && memcmp(pair, "K8S_POD_NAME", 12) == 0) t->name = val, t->name_len = vlen;
    else if (klen == 11 && memcmp(pair, "K8S_POD_UID", 11) == 0) t->uid = val, t->uid_len = vlen;
    if (semi == NULL) break;
  }
  rc = 0;
done:
  if (rc < 0) env_error(r, &why);
  buf_free(&why);
  return rc;
}

static int is_pod(const target_t *t) { return t->ns_len > 0 && t->name_len > 0; }

static int excluded(const config_t *c, const target_t *t) {
  if (c->exclude == NULL) {
    for (size_t k = 0; k < WEFT_DEFAULT_EXCLUDE_N; k++) {
      if (strlen(WEFT_DEFAULT_EXCLUDE[k]) == t->ns_len && memcmp(WEFT_DEFAULT_EXCLUDE[k], t->ns, t->ns_len) == 0) return 1;
    }
    return 0;
  }
  for (size_t k = 0; k < c->exclude->len; k++) {
    const jval_t *v = c->exclude->items[k];
    if (v->len == t->ns_len && memcmp(v->str, t->ns, t->ns_len) == 0) return 1;
  }
  return 0;
}

static void pod_ref(const target_t *t, buf_t *out) {
  buf_put(out, t->ns, t->ns_len);
  buf_putc(out, '/');
  buf_put(out, t->name, t->name_len);
}

/* The EnrollmentRequest (lib/enrollment.ts) for this command. */
static int request_json(buf_t *out, const char *command, const target_t *t, const config_t *c) {
  buf_printf(out, "{\"command\":\"%s\",\"containerId\":", command);
  text_json_quote(out, buf_str(&t->container_id.val), t->container_id.val.len);
  buf_puts(out, ",\"netns\":");
  text_json_quote(out, buf_str(&t->netns.val), t->netns.val.len);
  buf_puts(out, ",\"ifname\":");
  text_json_quote(out, buf_str(&t->ifname.val), t->ifname.val.len);
  buf_puts(out, ",\"podNamespace\":");
  text_json_quote(out, t->ns, t->ns_len);
  buf_puts(out, ",\"podName\":");
  text_json_quote(out, t->name, t->name_len);
  buf_puts(out, ",\"podUid\":");
  text_json_quote(out, t->uid, t->uid_len);
  buf_puts(out, ",\"config\":");
  json_write(out, c->raw);
  if (c->prev != NULL) {
    buf_puts(out, ",\"prevResult\":");
    json_write(out, c->prev);
  }
  buf_putc(out, '}');
  return out->over ? -1 : 0;
}

static int oversize(run_t *r, const char *what) {
  werr_set(&r->err, "ERR_WEFT_CNI_INTERNAL");
  werr_param_str(&r->err, "reason", what);
  return -1;
}

/* Forwards the command; 0 with the agent's answer logged, -1 with r->err set. */
static int forward(run_t *r, const char *command, const target_t *t, const config_t *c, int64_t deadline, int64_t retry_until) {
  buf_t payload, pod, reason;
  buf_init(&payload, OUT_MAX);
  buf_init(&pod, 3 * ENV_MAX);
  buf_init(&reason, 256 * 1024);
  pod_ref(t, &pod);
  int rc;
  if (request_json(&payload, command, t, c) < 0) rc = oversize(r, "the enrollment request is too large");
  else {
    call_opts_t opts = {.socket = c->socket, .deadline = deadline, .retry_until = retry_until};
    int captured = 0;
    rc = agent_enroll(command, buf_str(&pod), payload.p, payload.len, &opts, &captured, &reason, &r->err);
    if (rc == 0 && strcmp(command, "ADD") == 0) {
      buf_t fields;
      buf_init(&fields, 512 * 1024);
      buf_puts(&fields, ",\"reason\":");
      text_json_quote(&fields, buf_str(&reason), reason.len);
      plog_write(&r->log, LOG_INFO, captured ? "pod captured" : "pod not captured", buf_str(&fields));
      buf_free(&fields);
    }
  }
  buf_free(&payload);
  buf_free(&pod);
  buf_free(&reason);
  return rc;
}

/* ---- commands ------------------------------------------------------------------------------------- */

/* Every later log line names the pod. */
static void bind_pod(run_t *r, const target_t *t) {
  buf_t pod;
  buf_init(&pod, 3 * ENV_MAX);
  pod_ref(t, &pod);
  plog_bind(&r->log, "pod", buf_str(&pod), pod.len);
  buf_free(&pod);
}

static int cmd_add(run_t *r, target_t *t, const config_t *c) {
  if (target_of(r, "ADD", 1, t) < 0) return -1;
  /* A chained plugin adds no interface: without a previous result there is nothing to pass on, and
   * printing an empty result would tell the runtime the pod has no network. */
  if (c->prev == NULL) return invalid(r, "ADD needs a prevResult: weft-cni must be chained after the primary CNI plugin, never first in the conflist");
  /* The previous result goes on unchanged, in the version the runtime asked for. */
  jval_t *version = json_new_string(&r->doc, c->cni_version, strlen(c->cni_version));
  jval_t *result = version != NULL ? json_with_first(&r->doc, c->prev, "cniVersion", version) : NULL;
  if (result == NULL || json_write(&r->out, result) < 0 || buf_putc(&r->out, '\n') < 0) return oversize(r, "the result is too large");
  if (!is_pod(t)) {
    plog_write(&r->log, LOG_DEBUG, "not a Kubernetes pod (no K8S_POD_NAMESPACE/K8S_POD_NAME in CNI_ARGS); passed through", NULL);
    return 0;
  }
  bind_pod(r, t);
  if (excluded(c, t)) {
    plog_write(&r->log, LOG_DEBUG, "namespace excluded; passed through without asking the agent", NULL);
    return 0;
  }
  int64_t deadline = now_ms() + c->timeout_ms;
  if (forward(r, "ADD", t, c, deadline, deadline) < 0) {
    buf_reset(&r->out);
    return -1;
  }
  return 0;
}

/* DEL is best effort: it logs and succeeds when the agent cannot be reached or fails. A failing DEL keeps
 * the sandbox (and the pod) stuck in Terminating; the capture rules die with the pod's netns and the
 * agent drops enrollments of pods that leave its discovery stream. See cni/README.md. */
static int cmd_del(run_t *r, target_t *t, const config_t *c) {
  if (target_of(r, "DEL", 0, t) < 0) return -1;
  if (!is_pod(t) || excluded(c, t)) return 0;
  bind_pod(r, t);
  int64_t now = now_ms();
  if (forward(r, "DEL", t, c, now + c->timeout_ms, now + DEL_CONNECT_RETRY_MS) < 0) {
    buf_t msg, fields;
    buf_init(&msg, 1024 * 1024);
    buf_init(&fields, 4 * 1024 * 1024);
    werr_message(&msg, &r->err);
    buf_puts(&fields, ",\"error\":");
    text_json_quote(&fields, buf_str(&msg), msg.len);
    plog_write(&r->log, LOG_WARN, "DEL not delivered to the node agent; succeeding anyway (the agent reconciles)", buf_str(&fields));
    buf_free(&msg);
    buf_free(&fields);
    werr_set(&r->err, NULL);
  }
  return 0;
}

static int cmd_check(run_t *r, target_t *t, const config_t *c) {
  if (target_of(r, "CHECK", 1, t) < 0) return -1;
  if (c->prev == NULL) return invalid(r, "CHECK needs the prevResult of the preceding ADD");
  if (!is_pod(t) || excluded(c, t)) return 0;
  bind_pod(r, t);
  int64_t deadline = now_ms() + c->timeout_ms;
  return forward(r, "CHECK", t, c, deadline, deadline);
}

static void version_report(run_t *r) {
  const char *version = WEFT_LATEST_CNI_VERSION;
  /* Anything unreadable is ignored rather than failing a discovery call. */
  if (r->parsed && supported(json_get(r->doc.root, "cniVersion"))) version = json_get(r->doc.root, "cniVersion")->str;
  buf_printf(&r->out, "{\"cniVersion\":");
  text_json_quote(&r->out, version, strlen(version));
  buf_puts(&r->out, ",\"supportedVersions\":[");
  for (size_t k = 0; k < WEFT_SUPPORTED_VERSIONS_N; k++) buf_printf(&r->out, "%s\"%s\"", k > 0 ? "," : "", WEFT_SUPPORTED_VERSIONS[k]);
  buf_puts(&r->out, "]}\n");
}

static int dispatch(run_t *r, target_t *t) {
  envval_t command;
  env_read(&command, "CNI_COMMAND");
  const char *cmd = buf_str(&command.val);
  int rc = -1;
  buf_t why;
  buf_init(&why, 4096);
  if (env_empty(&command)) {
    buf_puts(&why, "CNI_COMMAND is not set");
    env_error(r, &why);
    goto done;
  }
  if (strcmp(cmd, "VERSION") == 0 && command.val.len == 7) {
    version_report(r);
    rc = 0;
    goto done;
  }
  static const char *const KNOWN[] = {"ADD", "DEL", "CHECK", "STATUS", "GC"};
  int known = 0;
  for (size_t k = 0; k < 5; k++) known |= strlen(KNOWN[k]) == command.val.len && strcmp(cmd, KNOWN[k]) == 0;
  if (!known) {
    buf_puts(&why, "unknown CNI_COMMAND \"");
    text_slice(&why, cmd, command.val.len, 32);
    buf_puts(&why, "\" (expected ADD, DEL, CHECK, STATUS, GC or VERSION)");
    env_error(r, &why);
    goto done;
  }
  if (!r->parsed) {
    werr_set(&r->err, "ERR_WEFT_CNI_CONFIG_DECODE");
    werr_param_str(&r->err, "reason", r->doc.error);
    goto done;
  }
  if (!json_is_object(r->doc.root)) {
    buf_printf(&why, "expected a JSON object, got %s", describe(r->doc.root));
    werr_set(&r->err, "ERR_WEFT_CNI_CONFIG_DECODE");
    werr_param(&r->err, "reason", buf_str(&why), why.len);
    goto done;
  }
  config_t c;
  if (parse_config(r, r->doc.root, strcmp(cmd, "DEL") == 0, &c) < 0) goto done;
  plog_free(&r->log);
  plog_init(&r->log, c.log_level, c.log_file);
  plog_bind(&r->log, "command", cmd, command.val.len);
  if (t->container_id.set) plog_bind(&r->log, "containerId", buf_str(&t->container_id.val), t->container_id.val.len);

  if (strcmp(cmd, "ADD") == 0) rc = cmd_add(r, t, &c);
  else if (strcmp(cmd, "DEL") == 0) rc = cmd_del(r, t, &c);
  else if (strcmp(cmd, "CHECK") == 0) rc = cmd_check(r, t, &c);
  else if (strcmp(cmd, "STATUS") == 0) {
    int64_t now = now_ms();
    call_opts_t opts = {.socket = c.socket, .deadline = now + c.timeout_ms, .retry_until = now};
    rc = agent_health(&opts, &r->err);
  } else {
    /* GC: weft-cni keeps no per-attachment state; the agent garbage-collects enrollments itself. */
    rc = 0;
  }
done:
  buf_free(&why);
  buf_free(&command.val);
  return rc;
}

/* ---- stdin, bounded -------------------------------------------------------------------------------- */

/* Number(raw) for the bound variables: decimal (with fraction/exponent), 0x/0o/0b, Infinity; NaN else. */
static double js_number(const char *s, size_t n) {
  size_t len;
  while (n > 0 && text_is_js_space(text_decode(s, n, &len))) s += len, n -= len;
  while (n > 0) {
    size_t k = n - 1;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80) k--;
    if (!text_is_js_space(text_decode(s + k, n - k, &len))) break;
    n = k;
  }
  if (n == 0) return 0;
  if (n > 2 && s[0] == '0' && strchr("xXoObB", s[1]) != NULL) {
    int base = (s[1] | 0x20) == 'x' ? 16 : (s[1] | 0x20) == 'o' ? 8 : 2;
    double v = 0;
    for (size_t k = 2; k < n; k++) {
      int d = s[k] >= '0' && s[k] <= '9' ? s[k] - '0' : (s[k] | 0x20) >= 'a' && (s[k] | 0x20) <= 'f' ? (s[k] | 0x20) - 'a' + 10 : 99;
      if (d >= base) return NAN;
      v = v * base + d;
    }
    return v;
  }
  size_t k = 0;
  int neg = 0;
  if (s[k] == '+' || s[k] == '-') neg = s[k++] == '-';
  if (n - k == 8 && memcmp(s + k, "Infinity", 8) == 0) return neg ? -INFINITY : INFINITY;
  size_t digits = 0, start = k;
  while (k < n && s[k] >= '0' && s[k] <= '9') k++, digits++;
  if (k < n && s[k] == '.') {
    k++;
    while (k < n && s[k] >= '0' && s[k] <= '9') k++, digits++;
  }
  if (digits == 0) return NAN;
  if (k < n && (s[k] == 'e' || s[k] == 'E')) {
    k++;
    if (k < n && (s[k] == '+' || s[k] == '-')) k++;
    size_t e = 0;
    while (k < n && s[k] >= '0' && s[k] <= '9') k++, e++;
    if (e == 0) return NAN;
  }
  if (k != n) return NAN;
  char tmp[128];
  if (n - start >= sizeof tmp) return NAN;
  memcpy(tmp, s + start, n - start);
  tmp[n - start] = '\0';
  double v = strtod(tmp, NULL);
  return neg ? -v : v;
}

/* The bound from the environment; a malformed value is refused (CNI code 4), not ignored. */
static int env_int(werr_t *err, const char *name, long fallback, long max, long *out) {
  envval_t v;
  env_read(&v, name);
  int rc = 0;
  if (env_empty(&v)) *out = fallback;
  else {
    double d = js_number(v.val.p, v.val.len);
    if (!isfinite(d) || floor(d) != d || d < 1 || d > (double)max) {
      buf_t why;
      buf_init(&why, 4096);
      buf_printf(&why, "%s must be an integer in [1, %ld], got \"", name, max);
      text_slice(&why, v.val.p, v.val.len, 32);
      buf_putc(&why, '"');
      werr_set(err, "ERR_WEFT_CNI_ENV_INVALID");
      werr_param(err, "reason", buf_str(&why), why.len);
      buf_free(&why);
      rc = -1;
    } else {
      *out = (long)d;
    }
  }
  buf_free(&v.val);
  return rc;
}

static int stdin_error(werr_t *err, const char *reason) {
  werr_set(err, "ERR_WEFT_CNI_STDIN_IO");
  werr_param_str(err, "reason", reason);
  return -1;
}

/* Character devices with these majors are terminals (tty, console/ptmx, pts): nothing to read there. */
static int is_terminal(const struct stat *st) {
  if (!S_ISCHR(st->st_mode)) return 0;
  unsigned major = major(st->st_rdev);
  return major == 4 || major == 5 || (major >= 136 && major <= 143);
}

/* Reads fd 0 to end-of-file, refusing more than max_bytes or waiting past timeout_ms (code 5). */
static int read_stdin(buf_t *raw, long timeout_ms, long max_bytes, werr_t *err) {
  struct stat st;
  if (fstat(0, &st) < 0) return 0; /* no fd 0 at all: nothing was sent */
  if (is_terminal(&st)) return 0;  /* VERSION by hand */
  int64_t deadline = now_ms() + timeout_ms;
  char why[160];
  for (;;) {
    int64_t left = deadline - now_ms();
    struct pollfd p = {.fd = 0, .events = POLLIN};
    int n = poll(&p, 1, left > 0 ? (int)left : 0);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) {
      snprintf(why, sizeof why, "stdin was not closed within %ld ms", timeout_ms);
      return stdin_error(err, why);
    }
    /* Room for one byte past the cap, so that a larger stdin is noticed without reading it all. */
    size_t room = (size_t)max_bytes + 1 - raw->len;
    size_t chunk = room < 64 * 1024 ? room : 64 * 1024;
    char *at = buf_reserve(raw, chunk);
    if (at == NULL) return stdin_error(err, "out of memory");
    ssize_t r = read(0, at, chunk);
    if (r < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      char tmp[32];
      const char *name = strerrorname_np(errno);
      if (name == NULL) snprintf(tmp, sizeof tmp, "E%d", errno), name = tmp;
      snprintf(why, sizeof why, "%s: %s, read", name, strerror(errno));
      return stdin_error(err, why);
    }
    if (r == 0) return 0;
    buf_commit(raw, (size_t)r);
    if (raw->len > (size_t)max_bytes) {
      snprintf(why, sizeof why, "stdin is larger than %ld bytes", max_bytes);
      return stdin_error(err, why);
    }
  }
}

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
