// CPU time of every oneDNN implementation of the convolutions whose implementation the addon picks by a rule
// (native/onednn/src/conv.cc chooseImpl), per direction, on this machine, 1 thread; for the 3x3 8->8 stride-1
// shapes also our own kernels (native/onednn/src/conv8.cc, "ours:avx512" / "ours:avx2"), with a check that both
// give the same bits. Not part of the build:
//
//   g++ -O2 -fopenmp -Inative/onednn/src bench/conv-impls.cc native/onednn/src/conv8.cc -ldnnl -o /tmp/conv-impls &&
//     OMP_NUM_THREADS=1 /tmp/conv-impls [NAME-PART]
//
// With NAME-PART, only the shapes whose name contains it (e.g. "b32").
//
// Prints one line per (shape, direction, implementation but the reference ones), best of 5 runs of 20 calls, so the rule can be checked
// against what the machine's CPU actually has (oneDNN lists only the kernels the CPU can run).
#include <dnnl.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "conv8.h"
#include "cpu-seconds.h"

namespace {

using dnnl::algorithm;
using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

struct Shape {
  const char* name;
  int n, ic, oc, hw, stride;
};

dnnl::engine eng(dnnl::engine::kind::cpu, 0);
dnnl::stream strm(eng);

memory make(const memory::desc& md) {
  memory m(md, eng);
  std::fill_n(static_cast<float*>(m.get_data_handle()), md.get_size() / sizeof(float), 0.01f);
  return m;
}

template <typename Pd, typename Prim>
void timeAll(const char* shape, const char* dir, double gflop, Pd pd, const std::vector<std::pair<int, memory::desc>>& args) {
  do {
    // The reference kernels are 100x slower and never chosen.
    if (std::string(pd.impl_info_str()).rfind("ref", 0) == 0) continue;
    Prim prim(pd);
    std::unordered_map<int, memory> map;
    for (const auto& [arg, md] : args) {
      memory::desc want = md;
      if (arg == DNNL_ARG_WEIGHTS) want = pd.weights_desc();
      if (arg == DNNL_ARG_DIFF_WEIGHTS) want = pd.diff_weights_desc();
      map.emplace(arg, make(want));
    }
    map.emplace(DNNL_ARG_SCRATCHPAD, make(pd.scratchpad_desc()));
    double best = 1e9;
    for (int round = 0; round < 5; ++round) {
      const double start = cpuSeconds();
      for (int i = 0; i < 20; ++i) prim.execute(strm, map);
      strm.wait();
      best = std::min(best, (cpuSeconds() - start) / 20);
    }
    std::printf("%-22s %-12s %-24s %8.3f ms %6.1f GFLOP/s\n", shape, dir, pd.impl_info_str(), best * 1e3, gflop / best);
  } while (pd.next_impl());
}

double bestOf(const std::function<void()>& call) {
  double best = 1e9;
  for (int round = 0; round < 5; ++round) {
    const double start = cpuSeconds();
    for (int i = 0; i < 20; ++i) call();
    best = std::min(best, (cpuSeconds() - start) / 20);
  }
  return best;
}

// Our kernels for 3x3 stride-1 8->8 convolutions, per direction and instruction set, with GFLOP/s; and whether
// the AVX2 build gives the AVX-512 build's bits.
void timeOurs(const Shape& s) {
  using onednn_addon::Conv8Isa;
  const size_t size = static_cast<size_t>(s.n) * s.hw * s.hw * 8;
  std::vector<float> a(size), b(size), wt(576);
  unsigned seed = 1;
  auto next = [&seed] { seed = seed * 1103515245u + 12345u; return static_cast<float>((seed >> 9) % 2001) / 1000.0f - 1.0f; };
  for (float& v : a) v = next();
  for (float& v : b) v = next();
  for (float& v : wt) v = next();
  const double gflop = 2.0 * size * 72 * 1e-9;
  std::vector<Conv8Isa> isas = {Conv8Isa::avx512, Conv8Isa::avx2};
  if (onednn_addon::conv8BestIsa() != Conv8Isa::avx512) isas = {Conv8Isa::avx2};
  std::vector<std::vector<float>> results;
  for (Conv8Isa isa : isas) {
    const char* impl = isa == Conv8Isa::avx512 ? "ours:avx512" : "ours:avx2";
    std::vector<float> y(size), dx(size), dw(576);
    double t = bestOf([&] { onednn_addon::conv8Forward(isa, s.n, s.hw, s.hw, a.data(), wt.data(), y.data()); });
    std::printf("%-22s %-12s %-24s %8.3f ms %6.1f GFLOP/s\n", s.name, "forward", impl, t * 1e3, gflop / t);
    t = bestOf([&] { onednn_addon::conv8BackwardData(isa, s.n, s.hw, s.hw, b.data(), wt.data(), dx.data()); });
    std::printf("%-22s %-12s %-24s %8.3f ms %6.1f GFLOP/s\n", s.name, "input grad", impl, t * 1e3, gflop / t);
    t = bestOf([&] { onednn_addon::conv8BackwardWeights(isa, s.n, s.hw, s.hw, a.data(), b.data(), dw.data()); });
    std::printf("%-22s %-12s %-24s %8.3f ms %6.1f GFLOP/s\n", s.name, "filter grad", impl, t * 1e3, gflop / t);
    y.insert(y.end(), dx.begin(), dx.end());
    y.insert(y.end(), dw.begin(), dw.end());
    results.push_back(std::move(y));
  }
  if (results.size() == 2) {
    const bool same = std::memcmp(results[0].data(), results[1].data(), results[0].size() * sizeof(float)) == 0;
    std::printf("%-22s ours:avx2 and ours:avx512 give %s bits\n", s.name, same ? "the same" : "DIFFERENT");
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<Shape> shapes = {
      {"stem 3->8 b32", 32, 3, 8, 32, 1},     {"8->8 b32", 32, 8, 8, 32, 1},
      {"8->8 b128", 128, 8, 8, 32, 1},
      {"8->16 s2 b32", 32, 8, 16, 32, 2},     {"16->16 b32 16x16", 32, 16, 16, 16, 1},
      {"stem 3->16 b128", 128, 3, 16, 32, 1}, {"16->16 b128", 128, 16, 16, 32, 1},
      {"16->32 s2 b128", 128, 16, 32, 32, 2}, {"32->32 b128 16x16", 128, 32, 32, 16, 1},
      {"64->64 b128 8x8", 128, 64, 64, 8, 1},  {"32->32 b32 8x8", 32, 32, 32, 8, 1},
      {"16->32 s2 b32", 32, 16, 32, 16, 2},
  };
  for (const Shape& s : shapes) {
    if (argc > 1 && std::string(s.name).find(argv[1]) == std::string::npos) continue;
    const int oh = s.hw / s.stride;
    const double gflop = 2.0 * s.n * oh * oh * 9 * s.ic * s.oc * 1e-9;
    memory::desc src({s.n, s.ic, s.hw, s.hw}, dt::f32, tag::nhwc);
    memory::desc dst({s.n, s.oc, oh, oh}, dt::f32, tag::nhwc);
    memory::desc wei({s.oc, s.ic, 3, 3}, dt::f32, tag::any);
    memory::dims strides = {s.stride, s.stride}, dil = {0, 0}, padL = {1, 1};
    memory::dims padR = {s.stride == 1 ? 1 : 0, s.stride == 1 ? 1 : 0};
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    dnnl::convolution_forward::desc fd(dnnl::prop_kind::forward_training, algorithm::convolution_direct, src, wei,
                                       dst, strides, dil, padL, padR);
    dnnl::convolution_forward::primitive_desc hint(fd, attr, eng);
    timeAll<dnnl::convolution_forward::primitive_desc, dnnl::convolution_forward>(
        s.name, "forward", gflop, hint, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, dst}});
    dnnl::convolution_backward_data::desc bd(algorithm::convolution_direct, src, wei, dst, strides, dil, padL, padR);
    timeAll<dnnl::convolution_backward_data::primitive_desc, dnnl::convolution_backward_data>(
        s.name, "input grad", gflop, dnnl::convolution_backward_data::primitive_desc(bd, attr, eng, hint),
        {{DNNL_ARG_DIFF_DST, dst}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DIFF_SRC, src}});
    dnnl::convolution_backward_weights::desc wd(algorithm::convolution_direct, src, wei, dst, strides, dil, padL,
                                                padR);
    timeAll<dnnl::convolution_backward_weights::primitive_desc, dnnl::convolution_backward_weights>(
        s.name, "filter grad", gflop, dnnl::convolution_backward_weights::primitive_desc(wd, attr, eng, hint),
        {{DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, dst}, {DNNL_ARG_DIFF_WEIGHTS, wei}});
    if (s.ic == 8 && s.oc == 8 && s.stride == 1) timeOurs(s);
  }
}
