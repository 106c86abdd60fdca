/* The node agent's side of lib/enrollment.ts, as a client: one HTTP/1.1 request per connection on its
 * unix socket, retried while the socket is absent or refusing (agent restarting) until a deadline. Same
 * requests, answers, timeouts and errors as the TypeScript plugin's agent-client.ts had. */
#ifndef WEFT_CNI_AGENT_H
#define WEFT_CNI_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "werr.h"

typedef struct {
  const char *socket;
  int64_t deadline;    /* now_ms() based, for the whole call, retries included */
  int64_t retry_until; /* keep retrying connection failures until then (capped by deadline) */
} call_opts_t;

/* POST /v1/cni/<command> with payload; 0 with *captured and reason set, or -1 with err set. */
int agent_enroll(const char *command, const char *pod, const char *payload, size_t plen, const call_opts_t *opts, int *captured, buf_t *reason,
                 werr_t *err);
/* GET /v1/healthz: 0 when the agent answers 200 (and not `ok: false`), else -1 with NOT_READY. */
int agent_health(const call_opts_t *opts, werr_t *err);

#endif
