// The policy routing of source-IP preservation as two rtnetlink requests, what `ip -force -batch` ran:
//   rule add fwmark <connmark>/<mask> lookup <table> pref <pref>   (EEXIST: already there, fine)
//   route replace local 0.0.0.0/0 dev lo table <table>
#include <linux/fib_rules.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include "capture.h"

// The loopback device is ifindex 1 in every network namespace (LOOPBACK_IFINDEX in the kernel).
#define LO_IFINDEX 1

uint32_t capture_route_msgs(nl_buf_t *b, const capture_spec_t *s, uint32_t *rule_seq) {
  struct fib_rule_hdr fr = {.family = AF_INET, .table = s->route_table < 256 ? (uint8_t)s->route_table : RT_TABLE_UNSPEC, .action = FR_ACT_TO_TBL};
  // An explicit priority makes a second add fail with EEXIST instead of adding a duplicate.
  size_t m = nl_msg_begin(b, RTM_NEWRULE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, &fr, sizeof fr);
  *rule_seq = b->seq;
  nl_put_u32(b, FRA_FWMARK, s->connmark);
  nl_put_u32(b, FRA_FWMASK, s->mark_mask);
  nl_put_u32(b, FRA_PRIORITY, s->rule_pref);
  nl_put_u32(b, FRA_TABLE, s->route_table);
  nl_msg_end(b, m);

  struct rtmsg rt = {.rtm_family = AF_INET, .rtm_table = s->route_table < 256 ? (unsigned char)s->route_table : RT_TABLE_UNSPEC,
                     .rtm_protocol = RTPROT_BOOT, .rtm_scope = RT_SCOPE_HOST, .rtm_type = RTN_LOCAL};
  m = nl_msg_begin(b, RTM_NEWROUTE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE, &rt, sizeof rt);
  nl_put_u32(b, RTA_TABLE, s->route_table);
  nl_put_u32(b, RTA_OIF, LO_IFINDEX);
  nl_msg_end(b, m);
  return b->seq;
}
