// The pod's IPv4 default gateway (where kubelet probes come from), read with one rtnetlink route dump in
// its netns: what `ip -j route show default` answered, without a process. ADD needs it only when the
// previous CNI result named no gateway.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "capture.h"
#include "netns_enter.h"

// The gateway of a main-table default unicast route in this RTM_NEWROUTE, or 0.
static int gateway_of(const struct nlmsghdr *h, unsigned char gw[4]) {
  if (h->nlmsg_type != RTM_NEWROUTE || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct rtmsg))) return 0;
  const struct rtmsg *rt = NLMSG_DATA(h);
  if (rt->rtm_family != AF_INET || rt->rtm_dst_len != 0 || rt->rtm_type != RTN_UNICAST) return 0;
  uint32_t table = rt->rtm_table;
  int found = 0;
  int left = (int)RTM_PAYLOAD(h);
  for (const struct rtattr *a = RTM_RTA(rt); RTA_OK(a, left); a = RTA_NEXT(a, left)) {
    if (a->rta_type == RTA_TABLE && RTA_PAYLOAD(a) == 4) memcpy(&table, RTA_DATA(a), 4);
    if (a->rta_type == RTA_GATEWAY && RTA_PAYLOAD(a) == 4) {
      memcpy(gw, RTA_DATA(a), 4);
      found = 1;
    }
  }
  return found && table == RT_TABLE_MAIN;
}

int capture_default_gateway(const char *netns_path, char *out, size_t outlen, capture_err_t *err) {
  err->err = 0;
  err->step = "";
  if (netns_path == NULL || netns_path[0] == '\0' || outlen < INET_ADDRSTRLEN) {
    err->err = EINVAL;
    err->step = "arguments";
    return -1;
  }
  int entered, rc = enter_ns(netns_path, &entered);
  if (rc < 0) {
    err->err = -rc;
    err->step = "setns";
    return -1;
  }
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  int e = errno;
  leave_ns(entered);
  if (fd < 0) {
    err->err = e;
    err->step = "socket(AF_NETLINK)";
    return -1;
  }
  // The dump is produced as it is read; a second is far more than a pod's few routes take.
  struct timeval tv = {.tv_sec = 1};
  (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  struct {
    struct nlmsghdr h;
    struct rtmsg rt;
  } req = {.h = {.nlmsg_len = sizeof req, .nlmsg_type = RTM_GETROUTE, .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1},
           .rt = {.rtm_family = AF_INET}};
  static _Thread_local uint32_t words[8192]; // 32 KiB, aligned for struct nlmsghdr
  unsigned char gw[4];
  int found = 0, done = 0;
  e = send(fd, &req, sizeof req, 0) == (ssize_t)sizeof req ? 0 : errno ? errno : EMSGSIZE;
  while (e == 0 && !done) {
    ssize_t n = recv(fd, words, sizeof words, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      e = n < 0 ? errno : EPROTO;
      break;
    }
    int left = (int)n;
    for (const struct nlmsghdr *h = (const struct nlmsghdr *)words; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
      if (h->nlmsg_type == NLMSG_DONE) done = 1;
      else if (h->nlmsg_type == NLMSG_ERROR) {
        int code = EPROTO;
        if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(int))) memcpy(&code, NLMSG_DATA(h), sizeof code);
        e = code < 0 ? -code : EPROTO;
        done = 1;
      } else if (!found && gateway_of(h, gw)) found = 1;
    }
  }
  close(fd);
  if (e != 0) {
    err->err = e;
    err->step = "rtnetlink";
    return -1;
  }
  if (!found) return 0;
  return inet_ntop(AF_INET, gw, out, (socklen_t)outlen) != NULL ? 1 : 0;
}
