/* The pod a command is about (CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_ARGS, checked as the spec
 * says), whether its namespace is excluded, and the EnrollmentRequest forwarded to the node agent. */
#include <string.h>

#include "agent.h"
#include "plugin.h"
#include "text.h"
#include "weft_cni_gen.h"

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

int target_of(run_t *r, const char *command, int need_netns, target_t *t) {
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

int is_pod(const target_t *t) { return t->ns_len > 0 && t->name_len > 0; }

int excluded(const config_t *c, const target_t *t) {
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

/* Forwards the command; 0 with the agent's answer logged, -1 with r->err set. */
int forward(run_t *r, const char *command, const target_t *t, const config_t *c, int64_t deadline, int64_t retry_until) {
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

/* Every later log line names the pod. */
void bind_pod(run_t *r, const target_t *t) {
  buf_t pod;
  buf_init(&pod, 3 * ENV_MAX);
  pod_ref(t, &pod);
  plog_bind(&r->log, "pod", buf_str(&pod), pod.len);
  buf_free(&pod);
}
