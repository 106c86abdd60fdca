// weft node agent's native code. Creates sockets inside another network namespace (setns on the calling
// thread, then back), sets SO_MARK / IP_TRANSPARENT, reads SO_ORIGINAL_DST, and installs a pod's capture
// over netlink (capture.c), and gives malloc's free memory back (memory_trim.c). Everything else (accept, connect, I/O) is Node's, on the returned fd.
#include <node_api.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netfilter_ipv4.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "capture.h"
#include "memory_trim.h"
#include "netns_enter.h"

#ifndef IP6T_SO_ORIGINAL_DST
#define IP6T_SO_ORIGINAL_DST 80
#endif

static napi_value throw_errno(napi_env env, int err, const char *syscall, const char *what) {
  const char *name = strerrorname_np(err);
  char msg[512];
  snprintf(msg, sizeof msg, "%s %s: %s (%s)", syscall, what ? what : "", strerror(err), name ? name : "E?");
  napi_value code, message, error, errnov, sys;
  napi_create_string_utf8(env, name ? name : "EUNKNOWN", NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, code, message, &error);
  napi_create_int32(env, -err, &errnov);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sys);
  napi_set_named_property(env, error, "errno", errnov);
  napi_set_named_property(env, error, "syscall", sys);
  napi_throw(env, error);
  return NULL;
}

static int get_string(napi_env env, napi_value v, char *buf, size_t len) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t == napi_undefined || t == napi_null) { buf[0] = '\0'; return 0; }
  // A string that does not fit is refused, not cut: a truncated netns path would name another file.
  size_t need, n;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &need) != napi_ok || need >= len) return -1;
  return napi_get_value_string_utf8(env, v, buf, len, &n) == napi_ok ? 0 : -1;
}

static int opt_prop(napi_env env, napi_value obj, const char *name, napi_value *out) {
  napi_valuetype t;
  if (napi_typeof(env, obj, &t) != napi_ok || t != napi_object) return 0;
  bool has = false;
  napi_has_named_property(env, obj, name, &has);
  if (!has) return 0;
  napi_get_named_property(env, obj, name, out);
  napi_typeof(env, *out, &t);
  return t != napi_undefined && t != napi_null;
}

static int opt_bool(napi_env env, napi_value obj, const char *name) {
  napi_value v;
  bool b = false;
  if (opt_prop(env, obj, name, &v)) napi_get_value_bool(env, v, &b);
  return b;
}

// Reads up to `max` arguments, the first a netns path; 0, or -1 after throwing a TypeError with `usage`.
static int path_args(napi_env env, napi_callback_info info, size_t max, napi_value *argv, size_t *argc, char *path, size_t len, const char *usage) {
  *argc = max;
  napi_get_cb_info(env, info, argc, argv, NULL, NULL);
  if (*argc < 1 || get_string(env, argv[0], path, len)) {
    napi_throw_type_error(env, "EINVAL", usage);
    return -1;
  }
  return 0;
}

// The new socket as a number, or (rc < 0) the socket closed and the error thrown.
static napi_value fd_result(napi_env env, int rc, int fd, const char *step, const char *what) {
  if (rc < 0) {
    if (fd >= 0) close(fd);
    return throw_errno(env, -rc, step, what);
  }
  napi_value out;
  napi_create_int32(env, fd, &out);
  return out;
}

// Parses host into a sockaddr; returns the family or -1.
static int parse_addr(const char *host, int port, struct sockaddr_storage *ss, socklen_t *len) {
  memset(ss, 0, sizeof *ss);
  struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
  struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
  if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET; a4->sin_port = htons(port); *len = sizeof *a4; return AF_INET;
  }
  if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6; a6->sin6_port = htons(port); *len = sizeof *a6; return AF_INET6;
  }
  return -1;
}

static int set_common(int fd, int family, int transparent, int mark) {
  int one = 1;
  if (transparent) {
    int rc = family == AF_INET6 ? setsockopt(fd, SOL_IPV6, IPV6_TRANSPARENT, &one, sizeof one)
                                : setsockopt(fd, SOL_IP, IP_TRANSPARENT, &one, sizeof one);
    if (rc < 0) return -errno;
  }
  if (mark >= 0 && setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof mark) < 0) return -errno;
  return 0;
}

// Enters the netns at `path` and opens a non-blocking TCP socket there: 0 with *fd, or -errno with *step
// saying what failed. The caller leaves the netns (leave_ns(*entered)) in both cases.
static int tcp_socket_in(const char *path, int family, int *entered, int *fd, const char **step) {
  *fd = -1;
  *step = "setns";
  int rc = enter_ns(path, entered);
  if (rc < 0) return rc;
  *step = "socket";
  *fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  return *fd < 0 ? -errno : 0;
}

// listenInNetns(netnsPath, host, port, {reusePort, transparent, backlog}) -> fd
static napi_value ListenInNetns(napi_env env, napi_callback_info info) {
  static const char usage[] = "listenInNetns(netnsPath, host, port, options?)";
  size_t argc;
  napi_value argv[4];
  char path[4096], host[64];
  int32_t port = 0, backlog = 511;
  if (path_args(env, info, 4, argv, &argc, path, sizeof path, usage) < 0) return NULL;
  if (argc < 3 || get_string(env, argv[1], host, sizeof host) || napi_get_value_int32(env, argv[2], &port) != napi_ok) {
    napi_throw_type_error(env, "EINVAL", usage);
    return NULL;
  }
  napi_value opts = argc > 3 ? argv[3] : NULL, v;
  int reuse_port = opts ? opt_bool(env, opts, "reusePort") : 0;
  int transparent = opts ? opt_bool(env, opts, "transparent") : 0;
  if (opts && opt_prop(env, opts, "backlog", &v)) napi_get_value_int32(env, v, &backlog);
  struct sockaddr_storage ss;
  socklen_t slen;
  int family = parse_addr(host, port, &ss, &slen);
  if (family < 0) return throw_errno(env, EINVAL, "inet_pton", host);

  const char *step;
  int entered, fd, one = 1, rc = tcp_socket_in(path, family, &entered, &fd, &step);
  if (rc < 0 && !entered) return throw_errno(env, -rc, step, path);
  if (!rc && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) { rc = -errno; step = "setsockopt"; }
  // SO_REUSEPORT, before bind: a successor agent (rolling update with maxSurge, or a restart) binds the
  // same pod ports while this one still runs; both serve until the old one drains and closes its
  // listener. Chosen over handing the listening fds over a unix socket (SCM_RIGHTS): no protocol between
  // two agent versions, nothing to do when the predecessor crashed, and the successor never waits for
  // the predecessor. The accept queue of a closing listener moves to the successor through
  // tcp_migrate_req (enableListenerMigration below).
  if (!rc && reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) { rc = -errno; step = "setsockopt"; }
  if (!rc && (rc = set_common(fd, family, transparent, -1)) < 0) step = "setsockopt";
  if (!rc && bind(fd, (struct sockaddr *)&ss, slen) < 0) { rc = -errno; step = "bind"; }
  if (!rc && listen(fd, backlog) < 0) { rc = -errno; step = "listen"; }
  leave_ns(entered);
  char what[4200];
  snprintf(what, sizeof what, "%s:%d in %s", host, port, path[0] ? path : "own netns");
  return fd_result(env, rc, fd, step, what);
}

// connectSocketInNetns(netnsPath, {mark, transparent, bindAddress, bindPort, family}) -> fd (unconnected)
static napi_value ConnectSocketInNetns(napi_env env, napi_callback_info info) {
  size_t argc;
  napi_value argv[2];
  char path[4096], bind_addr[64] = "";
  if (path_args(env, info, 2, argv, &argc, path, sizeof path, "connectSocketInNetns(netnsPath, options?)") < 0) return NULL;
  napi_value opts = argc > 1 ? argv[1] : NULL, v;
  int32_t mark = -1, bind_port = 0, family6 = 0;
  if (opts && opt_prop(env, opts, "mark", &v)) napi_get_value_int32(env, v, &mark);
  if (opts && opt_prop(env, opts, "bindAddress", &v)) get_string(env, v, bind_addr, sizeof bind_addr);
  if (opts && opt_prop(env, opts, "bindPort", &v)) napi_get_value_int32(env, v, &bind_port);
  if (opts && opt_prop(env, opts, "family", &v)) napi_get_value_int32(env, v, &family6);
  int transparent = opts ? opt_bool(env, opts, "transparent") : 0;
  struct sockaddr_storage ss;
  socklen_t slen = 0;
  int family = family6 == 6 ? AF_INET6 : AF_INET;
  if (bind_addr[0]) {
    family = parse_addr(bind_addr, bind_port, &ss, &slen);
    if (family < 0) return throw_errno(env, EINVAL, "inet_pton", bind_addr);
  }

  const char *step;
  int entered, fd, one = 1, rc = tcp_socket_in(path, family, &entered, &fd, &step);
  if (rc < 0 && !entered) return throw_errno(env, -rc, step, path);
  if (!rc && (rc = set_common(fd, family, transparent, mark)) < 0) step = "setsockopt";
  // Many sockets may share one spoofed source IP toward the same app: let the kernel pick ports freely.
  if (!rc && slen && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) { rc = -errno; step = "setsockopt"; }
  if (!rc && slen && bind(fd, (struct sockaddr *)&ss, slen) < 0) { rc = -errno; step = "bind"; }
  leave_ns(entered);
  return fd_result(env, rc, fd, step, path[0] ? path : "own netns");
}

// enableListenerMigration(netnsPath): net.ipv4.tcp_migrate_req = 1 in that netns (Linux 5.14+).
// Why: the pod listeners are shared by two agents during an upgrade through SO_REUSEPORT (see
// listenInNetns). When the draining agent closes its listener, the kernel would reset the connections
// still in that listener's accept queue; with this set it moves them (and half-open requests) to the
// successor's listener in the same group. The sysctl is per netns, so this touches only the pod's.
// Throws with the errno name: ENOENT (older kernel), EROFS/EACCES (a read-only /proc/sys).
static napi_value EnableListenerMigration(napi_env env, napi_callback_info info) {
  size_t argc;
  napi_value argv[1];
  char path[4096];
  if (path_args(env, info, 1, argv, &argc, path, sizeof path, "enableListenerMigration(netnsPath)") < 0) return NULL;
  int entered, rc = enter_ns(path, &entered);
  if (rc < 0) return throw_errno(env, -rc, "setns", path);
  // /proc/sys/net resolves to the netns of the opening thread: open and write it while inside the pod's.
  const char *step = "open";
  int fd = open("/proc/sys/net/ipv4/tcp_migrate_req", O_WRONLY | O_CLOEXEC);
  rc = fd < 0 ? -errno : 0;
  if (!rc) {
    step = "write";
    ssize_t n = write(fd, "1\n", 2);
    if (n != 2) rc = n < 0 ? -errno : -EIO;
    close(fd);
  }
  leave_ns(entered);
  if (rc < 0) return throw_errno(env, -rc, step, "/proc/sys/net/ipv4/tcp_migrate_req");
  napi_value out;
  napi_get_undefined(env, &out);
  return out;
}

static uint32_t opt_u32(napi_env env, napi_value obj, const char *name, int *bad) {
  napi_value v;
  uint32_t n = 0;
  if (!opt_prop(env, obj, name, &v) || napi_get_value_uint32(env, v, &n) != napi_ok) *bad = 1;
  return n;
}

// A netlink socket closed on a libuv worker thread. close() of the nf_tables socket blocks until the
// kernel's destroy work of the committed transaction has run (an RCU grace period): 5-15 ms of the
// agent's ~12 ms CNI ADD in bench/cni-add, spent blocking the event loop. The rules are in force once the
// commit is acked, before this close.
typedef struct {
  napi_async_work work;
  int fd;
} deferred_close_t;

static void deferred_close_run(napi_env env, void *data) {
  (void)env;
  close(((deferred_close_t *)data)->fd);
}

static void deferred_close_done(napi_env env, napi_status status, void *data) {
  (void)status;
  deferred_close_t *d = data;
  napi_delete_async_work(env, d->work);
  free(d);
}

static void close_on_worker(napi_env env, int fd) {
  deferred_close_t *d = malloc(sizeof *d);
  napi_value name;
  if (d != NULL && napi_create_string_utf8(env, "weftNetlinkClose", NAPI_AUTO_LENGTH, &name) == napi_ok) {
    d->fd = fd;
    if (napi_create_async_work(env, NULL, name, deferred_close_run, deferred_close_done, d, &d->work) == napi_ok) {
      if (napi_queue_async_work(env, d->work) == napi_ok) return;
      napi_delete_async_work(env, d->work);
    }
  }
  free(d);
  close(fd); // no worker to be had: slower, never leaked
}

// installCapture(netnsPath, {table, agentMark, markMask, connmark, routeTable, rulePref, outboundPort,
// inboundPort, hbonePort, probeSources}): the pod's nftables table and policy routing, over netlink
// (capture.c), synchronously: ~0.2 ms of netlink round trips, less than handing it to a worker thread;
// only the nf_tables socket's close goes to one (close_on_worker).
static napi_value InstallCapture(napi_env env, napi_callback_info info) {
  static const char usage[] = "installCapture(netnsPath, spec)";
  size_t argc;
  napi_value argv[2], v;
  char path[4096];
  if (path_args(env, info, 2, argv, &argc, path, sizeof path, usage) < 0) return NULL;
  capture_spec_t spec;
  memset(&spec, 0, sizeof spec);
  int bad = argc < 2 || !opt_prop(env, argv[1], "table", &v) || get_string(env, v, spec.table, sizeof spec.table);
  spec.agent_mark = opt_u32(env, argv[1], "agentMark", &bad);
  spec.mark_mask = opt_u32(env, argv[1], "markMask", &bad);
  spec.connmark = opt_u32(env, argv[1], "connmark", &bad);
  spec.route_table = opt_u32(env, argv[1], "routeTable", &bad);
  spec.rule_pref = opt_u32(env, argv[1], "rulePref", &bad);
  uint32_t ports[3] = {opt_u32(env, argv[1], "outboundPort", &bad), opt_u32(env, argv[1], "inboundPort", &bad), opt_u32(env, argv[1], "hbonePort", &bad)};
  for (size_t k = 0; k < 3; k++) bad |= ports[k] == 0 || ports[k] > 65535;
  spec.outbound_port = (uint16_t)ports[0];
  spec.inbound_port = (uint16_t)ports[1];
  spec.hbone_port = (uint16_t)ports[2];
  bool is_array = false;
  uint32_t n = 0;
  if (!bad && opt_prop(env, argv[1], "probeSources", &v) && napi_is_array(env, v, &is_array) == napi_ok && is_array) napi_get_array_length(env, v, &n);
  if (bad || !is_array) {
    napi_throw_type_error(env, "EINVAL", usage);
    return NULL;
  }
  capture_err_t err = {0, ""};
  for (uint32_t k = 0; k < n; k++) {
    napi_value item;
    char addr[64];
    if (napi_get_element(env, v, k, &item) != napi_ok || get_string(env, item, addr, sizeof addr)) return throw_errno(env, EINVAL, "probeSources", "");
    if (capture_add_probe(&spec, addr, &err) < 0) return throw_errno(env, err.err, err.step, addr);
  }
  int nft = -1;
  int rc = capture_install_deferred(path, &spec, &nft, &err);
  if (nft >= 0) close_on_worker(env, nft);
  if (rc < 0) return throw_errno(env, err.err, err.step, path);
  napi_value out;
  napi_get_undefined(env, &out);
  return out;
}

// defaultGateway(netnsPath) -> string | undefined: the netns' IPv4 default gateway (capture_gateway.c).
static napi_value DefaultGateway(napi_env env, napi_callback_info info) {
  size_t argc;
  napi_value argv[1], out;
  char path[4096], gw[INET6_ADDRSTRLEN];
  if (path_args(env, info, 1, argv, &argc, path, sizeof path, "defaultGateway(netnsPath)") < 0) return NULL;
  capture_err_t err;
  int found = capture_default_gateway(path, gw, sizeof gw, &err);
  if (found < 0) return throw_errno(env, err.err, err.step, path);
  if (found == 0) napi_get_undefined(env, &out);
  else napi_create_string_utf8(env, gw, NAPI_AUTO_LENGTH, &out);
  return out;
}

// originalDst(fd) -> {address, port}
static napi_value OriginalDst(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd = -1;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, "EINVAL", "originalDst(fd)");
    return NULL;
  }
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  memset(&ss, 0, sizeof ss);
  if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) return throw_errno(env, errno, "getsockname", "");
  char buf[INET6_ADDRSTRLEN];
  int port;
  if (ss.ss_family == AF_INET6) {
    struct sockaddr_in6 a6;
    len = sizeof a6;
    if (getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &a6, &len) < 0) return throw_errno(env, errno, "getsockopt", "SO_ORIGINAL_DST");
    inet_ntop(AF_INET6, &a6.sin6_addr, buf, sizeof buf);
    port = ntohs(a6.sin6_port);
  } else {
    struct sockaddr_in a4;
    len = sizeof a4;
    if (getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &a4, &len) < 0) return throw_errno(env, errno, "getsockopt", "SO_ORIGINAL_DST");
    inet_ntop(AF_INET, &a4.sin_addr, buf, sizeof buf);
    port = ntohs(a4.sin_port);
  }
  napi_value out, addr, portv;
  napi_create_object(env, &out);
  napi_create_string_utf8(env, buf, NAPI_AUTO_LENGTH, &addr);
  napi_create_int32(env, port, &portv);
  napi_set_named_property(env, out, "address", addr);
  napi_set_named_property(env, out, "port", portv);
  return out;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"listenInNetns", NULL, ListenInNetns, NULL, NULL, NULL, napi_default, NULL},
    {"connectSocketInNetns", NULL, ConnectSocketInNetns, NULL, NULL, NULL, napi_default, NULL},
    {"originalDst", NULL, OriginalDst, NULL, NULL, NULL, napi_default, NULL},
    {"enableListenerMigration", NULL, EnableListenerMigration, NULL, NULL, NULL, napi_default, NULL},
    {"installCapture", NULL, InstallCapture, NULL, NULL, NULL, napi_default, NULL},
    {"defaultGateway", NULL, DefaultGateway, NULL, NULL, NULL, napi_default, NULL},
    {"mallocFreeBytes", NULL, MallocFreeBytes, NULL, NULL, NULL, napi_default, NULL},
    {"mallocTrim", NULL, MallocTrim, NULL, NULL, NULL, napi_default, NULL},
    {"releaseV8Memory", NULL, ReleaseV8Memory, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
