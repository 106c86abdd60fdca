{
  "targets": [
    {
      "target_name": "weft_netns",
      "sources": ["weft_netns.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-std=gnu11"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"]
    }
  ]
}
