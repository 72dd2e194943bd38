{
  # oneDNN is pinned to the 2.x API (Debian 12 ships libdnnl 2.6); 3.x removed the op descriptors used here.
  "variables": {
    "dnnl_root%": ""
  },
  "targets": [
    {
      "target_name": "onednn",
      "sources": [
        "src/addon.cc",
        "src/conv.cc",
        "src/bnorm.cc",
        "src/eltwise.cc",
        "src/broadcast.cc"
      ],
      # dnnl.hpp reports failures as exceptions, which node-gyp turns off by default.
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O3", "-fexceptions", "-fopenmp", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "ldflags": ["-fopenmp"],
      "libraries": ["-ldnnl"],
      "defines": ["NAPI_VERSION=8"],
      "conditions": [
        ["dnnl_root!=''", {
          "include_dirs": ["<(dnnl_root)/include"],
          "libraries": ["-L<(dnnl_root)/lib", "-Wl,-rpath,<(dnnl_root)/lib"]
        }]
      ]
    }
  ]
}
