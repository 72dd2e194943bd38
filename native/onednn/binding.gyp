{
  # oneDNN is pinned to the 2.x API (Debian 12 ships libdnnl 2.6); 3.x removed the op descriptors used here.
  "variables": {
    "dnnl_root%": "",
    # 1: oneDNN is the private copy scripts/build-native.mjs fetched into deps/ (include/, lib/).
    "dnnl_private%": "0"
  },
  "targets": [
    {
      "target_name": "onednn",
      "sources": [
        "src/addon.cc",
        "src/conv.cc",
        "src/conv8.cc",
        "src/conv3x3.cc",
        "src/wino3x3.cc",
        "src/wino8.cc",
        "src/bnact.cc",
        "src/update.cc",
        "src/eltwise.cc",
        "src/broadcast.cc"
      ],
      # dnnl.hpp reports failures as exceptions, which node-gyp turns off by default.
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      # -ffp-contract=off: a*b+c stays two roundings, as TF.js's separate ops round (update.cc is bit-exact).
      "cflags_cc": ["-std=c++17", "-O3", "-ffp-contract=off", "-fexceptions", "-fopenmp", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "ldflags": ["-fopenmp"],
      "libraries": ["-ldnnl"],
      "defines": ["NAPI_VERSION=8"],
      "conditions": [
        ["dnnl_root!=''", {
          "include_dirs": ["<(dnnl_root)/include"],
          "libraries": ["-L<(dnnl_root)/lib", "-Wl,-rpath,<(dnnl_root)/lib"]
        }],
        ["dnnl_private==1", {
          "include_dirs": ["deps/include"],
          "libraries": ["-L<(module_root_dir)/deps/lib"],
          # Found relative to the addon (build/Release/), so the folder can move. DT_RPATH rather than RUNPATH:
          # only RPATH also serves libdnnl's own dependencies (its private libOpenCL.so.1).
          "ldflags": ["-Wl,-rpath,'$$ORIGIN/../../deps/lib'", "-Wl,--disable-new-dtags"]
        }]
      ]
    }
  ]
}
