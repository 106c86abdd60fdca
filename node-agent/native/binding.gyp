{
  "targets": [
    {
      "target_name": "weft_netns",
      "sources": ["weft_netns.c", "netns_enter.c", "capture.c", "capture_nft.c", "capture_route.c", "capture_gateway.c", "nl_msg.c", "memory_trim.c", "memory_pressure.cc"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "cflags_c": ["-std=gnu11"],
      "cflags_cc": ["-std=gnu++17"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"]
    }
  ]
}
