// Drives node-agent/native/capture*.c and nl_msg.c without Node, for the AddressSanitizer/LeakSanitizer
// test (test/node-agent/node-agent-native-capture-asan.test.ts):
//   capture-harness install NETNS [PROBE...]   installs the capture; prints "ok" or "error STEP ERRNO"
//   capture-harness gateway NETNS              prints the netns' IPv4 default gateway, "none", or "error STEP ERRNO"
//   capture-harness bounds                     builds the nft batch and the route messages into buffers of
//                                              every size from 0 up to the needed one (each its own heap
//                                              block, so a write past it is an ASan report) and checks
//                                              that a short buffer is refused and a large one gives the
//                                              same bytes
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"

static void spec_init(capture_spec_t *s) {
  memset(s, 0, sizeof *s);
  snprintf(s->table, sizeof s->table, "weft");
  s->agent_mark = 0x539;
  s->mark_mask = 0xfff;
  s->connmark = 0x111;
  s->route_table = 100;
  s->rule_pref = 32764;
  s->outbound_port = 15001;
  s->inbound_port = 15006;
  s->hbone_port = 15008;
}

typedef uint32_t (*build_fn)(nl_buf_t *b, const capture_spec_t *s);

static uint32_t route(nl_buf_t *b, const capture_spec_t *s) {
  uint32_t rule_seq;
  return capture_route_msgs(b, s, &rule_seq);
}

static int bounds(build_fn build, const capture_spec_t *s, const char *what) {
  size_t big = 1 << 20;
  unsigned char *ref = malloc(big);
  if (ref == NULL) return 1;
  nl_buf_t b;
  nl_init(&b, ref, big);
  build(&b, s);
  if (b.over || b.len == 0) {
    printf("%s: the reference build failed\n", what);
    free(ref);
    return 1;
  }
  size_t need = b.len;
  for (size_t cap = 0; cap <= need; cap++) {
    unsigned char *p = malloc(cap > 0 ? cap : 1);
    if (p == NULL) return 1;
    nl_init(&b, p, cap);
    build(&b, s);
    int fits = cap == need;
    if (b.over == fits || (fits && (b.len != need || memcmp(p, ref, need) != 0))) {
      printf("%s: cap %zu of %zu: over=%d len=%zu\n", what, cap, need, b.over, b.len);
      free(p);
      free(ref);
      return 1;
    }
    free(p);
  }
  printf("%s: %zu bytes, every shorter buffer refused\n", what, need);
  free(ref);
  return 0;
}

int main(int argc, char **argv) {
  capture_spec_t s;
  spec_init(&s);
  capture_err_t err = {0, ""};
  if (argc >= 2 && strcmp(argv[1], "bounds") == 0) {
    const char *probes[] = {"10.0.0.1", "10.0.0.2", "192.168.255.254", "fd00::1", "2001:db8::ffff:1", "::1", "1.2.3.4", "4.3.2.1"};
    for (size_t k = 0; k < sizeof probes / sizeof probes[0]; k++) capture_add_probe(&s, probes[k], &err);
    return bounds(capture_nft_batch, &s, "nft batch") | bounds(route, &s, "route messages");
  }
  if (argc >= 3 && strcmp(argv[1], "install") == 0) {
    for (int k = 3; k < argc; k++) {
      if (capture_add_probe(&s, argv[k], &err) < 0) {
        printf("error %s %s\n", err.step, strerrorname_np(err.err));
        return 0;
      }
    }
    if (capture_install(argv[2], &s, &err) < 0) printf("error %s %s\n", err.step, strerrorname_np(err.err));
    else printf("ok\n");
    return 0;
  }
  if (argc == 3 && strcmp(argv[1], "gateway") == 0) {
    char gw[64];
    int found = capture_default_gateway(argv[2], gw, sizeof gw, &err);
    if (found < 0) printf("error %s %s\n", err.step, strerrorname_np(err.err));
    else printf("%s\n", found ? gw : "none");
    return 0;
  }
  fprintf(stderr, "usage: capture-harness install NETNS [PROBE...] | gateway NETNS | bounds\n");
  return 2;
}
