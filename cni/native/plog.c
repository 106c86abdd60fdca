#define _GNU_SOURCE
#include "plog.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "text.h"

#define LINE_MAX_BYTES (4 * 1024 * 1024)

void plog_init(plog_t *log, int min, const char *file) {
  log->min = min;
  log->file = file;
  buf_init(&log->bindings, 64 * 1024);
}

void plog_free(plog_t *log) { buf_free(&log->bindings); }

void plog_bind(plog_t *log, const char *key, const char *val, size_t n) {
  buf_printf(&log->bindings, ",\"%s\":", key);
  text_json_quote(&log->bindings, val, n);
}

int write_all(int fd, const char *s, size_t n) {
  int64_t give_up = now_ms() + 5000;
  while (n > 0) {
    ssize_t w = write(fd, s, n);
    if (w > 0) {
      s += w;
      n -= (size_t)w;
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) {
      /* A reader that is slow (a non-blocking pipe inherited from a Node parent): wait, bounded. */
      int64_t left = give_up - now_ms();
      if (left <= 0) return -1;
      struct pollfd p = {.fd = fd, .events = POLLOUT};
      (void)poll(&p, 1, (int)left);
      continue;
    }
    return -1;
  }
  return 0;
}

static const char *level_name(int level) {
  switch (level) {
    case LOG_DEBUG: return "debug";
    case LOG_INFO: return "info";
    case LOG_WARN: return "warn";
    default: return "error";
  }
}

void plog_write(plog_t *log, int level, const char *msg, const char *fields) {
  if (level < log->min) return;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char when[40];
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
  buf_t line;
  buf_init(&line, LINE_MAX_BYTES);
  buf_printf(&line, "{\"time\":\"%s.%03ldZ\",\"level\":\"%s\",\"name\":\"weft-cni\"", when, ts.tv_nsec / 1000000, level_name(level));
  buf_put(&line, buf_str(&log->bindings), log->bindings.len);
  if (fields != NULL) buf_puts(&line, fields);
  buf_puts(&line, ",\"msg\":");
  text_json_quote(&line, msg, strlen(msg));
  buf_puts(&line, "}\n");
  if (line.over) {
    buf_free(&line);
    return;
  }
  int written = 0;
  if (log->file != NULL) {
    int fd = open(log->file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
    if (fd >= 0) {
      written = write_all(fd, line.p, line.len) == 0;
      close(fd);
    }
  }
  /* No file, or an unwritable one: stderr. A closed stderr must not fail the pod. */
  if (!written) (void)write_all(2, line.p, line.len);
  buf_free(&line);
}
