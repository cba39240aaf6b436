# The native addon (native/oncrpc_native.c, Linux only): built by `npm ci` / `npm install` through
# scripts/build-native.sh (node-gyp against the headers installed with Node; nothing is downloaded).
{
  "targets": [
    {
      "target_name": "oncrpc_native",
      "sources": ["native/oncrpc_native.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"]
    }
  ]
}
