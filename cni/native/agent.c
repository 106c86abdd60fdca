#define _GNU_SOURCE
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "http_answer.h"
#include "json.h"
#include "text.h"

/* Retry delays while the socket is absent or refuses (agent restarting); capped by the deadline. */
#define RETRY_INITIAL_MS 50
#define RETRY_MAX_MS 500

enum { ONCE_OK, ONCE_NOT_CONNECTED, ONCE_NO_ANSWER, ONCE_PROTOCOL };

static const char *errno_name(int e, char *tmp, size_t n) {
  const char *name = strerrorname_np(e);
  if (name != NULL) return name;
  snprintf(tmp, n, "E%d", e);
  return tmp;
}

/* ---- one request on a fresh connection ------------------------------------------------------------ */

typedef struct {
  int status;
  buf_t body;
  char reason[96]; /* NotConnected */
  buf_t proto;     /* ONCE_PROTOCOL: why */
} answer_t;

static int remaining_ms(int64_t deadline) {
  int64_t r = deadline - now_ms();
  if (r < 0) return 0;
  return r > 3600000 ? 3600000 : (int)r;
}

static int once(const char *method, const char *path, const char *body, size_t blen, const char *socket_path, int64_t deadline, answer_t *ans) {
  char tmp[32];
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  size_t plen = strlen(socket_path);
  if (plen >= sizeof addr.sun_path) {
    snprintf(ans->reason, sizeof ans->reason, "ENAMETOOLONG");
    return ONCE_NOT_CONNECTED;
  }
  memcpy(addr.sun_path, socket_path, plen);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    snprintf(ans->reason, sizeof ans->reason, "%s", errno_name(errno, tmp, sizeof tmp));
    return ONCE_NOT_CONNECTED;
  }
  int rc;
  do rc = connect(fd, (struct sockaddr *)&addr, sizeof addr);
  while (rc < 0 && errno == EINTR);
  if (rc < 0 && errno == EINPROGRESS) {
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int n;
    do n = poll(&p, 1, remaining_ms(deadline));
    while (n < 0 && errno == EINTR);
    if (n == 0) {
      close(fd);
      snprintf(ans->reason, sizeof ans->reason, "connect timed out");
      return ONCE_NOT_CONNECTED;
    }
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
    if (soerr != 0) {
      errno = soerr;
      rc = -1;
    } else {
      rc = 0;
    }
  }
  if (rc < 0) {
    snprintf(ans->reason, sizeof ans->reason, "%s", errno_name(errno, tmp, sizeof tmp));
    close(fd);
    return ONCE_NOT_CONNECTED;
  }

  /* Connected. `connection: close`, but no half-close: a Node HTTP server aborts a request whose client
   * half-closes (httpAllowHalfOpen is off), so the socket stays open until the answer is in. */
  buf_t req;
  buf_init(&req, blen + 512);
  buf_printf(&req, "%s %s HTTP/1.1\r\nhost: weft-node-agent\r\nconnection: close\r\n", method, path);
  if (body != NULL) {
    buf_printf(&req, "content-type: application/json\r\ncontent-length: %zu\r\n\r\n", blen);
    buf_put(&req, body, blen);
  } else {
    buf_puts(&req, "\r\n");
  }
  int result = -1;
  size_t sent = 0;
  while (result < 0 && sent < req.len) {
    ssize_t w = send(fd, req.p + sent, req.len - sent, MSG_NOSIGNAL);
    if (w > 0) {
      sent += (size_t)w;
      continue;
    }
    if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
      struct pollfd p = {.fd = fd, .events = POLLOUT};
      int n = poll(&p, 1, remaining_ms(deadline));
      if (n == 0) result = ONCE_NO_ANSWER;
      continue;
    }
    snprintf(ans->reason, sizeof ans->reason, "%s after connecting", errno_name(errno, tmp, sizeof tmp));
    result = ONCE_NOT_CONNECTED;
  }
  buf_free(&req);

  /* The answer, bounded: at most head + body limit, one byte more is refused. */
  const size_t cap = MAX_BODY_BYTES + MAX_HEAD_BYTES + 1;
  buf_t in;
  buf_init(&in, cap);
  while (result < 0) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int n = poll(&p, 1, remaining_ms(deadline));
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) {
      result = ONCE_NO_ANSWER;
      break;
    }
    char *at = buf_reserve(&in, cap - in.len);
    if (at == NULL) {
      result = ONCE_PROTOCOL;
      buf_printf(&ans->proto, "a body over %d bytes", MAX_BODY_BYTES);
      break;
    }
    ssize_t r = read(fd, at, cap - in.len);
    if (r < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      snprintf(ans->reason, sizeof ans->reason, "%s after connecting", errno_name(errno, tmp, sizeof tmp));
      result = ONCE_NOT_CONNECTED;
      break;
    }
    if (r == 0) {
      if (in.len == 0) {
        snprintf(ans->reason, sizeof ans->reason, "closed without an answer");
        result = ONCE_NOT_CONNECTED;
        break;
      }
      int pa = http_parse_answer(in.p, in.len, 1, &ans->status, &ans->body, &ans->proto);
      if (pa == 0) {
        snprintf(ans->reason, sizeof ans->reason, "response aborted");
        result = ONCE_NOT_CONNECTED;
      } else {
        result = pa > 0 ? ONCE_OK : ONCE_PROTOCOL;
      }
      break;
    }
    buf_commit(&in, (size_t)r);
    if (in.len > MAX_BODY_BYTES + MAX_HEAD_BYTES) {
      buf_printf(&ans->proto, "a body over %d bytes", MAX_BODY_BYTES);
      result = ONCE_PROTOCOL;
      break;
    }
    int pa = http_parse_answer(in.p, in.len, 0, &ans->status, &ans->body, &ans->proto);
    if (pa != 0) result = pa > 0 ? ONCE_OK : ONCE_PROTOCOL;
  }
  buf_free(&in);
  close(fd);
  return result;
}

static void answer_init(answer_t *a) {
  a->status = 0;
  buf_init(&a->body, MAX_BODY_BYTES * 3 + 16);
  a->reason[0] = '\0';
  buf_init(&a->proto, 4096);
}

static void answer_free(answer_t *a) {
  buf_free(&a->body);
  buf_free(&a->proto);
}

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

static int call_with_retry(const char *method, const char *path, const char *body, size_t blen, const call_opts_t *opts, int64_t started,
                           const char *command, answer_t *ans, werr_t *err) {
  double delay = RETRY_INITIAL_MS;
  for (;;) {
    buf_reset(&ans->proto);
    int r = once(method, path, body, blen, opts->socket, opts->deadline, ans);
    if (r == ONCE_OK) return 0;
    long long elapsed = (long long)(now_ms() - started);
    if (r == ONCE_NO_ANSWER) {
      werr_set(err, "ERR_WEFT_CNI_AGENT_TIMEOUT");
      werr_param_str(err, "socket", opts->socket);
      werr_param_str(err, "command", command);
      werr_param_int(err, "ms", elapsed);
      return -1;
    }
    if (r == ONCE_PROTOCOL) {
      char cmd[64];
      snprintf(cmd, sizeof cmd, "%s %s", method, path);
      werr_set(err, "ERR_WEFT_CNI_AGENT_PROTOCOL");
      werr_param_str(err, "socket", opts->socket);
      werr_param_str(err, "command", cmd);
      werr_param(err, "reason", buf_str(&ans->proto), ans->proto.len);
      return -1;
    }
    int64_t remaining = min64(opts->deadline, opts->retry_until) - now_ms();
    if (remaining <= 0) {
      werr_set(err, "ERR_WEFT_CNI_AGENT_UNREACHABLE");
      werr_param_str(err, "socket", opts->socket);
      werr_param_str(err, "reason", ans->reason);
      werr_param_int(err, "ms", elapsed);
      return -1;
    }
    /* Full jitter keeps many pods waiting on one restarting agent from knocking in step. */
    double wait = jitter() * delay;
    sleep_ms(wait < (double)remaining ? wait : (double)remaining);
    delay = delay * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : delay * 2;
  }
}

int agent_enroll(const char *command, const char *pod, const char *payload, size_t plen, const call_opts_t *opts, int *captured, buf_t *reason,
                 werr_t *err) {
  int64_t started = now_ms();
  char path[32];
  char lower[8];
  size_t k;
  for (k = 0; command[k] != '\0' && k < sizeof lower - 1; k++) lower[k] = (char)(command[k] | 0x20);
  lower[k] = '\0';
  snprintf(path, sizeof path, "/v1/cni/%s", lower);
  answer_t ans;
  answer_init(&ans);
  int rc = -1;
  if (call_with_retry("POST", path, payload, plen, opts, started, command, &ans, err) < 0) goto done;
  /* 503: the agent runs but is not ready yet (first cluster state, certificates). Ask again while the
   * budget lasts rather than failing a pod that would succeed a moment later. */
  double delay = RETRY_INITIAL_MS;
  while (ans.status == 503 && (double)(min64(opts->deadline, opts->retry_until) - now_ms()) > delay) {
    sleep_ms(delay);
    delay = delay * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : delay * 2;
    answer_t again;
    answer_init(&again);
    werr_t ignored;
    werr_init(&ignored);
    int ok = call_with_retry("POST", path, payload, plen, opts, started, command, &again, &ignored);
    werr_free(&ignored);
    if (ok < 0) {
      /* Out of time (or the agent went away) while asking again: its last answer says more. */
      answer_free(&again);
      break;
    }
    answer_free(&ans);
    ans = again;
  }
  json_doc_t doc;
  int parsed = json_parse(&doc, buf_str(&ans.body), ans.body.len) == 0;
  jval_t *b = parsed ? doc.root : NULL;
  if (ans.status == 200) {
    jval_t *cap = json_get(b, "captured");
    if (!json_is_object(b) || cap == NULL || (cap->t != J_TRUE && cap->t != J_FALSE)) {
      werr_set(err, "ERR_WEFT_CNI_AGENT_PROTOCOL");
      werr_param_str(err, "socket", opts->socket);
      werr_param_str(err, "command", command);
      buf_t why;
      buf_init(&why, 4096);
      buf_puts(&why, "an invalid EnrollmentResponse: ");
      text_slice(&why, buf_str(&ans.body), ans.body.len, 200);
      werr_param(err, "reason", buf_str(&why), why.len);
      buf_free(&why);
    } else {
      *captured = cap->t == J_TRUE;
      jval_t *why = json_get(b, "reason");
      buf_reset(reason);
      if (why != NULL && why->t == J_STR) buf_put(reason, why->str, why->len);
      rc = 0;
    }
  } else {
    jval_t *code = json_get(b, "code");
    jval_t *message = json_get(b, "message");
    if (json_is_object(b) && code != NULL && code->t == J_STR && message != NULL && message->t == J_STR) {
      jval_t *hint = json_get(b, "hint");
      werr_set(err, "ERR_WEFT_CNI_ENROLL_FAILED");
      werr_param_str(err, "command", command);
      werr_param_str(err, "pod", pod);
      werr_param(err, "agentCode", code->str, code->len);
      werr_param(err, "agentMessage", message->str, message->len);
      if (hint != NULL && hint->t == J_STR) werr_param(err, "agentHint", hint->str, hint->len);
      else werr_param_str(err, "agentHint", "");
    } else {
      char why[64];
      snprintf(why, sizeof why, "HTTP %d without an EnrollmentError body", ans.status);
      werr_set(err, "ERR_WEFT_CNI_AGENT_PROTOCOL");
      werr_param_str(err, "socket", opts->socket);
      werr_param_str(err, "command", command);
      werr_param_str(err, "reason", why);
    }
  }
  if (parsed) json_free(&doc);
done:
  answer_free(&ans);
  return rc;
}

int agent_health(const call_opts_t *opts, werr_t *err) {
  answer_t ans;
  answer_init(&ans);
  int rc = -1;
  werr_t inner;
  werr_init(&inner);
  if (call_with_retry("GET", "/v1/healthz", NULL, 0, opts, now_ms(), "STATUS", &ans, &inner) < 0) {
    buf_t msg;
    buf_init(&msg, 1024 * 1024);
    werr_message(&msg, &inner);
    werr_set(err, "ERR_WEFT_CNI_AGENT_NOT_READY");
    werr_param_str(err, "socket", opts->socket);
    werr_param(err, "reason", buf_str(&msg), msg.len);
    buf_free(&msg);
    goto done;
  }
  if (ans.status != 200) {
    char why[64];
    snprintf(why, sizeof why, "healthz answered HTTP %d", ans.status);
    werr_set(err, "ERR_WEFT_CNI_AGENT_NOT_READY");
    werr_param_str(err, "socket", opts->socket);
    werr_param_str(err, "reason", why);
    goto done;
  }
  /* The agent may answer 200 with `{"ok": false}` while it is still syncing with the control plane. */
  json_doc_t doc;
  if (json_parse(&doc, buf_str(&ans.body), ans.body.len) == 0) {
    jval_t *ok = json_get(doc.root, "ok");
    int starting = ok != NULL && ok->t == J_FALSE;
    json_free(&doc);
    if (starting) {
      werr_set(err, "ERR_WEFT_CNI_AGENT_NOT_READY");
      werr_param_str(err, "socket", opts->socket);
      werr_param_str(err, "reason", "healthz reports ok: false (still starting)");
      goto done;
    }
  }
  rc = 0;
done:
  werr_free(&inner);
  answer_free(&ans);
  return rc;
}
