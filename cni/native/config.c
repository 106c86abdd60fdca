/* The conflist entry weft-cni is given on stdin, checked as the TypeScript plugin checked it, and the
 * errors that refuse it. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "plugin.h"
#include "text.h"
#include "weft_cni_gen.h"

/* ---- errors --------------------------------------------------------------------------------------- */

int invalid(run_t *r, const char *reason) {
  werr_set(&r->err, "ERR_WEFT_CNI_CONFIG_INVALID");
  werr_param_str(&r->err, "reason", reason);
  return -1;
}

int env_error(run_t *r, const buf_t *reason) {
  werr_set(&r->err, "ERR_WEFT_CNI_ENV_INVALID");
  werr_param(&r->err, "reason", buf_str(reason), reason->len);
  return -1;
}

const char *describe(const jval_t *v) {
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

int supported(const jval_t *v) {
  if (v == NULL || v->t != J_STR) return 0;
  for (size_t k = 0; k < WEFT_SUPPORTED_VERSIONS_N; k++) {
    if (strlen(WEFT_SUPPORTED_VERSIONS[k]) == v->len && memcmp(WEFT_SUPPORTED_VERSIONS[k], v->str, v->len) == 0) return 1;
  }
  return 0;
}

int oversize(run_t *r, const char *what) {
  werr_set(&r->err, "ERR_WEFT_CNI_INTERNAL");
  werr_param_str(&r->err, "reason", what);
  return -1;
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

int parse_config(run_t *r, jval_t *obj, int drop_bad_prev, config_t *c) {
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
