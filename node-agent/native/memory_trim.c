// Gives memory that glibc's malloc holds free back to the kernel (node-agent/memory-trim.ts decides when).
// After a burst of connections or traffic, the native side of Node (HTTP/2 sessions and streams, TLS,
// socket handles) has freed what it allocated, but glibc keeps free chunks in the middle of its heaps
// and only trims the top of each: the agent's RSS stayed ~45 MiB above idle for minutes after load
// (bench/conn-memory). malloc_trim(0) releases the free pages of every arena (madvise), keeping the
// chunks themselves usable. Other C libraries have no such call: both functions report "unsupported".
#include <node_api.h>
#include <stdint.h>

#include "memory_trim.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

// mallocFreeBytes() -> number | undefined: bytes free inside malloc's arenas (mallinfo2 fordblks).
napi_value MallocFreeBytes(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
#ifdef __GLIBC__
  struct mallinfo2 mi = mallinfo2();
  napi_create_double(env, (double)mi.fordblks, &out);
#else
  napi_get_undefined(env, &out);
#endif
  return out;
}

// mallocTrim() -> boolean: true when memory was released to the kernel (false also without glibc).
napi_value MallocTrim(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
#ifdef __GLIBC__
  napi_get_boolean(env, malloc_trim(0) == 1, &out);
#else
  napi_get_boolean(env, false, &out);
#endif
  return out;
}
