// A netlink message builder over one caller-owned buffer with a hard size: every append checks the room
// first and, when it does not fit, writes nothing and sets `over` (the message is then never sent).
#ifndef WEFT_NL_MSG_H
#define WEFT_NL_MSG_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  unsigned char *p;
  size_t len, cap;
  uint32_t seq; // of the last message begun (the first is 1)
  int over;
} nl_buf_t;

void nl_init(nl_buf_t *b, unsigned char *p, size_t cap);
// Starts a message: nlmsghdr (type, flags, next seq) and the family header `hdr`; returns its offset.
size_t nl_msg_begin(nl_buf_t *b, uint16_t type, uint16_t flags, const void *hdr, size_t hdrlen);
void nl_msg_end(nl_buf_t *b, size_t at);
void nl_put(nl_buf_t *b, uint16_t type, const void *data, size_t len);
void nl_put_u32(nl_buf_t *b, uint16_t type, uint32_t v); // host order (rtnetlink)
void nl_put_be32(nl_buf_t *b, uint16_t type, uint32_t v); // network order (nf_tables)
void nl_put_strz(nl_buf_t *b, uint16_t type, const char *s);
size_t nl_nest_begin(nl_buf_t *b, uint16_t type);
void nl_nest_end(nl_buf_t *b, size_t at);

// Sends the buffer on a netlink socket and reads every answer the kernel queued for it (netlink requests
// to the kernel are handled inside send(), so the acks are there when it returns; nft reads them the same
// way). 0 when the message with seq `last` was acknowledged and none failed; else -errno of the first
// failure (-EPROTO when the last ack is missing). An EEXIST answer to message `eexist_ok` counts as success.
int nl_talk(int fd, const nl_buf_t *b, uint32_t last, uint32_t eexist_ok);

#endif
