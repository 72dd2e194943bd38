// CPU time of our 3x3 stride-1 'same' 16->16 / 32->32 kernels (native/onednn/src/conv3x3.cc) against the oneDNN
// implementation the addon would otherwise run (forward: brgconv on 32x32 maps, else the first jit kernel, as
// conv.cc chooseImpl; the gradients: oneDNN's first choice), per direction, 1 thread: "hot" calls one buffer set over and over, "cycled"
// walks through enough buffer sets (>= 3x the 32 MiB L3) that every call reads its inputs from DRAM, as in a
// training step (as bench/conv8-cold.cc). oneDNN gets its weights already in its blocked layout (no per-call
// reorder, which the addon pays), so the comparison favours it. Also checks that ours:avx2 and ours:avx512 give
// the same bits and that both match a naive double-precision convolution on odd sizes. Not part of the build:
//
// Also times our Winograd F(2x2,3x3) and F(4x4,3x3) in all three directions (native/onednn/src/wino3x3.cc), checks
// them against the double-precision reference (max relative error) and their avx2 against avx512 bits.
//
//   g++ -O3 -ffp-contract=off -fopenmp -Inative/onednn/src bench/conv3x3.cc native/onednn/src/conv3x3.cc \
//     native/onednn/src/wino3x3.cc native/onednn/src/conv8.cc -ldnnl -o /tmp/conv3x3 && \
//     OMP_NUM_THREADS=1 /tmp/conv3x3 [NAME-PART]
#include <dnnl.hpp>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "conv3x3-reference.h"
#include "conv3x3.h"
#include "wino3x3.h"
#include "cpu-seconds.h"
#include "random-values.h"

namespace {

using dnnl::algorithm;
using dnnl::memory;
using onednn_addon::Conv8Isa;
using tag = memory::format_tag;
using dt = memory::data_type;


// Best of 5 rounds; each round makes `calls` calls, call k on buffer set k % sets.
double bestOf(int calls, const std::function<void(int)>& call) {
  double best = 1e9;
  for (int round = 0; round < 5; ++round) {
    const double start = cpuSeconds();
    for (int k = 0; k < calls; ++k) call(k);
    best = std::min(best, (cpuSeconds() - start) / calls);
  }
  return best;
}

// Both instruction sets on odd sizes against the reference; 1 thread and (if OpenMP allows) 2 threads.
void check(int n, int h, int w, int c) {
  const size_t size = static_cast<size_t>(n) * h * w * c;
  std::vector<float> x = randomVector(size), dy = randomVector(size), wt = randomVector(9 * c * c);
  std::vector<double> ry, rdx, rdw;
  reference(n, h, w, c, x.data(), wt.data(), dy.data(), ry, rdx, rdw);
  std::vector<std::vector<float>> all, wino, wino4;
  for (Conv8Isa isa : {Conv8Isa::avx512, Conv8Isa::avx2}) {
    if (isa == Conv8Isa::avx512 && onednn_addon::conv8BestIsa() != Conv8Isa::avx512) continue;
    std::vector<float> y(size), dx(size), dw(9 * c * c);
    onednn_addon::conv3x3DirectForward(isa, n, h, w, c, x.data(), wt.data(), y.data());
    onednn_addon::conv3x3DirectBackwardData(isa, n, h, w, c, dy.data(), wt.data(), dx.data());
    onednn_addon::conv3x3DirectBackwardWeights(isa, n, h, w, c, x.data(), dy.data(), dw.data());
    std::printf("check n%d %dx%d c%d %-6s max rel error y %.1e dx %.1e dw %.1e\n", n, h, w, c,
                isa == Conv8Isa::avx512 ? "avx512" : "avx2", maxError(y, ry), maxError(dx, rdx), maxError(dw, rdw));
    y.insert(y.end(), dx.begin(), dx.end());
    y.insert(y.end(), dw.begin(), dw.end());
    all.push_back(std::move(y));
    std::vector<float> wy(size), wdx(size), wdw(9 * c * c);
    onednn_addon::wino3x3Forward(isa, n, h, w, c, x.data(), wt.data(), wy.data());
    onednn_addon::wino3x3BackwardData(isa, n, h, w, c, dy.data(), wt.data(), wdx.data());
    onednn_addon::wino3x3BackwardWeights(isa, n, h, w, c, x.data(), dy.data(), wdw.data());
    std::printf("check n%d %dx%d c%d %-6s winograd max rel error y %.1e dx %.1e dw %.1e\n", n, h, w, c,
                isa == Conv8Isa::avx512 ? "avx512" : "avx2", maxError(wy, ry), maxError(wdx, rdx), maxError(wdw, rdw));
    wy.insert(wy.end(), wdx.begin(), wdx.end());
    wy.insert(wy.end(), wdw.begin(), wdw.end());
    wino.push_back(std::move(wy));
    std::vector<float> fy(size), fdx(size), fdw(9 * c * c);
    onednn_addon::wino4x4Forward(isa, n, h, w, c, x.data(), wt.data(), fy.data());
    onednn_addon::wino4x4BackwardData(isa, n, h, w, c, dy.data(), wt.data(), fdx.data());
    onednn_addon::wino4x4BackwardWeights(isa, n, h, w, c, x.data(), dy.data(), fdw.data());
    std::printf("check n%d %dx%d c%d %-6s F(4x4)   max rel error y %.1e dx %.1e dw %.1e\n", n, h, w, c,
                isa == Conv8Isa::avx512 ? "avx512" : "avx2", maxError(fy, ry), maxError(fdx, rdx), maxError(fdw, rdw));
    fy.insert(fy.end(), fdx.begin(), fdx.end());
    fy.insert(fy.end(), fdw.begin(), fdw.end());
    wino4.push_back(std::move(fy));
  }
  if (all.size() == 2) {
    std::printf("check n%d %dx%d c%d avx2 and avx512 give %s bits (direct), %s bits (winograd), %s bits (F(4x4))\n", n, h,
                w, c, std::memcmp(all[0].data(), all[1].data(), all[0].size() * sizeof(float)) == 0 ? "the same" : "DIFFERENT",
                std::memcmp(wino[0].data(), wino[1].data(), wino[0].size() * sizeof(float)) == 0 ? "the same" : "DIFFERENT",
                std::memcmp(wino4[0].data(), wino4[1].data(), wino4[0].size() * sizeof(float)) == 0 ? "the same" : "DIFFERENT");
  }
  // Winograd at 1 and 2 threads (the batch split per image): the same bits.
  if (n > 1) {
    std::vector<float> one(size), two(size);
    const int threads = omp_get_max_threads();
    omp_set_num_threads(1);
    onednn_addon::wino3x3BackwardData(onednn_addon::conv8BestIsa(), n, h, w, c, dy.data(), wt.data(), one.data());
    omp_set_num_threads(2);
    onednn_addon::wino3x3BackwardData(onednn_addon::conv8BestIsa(), n, h, w, c, dy.data(), wt.data(), two.data());
    std::vector<float> one4(size), two4(size);
    omp_set_num_threads(1);
    onednn_addon::wino4x4BackwardData(onednn_addon::conv8BestIsa(), n, h, w, c, dy.data(), wt.data(), one4.data());
    omp_set_num_threads(2);
    onednn_addon::wino4x4BackwardData(onednn_addon::conv8BestIsa(), n, h, w, c, dy.data(), wt.data(), two4.data());
    omp_set_num_threads(threads);
    std::printf("check n%d %dx%d c%d winograd 1 and 2 threads give %s bits, F(4x4) %s bits\n", n, h, w, c,
                std::memcmp(one.data(), two.data(), size * sizeof(float)) == 0 ? "the same" : "DIFFERENT",
                std::memcmp(one4.data(), two4.data(), size * sizeof(float)) == 0 ? "the same" : "DIFFERENT");
  }
}

struct Shape {
  const char* name;
  int n, c, hw;
};

dnnl::engine eng(dnnl::engine::kind::cpu, 0);
dnnl::stream strm(eng);

void timeShape(const Shape& s) {
  const size_t size = static_cast<size_t>(s.n) * s.hw * s.hw * s.c;
  const int sets = std::max<int>(2, static_cast<int>((96u << 20) / (size * sizeof(float))));
  std::vector<std::vector<float>> as(sets), bs(sets), cs(sets);
  for (int k = 0; k < sets; ++k) {
    as[k] = randomVector(size);
    bs[k] = randomVector(size);
    cs[k].assign(size, 0.0f);
  }
  std::vector<float> wt = randomVector(9 * s.c * s.c), dw(9 * s.c * s.c);
  const double gflop = 2.0 * size * 9 * s.c * 1e-9;
  auto line = [&](const char* dir, const char* impl, const std::function<void(int)>& call) {
    const double hot = bestOf(20, [&](int) { call(0); });
    const double cold = bestOf(sets, call);
    std::printf("%-18s %-12s %-22s hot %7.3f ms %6.1f GFLOP/s  cycled %7.3f ms %6.1f GFLOP/s\n", s.name, dir, impl,
                hot * 1e3, gflop / hot, cold * 1e3, gflop / cold);
  };

  memory::desc src({s.n, s.c, s.hw, s.hw}, dt::f32, tag::nhwc);
  memory::desc wei({s.c, s.c, 3, 3}, dt::f32, tag::any);
  memory::dims strides = {1, 1}, dil = {0, 0}, pad = {1, 1};
  dnnl::convolution_forward::desc fd(dnnl::prop_kind::forward_training, algorithm::convolution_direct, src, wei,
                                     src, strides, dil, pad, pad);
  dnnl::convolution_forward::primitive_desc fpd(fd, eng);
  {
    // conv.cc chooseImpl: brgconv on 32x32 maps, else the first jit kernel.
    const std::string want = s.hw == 32 ? "brgconv" : "jit";
    auto first = fpd;
    do {
      if (std::string(fpd.impl_info_str()).rfind(want, 0) == 0) break;
    } while (fpd.next_impl());
    if (std::string(fpd.impl_info_str()).rfind(want, 0) != 0) fpd = first;
  }
  dnnl::convolution_backward_data::desc bd(algorithm::convolution_direct, src, wei, src, strides, dil, pad, pad);
  dnnl::convolution_backward_data::primitive_desc bpd(bd, eng, fpd);
  dnnl::convolution_backward_weights::desc wd(algorithm::convolution_direct, src, wei, src, strides, dil, pad, pad);
  dnnl::convolution_backward_weights::primitive_desc wpd(wd, eng, fpd);
  memory fw(fpd.weights_desc(), eng), bw(bpd.weights_desc(), eng), ww(wpd.diff_weights_desc(), eng);
  std::fill_n(static_cast<float*>(fw.get_data_handle()), fpd.weights_desc().get_size() / 4, 0.01f);
  std::fill_n(static_cast<float*>(bw.get_data_handle()), bpd.weights_desc().get_size() / 4, 0.01f);
  dnnl::convolution_forward fprim(fpd);
  dnnl::convolution_backward_data bprim(bpd);
  dnnl::convolution_backward_weights wprim(wpd);
  auto mem = [&](std::vector<float>& v) { return memory(src, eng, v.data()); };
  line("forward", fpd.impl_info_str(), [&](int k) {
    fprim.execute(strm, {{DNNL_ARG_SRC, mem(as[k % sets])}, {DNNL_ARG_WEIGHTS, fw}, {DNNL_ARG_DST, mem(cs[k % sets])}});
    strm.wait();
  });
  line("input grad", bpd.impl_info_str(), [&](int k) {
    bprim.execute(strm, {{DNNL_ARG_DIFF_DST, mem(bs[k % sets])}, {DNNL_ARG_WEIGHTS, bw}, {DNNL_ARG_DIFF_SRC, mem(cs[k % sets])}});
    strm.wait();
  });
  line("filter grad", wpd.impl_info_str(), [&](int k) {
    wprim.execute(strm, {{DNNL_ARG_SRC, mem(as[k % sets])}, {DNNL_ARG_DIFF_DST, mem(bs[k % sets])}, {DNNL_ARG_DIFF_WEIGHTS, ww}});
    strm.wait();
  });
  for (Conv8Isa isa : {Conv8Isa::avx512, Conv8Isa::avx2}) {
    if (isa == Conv8Isa::avx512 && onednn_addon::conv8BestIsa() != Conv8Isa::avx512) continue;
    const char* impl = isa == Conv8Isa::avx512 ? "ours:avx512" : "ours:avx2";
    line("forward", impl, [&](int k) {
      onednn_addon::conv3x3DirectForward(isa, s.n, s.hw, s.hw, s.c, as[k % sets].data(), wt.data(), cs[k % sets].data());
    });
    line("input grad", impl, [&](int k) {
      onednn_addon::conv3x3DirectBackwardData(isa, s.n, s.hw, s.hw, s.c, bs[k % sets].data(), wt.data(), cs[k % sets].data());
    });
    line("filter grad", impl, [&](int k) {
      onednn_addon::conv3x3DirectBackwardWeights(isa, s.n, s.hw, s.hw, s.c, as[k % sets].data(), bs[k % sets].data(), dw.data());
    });
    const char* wimpl = isa == Conv8Isa::avx512 ? "winograd:avx512" : "winograd:avx2";
    line("forward", wimpl, [&](int k) {
      onednn_addon::wino3x3Forward(isa, s.n, s.hw, s.hw, s.c, as[k % sets].data(), wt.data(), cs[k % sets].data());
    });
    line("input grad", wimpl, [&](int k) {
      onednn_addon::wino3x3BackwardData(isa, s.n, s.hw, s.hw, s.c, bs[k % sets].data(), wt.data(), cs[k % sets].data());
    });
    line("filter grad", wimpl, [&](int k) {
      onednn_addon::wino3x3BackwardWeights(isa, s.n, s.hw, s.hw, s.c, as[k % sets].data(), bs[k % sets].data(), dw.data());
    });
    const char* fimpl = isa == Conv8Isa::avx512 ? "F(4x4):avx512" : "F(4x4):avx2";
    line("forward", fimpl, [&](int k) {
      onednn_addon::wino4x4Forward(isa, s.n, s.hw, s.hw, s.c, as[k % sets].data(), wt.data(), cs[k % sets].data());
    });
    line("input grad", fimpl, [&](int k) {
      onednn_addon::wino4x4BackwardData(isa, s.n, s.hw, s.hw, s.c, bs[k % sets].data(), wt.data(), cs[k % sets].data());
    });
    line("filter grad", fimpl, [&](int k) {
      onednn_addon::wino4x4BackwardWeights(isa, s.n, s.hw, s.hw, s.c, as[k % sets].data(), bs[k % sets].data(), dw.data());
    });
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc <= 1 || std::string(argv[1]) == "check") {
    for (int c : {16, 32}) {
      check(1, 16, 16, c);
      check(3, 8, 8, c);
      check(3, 5, 7, c);
      check(2, 3, 1, c);
      check(2, 1, 3, c);
      check(2, 19, 13, c);
    }
  }
  const std::vector<Shape> shapes = {
      {"16->16 b32 16x16", 32, 16, 16},
      {"32->32 b32 8x8", 32, 32, 8},
      {"16->16 b128 32x32", 128, 16, 32},
      {"32->32 b128 16x16", 128, 32, 16},
  };
  for (const Shape& s : shapes) {
    if (argc > 1 && std::string(s.name).find(argv[1]) == std::string::npos) continue;
    timeShape(s);
  }
}
