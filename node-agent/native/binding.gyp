{
  "targets": [
    {
      "target_name": "weft_netns",
      "sources": ["weft_netns.c", "netns_enter.c", "capture.c", "capture_nft.c", "capture_route.c", "capture_gateway.c", "nl_msg.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-std=gnu11"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"]
    }
  ]
}
