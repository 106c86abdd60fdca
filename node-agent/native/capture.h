// The pod's capture, installed over netlink from inside the agent (no `nft`, `ip` or `nsenter` process on
// the CNI ADD path): the `weft` nftables table and the policy routing of source-IP preservation. The
// rules are those of captureRules() in node-agent/enroll/capture.ts (which `nft -f` still reads where a
// person installs them by hand); every number comes from the caller, whose constants are the source.
#ifndef WEFT_CAPTURE_H
#define WEFT_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "nl_msg.h"

// Probe sources are the pod's gateways (kubelet probes come from the node): a few at most.
#define CAPTURE_MAX_PROBES 8
#define CAPTURE_TABLE_MAX 32

typedef struct {
  char table[CAPTURE_TABLE_MAX]; // nftables table name
  uint32_t agent_mark;           // SO_MARK of the agent's own sockets
  uint32_t mark_mask;            // the bits of the mark weft owns
  uint32_t connmark;             // ct mark / fwmark of replies to spoofed sources
  uint32_t route_table;          // the policy routing table
  uint32_t rule_pref;            // the policy rule's priority
  uint16_t outbound_port, inbound_port, hbone_port;
  size_t nprobes4, nprobes6;
  unsigned char probes4[CAPTURE_MAX_PROBES][4];
  unsigned char probes6[CAPTURE_MAX_PROBES][16];
} capture_spec_t;

typedef struct {
  int err;         // errno
  const char *step; // what failed
} capture_err_t;

// Adds one probe source (an IPv4 or IPv6 literal). 0, or -1 with err set (EINVAL: not an address, E2BIG: too many).
int capture_add_probe(capture_spec_t *spec, const char *addr, capture_err_t *err);
// Installs or refreshes the capture in the netns at `netns_path` (never "" : not the agent's own); idempotent.
int capture_install(const char *netns_path, const capture_spec_t *spec, capture_err_t *err);
// The same, but the nf_tables netlink socket is left open in *nft_fd (-1 when none was opened) for the
// caller to close, success or not: its close() blocks for the kernel's nf_tables destroy work (capture.c).
int capture_install_deferred(const char *netns_path, const capture_spec_t *spec, int *nft_fd, capture_err_t *err);

// The IPv4 default gateway of the netns (main table) into out (at least INET_ADDRSTRLEN bytes): 1, 0 when
// there is none, -1 with err set.
int capture_default_gateway(const char *netns_path, char *out, size_t outlen, capture_err_t *err);

// The netlink messages: the nf_tables batch (capture_nft.c; returns the seq of its last message) and
// the rtnetlink rule + route (capture_route.c; *rule_seq is the rule's, whose EEXIST means "in place").
uint32_t capture_nft_batch(nl_buf_t *b, const capture_spec_t *spec);
uint32_t capture_route_msgs(nl_buf_t *b, const capture_spec_t *spec, uint32_t *rule_seq);

#endif
