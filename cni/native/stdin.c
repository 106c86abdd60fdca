/* The runtime's config on fd 0, bounded in size and in time. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "clock.h"
#include "plugin.h"

static int stdin_error(werr_t *err, const char *reason) {
  werr_set(err, "ERR_WEFT_CNI_STDIN_IO");
  werr_param_str(err, "reason", reason);
  return -1;
}

/* Character devices with these majors are terminals (tty, console/ptmx, pts): nothing to read there. */
static int is_terminal(const struct stat *st) {
  if (!S_ISCHR(st->st_mode)) return 0;
  unsigned major = major(st->st_rdev);
  return major == 4 || major == 5 || (major >= 136 && major <= 143);
}

int read_stdin(buf_t *raw, long timeout_ms, long max_bytes, werr_t *err) {
  struct stat st;
  if (fstat(0, &st) < 0) return 0; /* no fd 0 at all: nothing was sent */
  if (is_terminal(&st)) return 0;  /* VERSION by hand */
  int64_t deadline = now_ms() + timeout_ms;
  char why[160];
  for (;;) {
    int64_t left = deadline - now_ms();
    struct pollfd p = {.fd = 0, .events = POLLIN};
    int n = poll(&p, 1, left > 0 ? (int)left : 0);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) {
      snprintf(why, sizeof why, "stdin was not closed within %ld ms", timeout_ms);
      return stdin_error(err, why);
    }
    /* Room for one byte past the cap, so that a larger stdin is noticed without reading it all. */
    size_t room = (size_t)max_bytes + 1 - raw->len;
    size_t chunk = room < 64 * 1024 ? room : 64 * 1024;
    char *at = buf_reserve(raw, chunk);
    if (at == NULL) return stdin_error(err, "out of memory");
    ssize_t r = read(0, at, chunk);
    if (r < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      char tmp[32];
      const char *name = strerrorname_np(errno);
      if (name == NULL) snprintf(tmp, sizeof tmp, "E%d", errno), name = tmp;
      snprintf(why, sizeof why, "%s: %s, read", name, strerror(errno));
      return stdin_error(err, why);
    }
    if (r == 0) return 0;
    buf_commit(raw, (size_t)r);
    if (raw->len > (size_t)max_bytes) {
      snprintf(why, sizeof why, "stdin is larger than %ld bytes", max_bytes);
      return stdin_error(err, why);
    }
  }
}
