#ifndef WEFT_MEMORY_TRIM_H
#define WEFT_MEMORY_TRIM_H
#include <node_api.h>

#ifdef __cplusplus
extern "C" {
#endif
napi_value MallocFreeBytes(napi_env env, napi_callback_info info);
napi_value MallocTrim(napi_env env, napi_callback_info info);
napi_value ReleaseV8Memory(napi_env env, napi_callback_info info);
#ifdef __cplusplus
}
#endif

#endif
