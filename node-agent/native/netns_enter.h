// Entering another network namespace on the calling thread and coming back (setns): shared by the N-API
// functions (weft_netns.c) and the netlink capture (capture.c).
#ifndef WEFT_NETNS_ENTER_H
#define WEFT_NETNS_ENTER_H

// Enters `path` (empty: stay). Returns 0, or -errno. The caller must call leave_ns when *entered == 1.
int enter_ns(const char *path, int *entered);
// Back to the thread's own netns; aborts if that fails (the event loop must never run elsewhere).
void leave_ns(int entered);

#endif
