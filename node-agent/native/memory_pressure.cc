// Asks V8 to give its free heap pages back (node-agent/memory-trim.ts calls it after a burst, with the
// malloc trim). After load V8 keeps the pages its young generation grew to and the pages it freed pooled
// for reuse: measured with bench/conn-memory, ~60 MiB of anonymous 256 KiB pages stayed resident 60 s
// after load with 14 MiB of heap in use, and a plain forced GC did not release them. A critical
// memory-pressure notification runs a full GC that shrinks the young generation and frees pooled pages.
#include <node_api.h>
#include <v8.h>

#include "memory_trim.h"

extern "C" napi_value ReleaseV8Memory(napi_env env, napi_callback_info info) {
  (void)info;
  v8::Isolate *isolate = v8::Isolate::GetCurrent();
  if (isolate != nullptr) isolate->MemoryPressureNotification(v8::MemoryPressureLevel::kCritical);
  napi_value out;
  napi_get_undefined(env, &out);
  return out;
}
