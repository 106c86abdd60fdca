// The `weft` table as one nf_tables netlink batch (one transaction): add the table, delete it (drops any
// previous version, the same `table; delete table; table {...}` nft -f runs), add it again with its five
// chains and their rules. The expressions are those `nft --debug=netlink -f` prints for captureRules(),
// except that the three small anonymous sets ({probe sources}, {15001, 15006, 15008}, socket transparent
// {0, 1}) are written as one rule per element (same verdicts, no set lifecycle to manage here), and
// `socket transparent {0, 1}` as `socket transparent <= 1`: both mean "a socket was found".
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>

#include "capture.h"

#define MSG(t) ((uint16_t)((NFNL_SUBSYS_NFTABLES << 8) | (t)))

static size_t begin(nl_buf_t *b, uint16_t type, uint16_t flags, uint8_t family, uint16_t res_id) {
  struct nfgenmsg g = {.nfgen_family = family, .version = NFNETLINK_V0, .res_id = htons(res_id)};
  return nl_msg_begin(b, type, (uint16_t)(NLM_F_REQUEST | flags), &g, sizeof g);
}

/* ---- expressions: one NFTA_LIST_ELEM {name, data} each, all on register 1 ---------------------------- */

static size_t expr_begin(nl_buf_t *b, const char *name, size_t *data) {
  size_t elem = nl_nest_begin(b, NFTA_LIST_ELEM);
  nl_put_strz(b, NFTA_EXPR_NAME, name);
  *data = nl_nest_begin(b, NFTA_EXPR_DATA);
  return elem;
}

static void expr_end(nl_buf_t *b, size_t elem, size_t data) {
  nl_nest_end(b, data);
  nl_nest_end(b, elem);
}

static void value(nl_buf_t *b, uint16_t type, const void *v, size_t len) {
  size_t n = nl_nest_begin(b, type);
  nl_put(b, NFTA_DATA_VALUE, v, len);
  nl_nest_end(b, n);
}

// meta load / ct load (set = 0) or meta set / ct set from register 1 (set = 1).
static void keyed(nl_buf_t *b, const char *name, uint32_t key, int set) {
  int ct = strcmp(name, "ct") == 0;
  size_t d, e = expr_begin(b, name, &d);
  nl_put_be32(b, ct ? NFTA_CT_KEY : NFTA_META_KEY, key);
  nl_put_be32(b, set ? (ct ? NFTA_CT_SREG : NFTA_META_SREG) : (ct ? NFTA_CT_DREG : NFTA_META_DREG), NFT_REG_1);
  expr_end(b, e, d);
}

static void cmp(nl_buf_t *b, uint32_t op, const void *v, size_t len) {
  size_t d, e = expr_begin(b, "cmp", &d);
  nl_put_be32(b, NFTA_CMP_SREG, NFT_REG_1);
  nl_put_be32(b, NFTA_CMP_OP, op);
  value(b, NFTA_CMP_DATA, v, len);
  expr_end(b, e, d);
}

// reg 1 = (reg 1 & mask) ^ 0, over len bytes.
static void mask(nl_buf_t *b, const void *m, size_t len) {
  static const unsigned char zero[4];
  size_t d, e = expr_begin(b, "bitwise", &d);
  nl_put_be32(b, NFTA_BITWISE_SREG, NFT_REG_1);
  nl_put_be32(b, NFTA_BITWISE_DREG, NFT_REG_1);
  nl_put_be32(b, NFTA_BITWISE_LEN, (uint32_t)len);
  value(b, NFTA_BITWISE_MASK, m, len);
  value(b, NFTA_BITWISE_XOR, zero, len);
  expr_end(b, e, d);
}

static void payload(nl_buf_t *b, uint32_t base, uint32_t offset, uint32_t len) {
  size_t d, e = expr_begin(b, "payload", &d);
  nl_put_be32(b, NFTA_PAYLOAD_DREG, NFT_REG_1);
  nl_put_be32(b, NFTA_PAYLOAD_BASE, base);
  nl_put_be32(b, NFTA_PAYLOAD_OFFSET, offset);
  nl_put_be32(b, NFTA_PAYLOAD_LEN, len);
  expr_end(b, e, d);
}

static void immediate(nl_buf_t *b, const void *v, size_t len) {
  size_t d, e = expr_begin(b, "immediate", &d);
  nl_put_be32(b, NFTA_IMMEDIATE_DREG, NFT_REG_1);
  value(b, NFTA_IMMEDIATE_DATA, v, len);
  expr_end(b, e, d);
}

static void verdict(nl_buf_t *b, int code) {
  size_t d, e = expr_begin(b, "immediate", &d);
  nl_put_be32(b, NFTA_IMMEDIATE_DREG, NFT_REG_VERDICT);
  size_t data = nl_nest_begin(b, NFTA_IMMEDIATE_DATA);
  size_t v = nl_nest_begin(b, NFTA_DATA_VERDICT);
  nl_put_be32(b, NFTA_VERDICT_CODE, (uint32_t)code);
  nl_nest_end(b, v);
  nl_nest_end(b, data);
  expr_end(b, e, d);
}

/* ---- matches ------------------------------------------------------------------------------------- */

// `meta mark & mask == v` (ct = 0) or `ct mark & mask == v` (ct = 1); marks are host-order u32.
static void mark_is(nl_buf_t *b, int ct, uint32_t m, uint32_t v) {
  keyed(b, ct ? "ct" : "meta", ct ? NFT_CT_MARK : NFT_META_MARK, 0);
  mask(b, &m, sizeof m);
  cmp(b, NFT_CMP_EQ, &v, sizeof v);
}

static void u8_is(nl_buf_t *b, uint32_t meta_key, uint32_t op, uint8_t v) {
  keyed(b, "meta", meta_key, 0);
  cmp(b, op, &v, 1);
}

static void ifname_is_lo(nl_buf_t *b, uint32_t meta_key) {
  static const char lo[IFNAMSIZ] = "lo";
  keyed(b, "meta", meta_key, 0);
  cmp(b, NFT_CMP_EQ, lo, sizeof lo);
}

static void tcp_dport_is(nl_buf_t *b, uint16_t port) {
  uint16_t be = htons(port);
  u8_is(b, NFT_META_L4PROTO, NFT_CMP_EQ, IPPROTO_TCP);
  payload(b, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
  cmp(b, NFT_CMP_EQ, &be, sizeof be);
}

// `tcp flags & (fin | syn | rst | ack) == syn`: a new connection's first packet.
static void syn_only(nl_buf_t *b) {
  const uint8_t m = 0x17, syn = 0x02;
  payload(b, NFT_PAYLOAD_TRANSPORT_HEADER, 13, 1);
  mask(b, &m, 1);
  cmp(b, NFT_CMP_EQ, &syn, 1);
}

// `meta l4proto tcp redirect to :port`
static void redirect_to(nl_buf_t *b, uint16_t port) {
  uint16_t be = htons(port);
  u8_is(b, NFT_META_L4PROTO, NFT_CMP_EQ, IPPROTO_TCP);
  immediate(b, &be, sizeof be);
  size_t d, e = expr_begin(b, "redir", &d);
  nl_put_be32(b, NFTA_REDIR_REG_PROTO_MIN, NFT_REG_1);
  nl_put_be32(b, NFTA_REDIR_FLAGS, NF_NAT_RANGE_PROTO_SPECIFIED);
  expr_end(b, e, d);
}

/* ---- table, chains, rules ------------------------------------------------------------------------ */

typedef struct {
  nl_buf_t *b;
  const char *table;
  size_t msg, exprs;
} rule_t;

static rule_t rule(nl_buf_t *b, const char *table, const char *chain) {
  rule_t r = {.b = b, .table = table};
  r.msg = begin(b, MSG(NFT_MSG_NEWRULE), NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK, NFPROTO_INET, 0);
  nl_put_strz(b, NFTA_RULE_TABLE, table);
  nl_put_strz(b, NFTA_RULE_CHAIN, chain);
  r.exprs = nl_nest_begin(b, NFTA_RULE_EXPRESSIONS);
  return r;
}

static void end_rule(rule_t *r, int code) {
  if (code != 1) verdict(r->b, code); // 1 (NF_ACCEPT) here means "no verdict expression": the rule sets marks
  nl_nest_end(r->b, r->exprs);
  nl_msg_end(r->b, r->msg);
}

static void chain(nl_buf_t *b, const char *table, const char *name, const char *type, uint32_t hook, int32_t prio) {
  size_t m = begin(b, MSG(NFT_MSG_NEWCHAIN), NLM_F_CREATE | NLM_F_ACK, NFPROTO_INET, 0);
  nl_put_strz(b, NFTA_CHAIN_TABLE, table);
  nl_put_strz(b, NFTA_CHAIN_NAME, name);
  size_t h = nl_nest_begin(b, NFTA_CHAIN_HOOK);
  nl_put_be32(b, NFTA_HOOK_HOOKNUM, hook);
  nl_put_be32(b, NFTA_HOOK_PRIORITY, (uint32_t)prio);
  nl_nest_end(b, h);
  nl_put_be32(b, NFTA_CHAIN_POLICY, NF_ACCEPT);
  nl_put_strz(b, NFTA_CHAIN_TYPE, type);
  nl_msg_end(b, m);
}

static void table_msg(nl_buf_t *b, const char *table, uint16_t type) {
  size_t m = begin(b, MSG(type), (uint16_t)((type == NFT_MSG_NEWTABLE ? NLM_F_CREATE : 0) | NLM_F_ACK), NFPROTO_INET, 0);
  nl_put_strz(b, NFTA_TABLE_NAME, table);
  nl_msg_end(b, m);
}

// `ip saddr A return` / `ip6 saddr A return` in prerouting_nat (the source address is at 12 in IPv4, 8 in IPv6).
static void probe_returns(nl_buf_t *b, const char *table, uint8_t nfproto, const unsigned char *addr, uint32_t len) {
  rule_t r = rule(b, table, "prerouting_nat");
  u8_is(b, NFT_META_NFPROTO, NFT_CMP_EQ, nfproto);
  payload(b, NFT_PAYLOAD_NETWORK_HEADER, nfproto == NFPROTO_IPV4 ? 12 : 8, len);
  cmp(b, NFT_CMP_EQ, addr, len);
  end_rule(&r, NFT_RETURN);
}

enum { NO_VERDICT = 1, PRIO_MANGLE = -150, PRIO_DSTNAT = -100, PRIO_FILTER = 0 };

uint32_t capture_nft_batch(nl_buf_t *b, const capture_spec_t *s) {
  const char *t = s->table;
  nl_msg_end(b, begin(b, NFNL_MSG_BATCH_BEGIN, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES));
  table_msg(b, t, NFT_MSG_NEWTABLE);
  table_msg(b, t, NFT_MSG_DELTABLE);
  table_msg(b, t, NFT_MSG_NEWTABLE);
  chain(b, t, "prerouting_mangle", "filter", NF_INET_PRE_ROUTING, PRIO_MANGLE);
  chain(b, t, "output_mangle", "route", NF_INET_LOCAL_OUT, PRIO_MANGLE);
  chain(b, t, "prerouting_nat", "nat", NF_INET_PRE_ROUTING, PRIO_DSTNAT);
  chain(b, t, "prerouting_hold", "filter", NF_INET_PRE_ROUTING, PRIO_FILTER);
  chain(b, t, "output_nat", "nat", NF_INET_LOCAL_OUT, PRIO_DSTNAT);

  // The agent's connection to the app (spoofed client source) marks its conntrack entry...
  rule_t r = rule(b, t, "prerouting_mangle");
  mark_is(b, 0, s->mark_mask, s->agent_mark);
  immediate(b, &s->connmark, sizeof s->connmark);
  keyed(b, "ct", NFT_CT_MARK, 1);
  end_rule(&r, NO_VERDICT);
  // ...and the app's replies carry it as fwmark, which the policy rule routes back to the agent.
  r = rule(b, t, "output_mangle");
  mark_is(b, 0, s->mark_mask, s->agent_mark);
  end_rule(&r, NFT_RETURN);
  r = rule(b, t, "output_mangle");
  mark_is(b, 1, s->mark_mask, s->connmark);
  immediate(b, &s->connmark, sizeof s->connmark);
  keyed(b, "meta", NFT_META_MARK, 1);
  end_rule(&r, NO_VERDICT);

  // Inbound: everything but loopback, the agent's own, probes and HBONE goes to the inbound port.
  r = rule(b, t, "prerouting_nat");
  u8_is(b, NFT_META_L4PROTO, NFT_CMP_NEQ, IPPROTO_TCP);
  end_rule(&r, NFT_RETURN);
  r = rule(b, t, "prerouting_nat");
  ifname_is_lo(b, NFT_META_IIFNAME);
  end_rule(&r, NFT_RETURN);
  r = rule(b, t, "prerouting_nat");
  mark_is(b, 0, s->mark_mask, s->agent_mark);
  end_rule(&r, NFT_RETURN);
  for (size_t k = 0; k < s->nprobes4 && k < CAPTURE_MAX_PROBES; k++) probe_returns(b, t, NFPROTO_IPV4, s->probes4[k], 4);
  for (size_t k = 0; k < s->nprobes6 && k < CAPTURE_MAX_PROBES; k++) probe_returns(b, t, NFPROTO_IPV6, s->probes6[k], 16);
  r = rule(b, t, "prerouting_nat");
  tcp_dport_is(b, s->hbone_port);
  end_rule(&r, NFT_RETURN);
  r = rule(b, t, "prerouting_nat");
  redirect_to(b, s->inbound_port);
  end_rule(&r, NO_VERDICT);

  // While no agent listens (agent restart), SYNs to its ports are dropped rather than reset: clients
  // retransmit and connect once the new agent's listeners are up. Per port: a SYN that finds a
  // socket passes, any other SYN is dropped (the ports are disjoint, so the order per port suffices).
  const uint16_t ports[3] = {s->outbound_port, s->inbound_port, s->hbone_port};
  for (size_t k = 0; k < 3; k++) {
    const uint8_t one = 1;
    r = rule(b, t, "prerouting_hold");
    tcp_dport_is(b, ports[k]);
    syn_only(b);
    size_t d, e = expr_begin(b, "socket", &d);
    nl_put_be32(b, NFTA_SOCKET_KEY, NFT_SOCKET_TRANSPARENT);
    nl_put_be32(b, NFTA_SOCKET_DREG, NFT_REG_1);
    expr_end(b, e, d);
    cmp(b, NFT_CMP_LTE, &one, 1);
    end_rule(&r, NFT_RETURN);
    r = rule(b, t, "prerouting_hold");
    tcp_dport_is(b, ports[k]);
    syn_only(b);
    end_rule(&r, NF_DROP);
  }

  // Outbound: everything but the agent's own, loopback and local destinations goes to the outbound port.
  r = rule(b, t, "output_nat");
  u8_is(b, NFT_META_L4PROTO, NFT_CMP_NEQ, IPPROTO_TCP);
  end_rule(&r, NFT_RETURN);
  r = rule(b, t, "output_nat");
  mark_is(b, 0, s->mark_mask, s->agent_mark);
  end_rule(&r, NFT_RETURN);
  r = rule(b, t, "output_nat");
  ifname_is_lo(b, NFT_META_OIFNAME);
  end_rule(&r, NFT_RETURN);
  r = rule(b, t, "output_nat");
  {
    const uint32_t local = RTN_LOCAL;
    size_t d, e = expr_begin(b, "fib", &d);
    nl_put_be32(b, NFTA_FIB_DREG, NFT_REG_1);
    nl_put_be32(b, NFTA_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
    nl_put_be32(b, NFTA_FIB_FLAGS, NFTA_FIB_F_DADDR);
    expr_end(b, e, d);
    cmp(b, NFT_CMP_EQ, &local, sizeof local);
  }
  end_rule(&r, NFT_RETURN);
  r = rule(b, t, "output_nat");
  redirect_to(b, s->outbound_port);
  end_rule(&r, NO_VERDICT);

  uint32_t last = b->seq;
  nl_msg_end(b, begin(b, NFNL_MSG_BATCH_END, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES));
  return last;
}
