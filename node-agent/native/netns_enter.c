#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "netns_enter.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

static int home_ns = -1; // the thread's own netns, opened once (only the JS thread enters others)

int enter_ns(const char *path, int *entered) {
  *entered = 0;
  if (path[0] == '\0') return 0;
  if (home_ns < 0) {
    home_ns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (home_ns < 0) return -errno;
  }
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  int rc = setns(fd, CLONE_NEWNET);
  int err = errno;
  close(fd);
  if (rc < 0) return -err;
  *entered = 1;
  return 0;
}

void leave_ns(int entered) {
  // Going home cannot fail unless the kernel is broken; abort rather than run the event loop elsewhere.
  if (entered && setns(home_ns, CLONE_NEWNET) < 0) abort();
}
