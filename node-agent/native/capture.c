// capture_install: the two netlink sockets are opened inside the pod's netns (a netlink socket talks to
// the netns it was created in) and the thread goes home at once; the requests then run on those fds.
// Why not `nsenter nft -f` + `nsenter ip -batch` as before: those two process pairs were most of the
// agent's ADD work (bench/cni-add, issue #14); netlink from here costs well under a millisecond.
// Except closing the nf_tables socket: its release waits for the kernel's nf_tables destroy work of the
// transaction just committed (an RCU grace period: 5-15 ms on a 2-vCPU VM, measured in bench/cni-add),
// so capture_install_deferred hands that socket to the caller to close off the event-loop thread.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "capture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netns_enter.h"

// The nft batch is ~10 KiB with the most probes; the route messages well under 1 KiB.
#define BATCH_MAX (64 * 1024)

static int fail(capture_err_t *err, int e, const char *step) {
  err->err = e;
  err->step = step;
  return -1;
}

int capture_add_probe(capture_spec_t *s, const char *addr, capture_err_t *err) {
  unsigned char bytes[16];
  if (inet_pton(AF_INET, addr, bytes) == 1) {
    if (s->nprobes4 >= CAPTURE_MAX_PROBES) return fail(err, E2BIG, "probe sources");
    memcpy(s->probes4[s->nprobes4++], bytes, 4);
    return 0;
  }
  if (inet_pton(AF_INET6, addr, bytes) == 1) {
    if (s->nprobes6 >= CAPTURE_MAX_PROBES) return fail(err, E2BIG, "probe sources");
    memcpy(s->probes6[s->nprobes6++], bytes, 16);
    return 0;
  }
  return fail(err, EINVAL, "inet_pton");
}

static int nl_socket(int proto) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, proto);
  if (fd < 0) return -errno;
  int one = 1;
  // Acks without a copy of each request: the answers stay small.
  (void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  return fd;
}

int capture_install(const char *netns_path, const capture_spec_t *spec, capture_err_t *err) {
  int nft = -1;
  int rc = capture_install_deferred(netns_path, spec, &nft, err);
  if (nft >= 0) close(nft);
  return rc;
}

int capture_install_deferred(const char *netns_path, const capture_spec_t *spec, int *nft_fd, capture_err_t *err) {
  *nft_fd = -1;
  if (memchr(spec->table, '\0', sizeof spec->table) == NULL || spec->table[0] == '\0') return fail(err, EINVAL, "table name");
  // Capture belongs in a pod's netns only: never in the agent's own (the node's), whatever the caller says.
  if (netns_path == NULL || netns_path[0] == '\0') return fail(err, EINVAL, "netns path");
  int entered, rc = enter_ns(netns_path, &entered);
  if (rc < 0) return fail(err, -rc, "setns");
  int nft = nl_socket(NETLINK_NETFILTER);
  int route = nft >= 0 ? nl_socket(NETLINK_ROUTE) : -1;
  int e = nft < 0 ? -nft : route < 0 ? -route : 0;
  leave_ns(entered);
  if (e != 0) {
    if (nft >= 0) close(nft);
    return fail(err, e, "socket(AF_NETLINK)");
  }
  unsigned char *mem = malloc(BATCH_MAX);
  if (mem == NULL) {
    close(nft);
    close(route);
    return fail(err, ENOMEM, "malloc");
  }
  nl_buf_t b;
  nl_init(&b, mem, BATCH_MAX);
  uint32_t last = capture_nft_batch(&b, spec);
  rc = nl_talk(nft, &b, last, 0);
  if (rc < 0) fail(err, -rc, "nftables");
  if (rc == 0) {
    nl_init(&b, mem, BATCH_MAX);
    uint32_t rule_seq;
    last = capture_route_msgs(&b, spec, &rule_seq);
    rc = nl_talk(route, &b, last, rule_seq);
    if (rc < 0) fail(err, -rc, "rtnetlink");
  }
  free(mem);
  *nft_fd = nft; // committed (or refused) already: only the release is left
  close(route);
  return rc < 0 ? -1 : 0;
}
