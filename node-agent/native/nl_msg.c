// See nl_msg.h. Offsets, not pointers, name open messages and nests, so nothing dangles; a length field is
// written only when the whole message or nest fitted.
#include "nl_msg.h"

#include <errno.h>
#include <linux/netlink.h>
#include <string.h>
#include <sys/socket.h>

#define ALIGN4(n) (((n) + 3) & ~(size_t)3)

void nl_init(nl_buf_t *b, unsigned char *p, size_t cap) {
  b->p = p;
  b->len = 0;
  b->cap = cap;
  b->seq = 0;
  b->over = 0;
}

// Room for n bytes (aligned to 4, zeroed); NULL and `over` set when they do not fit.
static unsigned char *room(nl_buf_t *b, size_t n) {
  size_t a = ALIGN4(n);
  if (b->over || a < n || a > b->cap - b->len) {
    b->over = 1;
    return NULL;
  }
  unsigned char *at = b->p + b->len;
  memset(at, 0, a);
  b->len += a;
  return at;
}

size_t nl_msg_begin(nl_buf_t *b, uint16_t type, uint16_t flags, const void *hdr, size_t hdrlen) {
  size_t at = b->len;
  unsigned char *h = room(b, NLMSG_HDRLEN);
  unsigned char *x = room(b, hdrlen);
  if (h == NULL || x == NULL) return at;
  struct nlmsghdr n = {.nlmsg_len = 0, .nlmsg_type = type, .nlmsg_flags = flags, .nlmsg_seq = ++b->seq, .nlmsg_pid = 0};
  memcpy(h, &n, sizeof n);
  memcpy(x, hdr, hdrlen);
  return at;
}

void nl_msg_end(nl_buf_t *b, size_t at) {
  if (b->over) return;
  uint32_t len = (uint32_t)(b->len - at);
  memcpy(b->p + at, &len, sizeof len); // nlmsg_len is the header's first field
}

void nl_put(nl_buf_t *b, uint16_t type, const void *data, size_t len) {
  if (len > 0xffff - NLA_HDRLEN) {
    b->over = 1;
    return;
  }
  unsigned char *at = room(b, NLA_HDRLEN + len);
  if (at == NULL) return;
  struct nlattr a = {.nla_len = (uint16_t)(NLA_HDRLEN + len), .nla_type = type};
  memcpy(at, &a, sizeof a);
  if (len > 0) memcpy(at + NLA_HDRLEN, data, len);
}

void nl_put_u32(nl_buf_t *b, uint16_t type, uint32_t v) { nl_put(b, type, &v, sizeof v); }

void nl_put_be32(nl_buf_t *b, uint16_t type, uint32_t v) {
  unsigned char be[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8), (unsigned char)v};
  nl_put(b, type, be, sizeof be);
}

void nl_put_strz(nl_buf_t *b, uint16_t type, const char *s) { nl_put(b, type, s, strlen(s) + 1); }

size_t nl_nest_begin(nl_buf_t *b, uint16_t type) {
  size_t at = b->len;
  unsigned char *h = room(b, NLA_HDRLEN);
  if (h == NULL) return at;
  struct nlattr a = {.nla_len = 0, .nla_type = (uint16_t)(type | NLA_F_NESTED)};
  memcpy(h, &a, sizeof a);
  return at;
}

void nl_nest_end(nl_buf_t *b, size_t at) {
  if (b->over) return;
  size_t len = b->len - at;
  if (len > 0xffff) {
    b->over = 1;
    return;
  }
  uint16_t l16 = (uint16_t)len;
  memcpy(b->p + at, &l16, sizeof l16); // nla_len is the attribute's first field
}

int nl_talk(int fd, const nl_buf_t *b, uint32_t last, uint32_t eexist_ok) {
  if (b->over) return -E2BIG;
  ssize_t sent = send(fd, b->p, b->len, 0);
  if (sent < 0) return -errno;
  if ((size_t)sent != b->len) return -EMSGSIZE;
  // Aligned for struct nlmsghdr; acks are small (NETLINK_CAP_ACK), 16 KiB holds many.
  static _Thread_local uint32_t words[4096];
  int failed = 0, acked = 0;
  for (;;) {
    ssize_t n = recv(fd, words, sizeof words, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n < 0) return -errno;
    if (n == 0) break;
    int left = (int)n;
    for (const struct nlmsghdr *h = (const struct nlmsghdr *)words; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
      if (h->nlmsg_type != NLMSG_ERROR) continue;
      if (h->nlmsg_len < NLMSG_LENGTH(sizeof(int))) return -EPROTO;
      int err;
      memcpy(&err, NLMSG_DATA(h), sizeof err);
      if (err == -EEXIST && h->nlmsg_seq == eexist_ok) err = 0;
      if (err != 0 && failed == 0) failed = err;
      if (h->nlmsg_seq == last) acked = 1;
    }
  }
  if (failed != 0) return failed < 0 ? failed : -EPROTO;
  return acked ? 0 : -EPROTO;
}
