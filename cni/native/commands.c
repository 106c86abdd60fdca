/* The CNI verbs: ADD passes the previous result on once the agent has captured the pod, DEL is best
 * effort, CHECK asks the agent, STATUS is the agent's health, VERSION and GC answer locally. */
#include <string.h>

#include "agent.h"
#include "clock.h"
#include "plugin.h"
#include "text.h"
#include "weft_cni_gen.h"

/* How long DEL keeps trying to connect to an absent or restarting agent before giving up (and succeeding). */
#define DEL_CONNECT_RETRY_MS 1000

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

int dispatch(run_t *r, target_t *t) {
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
