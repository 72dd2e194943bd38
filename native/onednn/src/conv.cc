#include "conv.h"

#include <omp.h>

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common.h"
#include "conv3x3.h"
#include "conv8.h"
#include "wino8.h"

namespace onednn_addon {
namespace {

using dnnl::algorithm;
using dnnl::memory;
using dnnl::prop_kind;
using tag = memory::format_tag;
using dt = memory::data_type;

using Key = std::array<int, 17>;

Key keyOf(const ConvShape& s) {
  return {s.n, s.ih, s.iw, s.ic, s.oh, s.ow, s.oc, s.kh, s.kw, s.sh, s.sw, s.dh, s.dw, s.pt, s.pl, s.pb, s.pr};
}

struct Geometry {
  memory::desc src, dst, weiUser, weiAny;
  memory::dims strides, dilates, padL, padR;
};

Geometry geometryOf(const ConvShape& s) {
  Geometry g;
  g.src = memory::desc({s.n, s.ic, s.ih, s.iw}, dt::f32, tag::nhwc);
  g.dst = memory::desc({s.n, s.oc, s.oh, s.ow}, dt::f32, tag::nhwc);
  // TF's [kh, kw, in, out] is oneDNN's hwio; the primitives get `any` so they can pick their blocked
  // layout: handed hwio directly, oneDNN falls back to a GEMM path at under half the speed.
  g.weiUser = memory::desc({s.oc, s.ic, s.kh, s.kw}, dt::f32, tag::hwio);
  g.weiAny = memory::desc({s.oc, s.ic, s.kh, s.kw}, dt::f32, tag::any);
  g.strides = {s.sh, s.sw};
  g.dilates = {s.dh - 1, s.dw - 1};  // oneDNN counts the gaps, TF the step
  g.padL = {s.pt, s.pl};
  g.padR = {s.pb, s.pr};
  return g;
}

// Before oneDNN is asked at all, the 3x3 stride-1 'same' convolutions with 8 input and 8 output channels
// (width-8 networks' first stage, about 40% of the lockstep workload's convolution time on oneDNN) take our own
// kernels (conv8.cc, conv8Applies) in all three directions whenever the CPU has AVX2+FMA: oneDNN 2.6's best
// kernels for this shape reach 52-100 GFLOP/s per direction against ours' 96-119 (of a 116 GFLOP/s FMA peak;
// bench/conv-impls.cc "8->8", README "Speed"). That too is a fixed function of the shape (and the CPU), never
// of timing. They run as Winograd F(4x4,3x3) (wino8.cc) in all three directions, faster than the direct
// kernels hot and cold (bench/wino8.cc).
// Likewise the 3x3 stride-1 'same' 16->16 and 32->32 ones (width-8 networks' second and third stages) take our
// kernels (conv3x3.cc, conv3x3Applies): Winograd in all three directions (wino3x3.cc; F(4x4,3x3) on maps of at
// least 8x8, F(2x2,3x3) below, conv3x3Kernel), 1.2-1.5x (F(2x2)) faster in a training step than oneDNN's direct kernels, which also reorder the filter on every call (README
// "Speed").
//
// Which of oneDNN's implementations runs a shape is a fixed rule of the shape (never a timing, which would make
// the numerics depend on the machine's load). oneDNN 2.6 ranks its AVX-512 kernels first; measured here (CPU
// time, 1 thread, AVX-512 machine, NHWC; README "Speed"), per direction:
//  - channels that fit an 8-float vector (the stem and width-8 networks' first stage): the AVX2 kernels are
//    1.1-1.8x faster than the AVX-512 ones, which pad every pixel's channels to 16 (re-measured on an AMD Zen 4
//    with bench/conv-impls.cc: 1.3-2.0x in the input and filter gradients, 1.3x in the stem's forward; where
//    the CPU has no AVX-512, jit:avx2 is oneDNN's first choice anyway);
//  - forward on 32x32 maps at stride 1 with 16+ channels: brgconv, 13% faster than the plain jit kernel;
//  - every other forward: not brgconv (up to 1.3x slower on the strided and narrow shapes, no faster elsewhere).
// Runs while the op descriptor (and a backward pass's forward hint) is alive: the iterator points into them.
template <typename Pd>
void preferImpl(Pd& pd, bool (*wanted)(const std::string&)) {
  Pd first = pd;
  do {
    if (wanted(pd.impl_info_str())) return;
  } while (pd.next_impl());
  pd = first;
}

bool narrow(const Geometry& g) { return g.src.data.dims[1] <= 8 && g.dst.data.dims[1] <= 8; }
bool isAvx2Jit(const std::string& impl) { return impl == "jit:avx2"; }
bool isBrgconv(const std::string& impl) { return impl.rfind("brgconv", 0) == 0; }
bool isJitNotBrgconv(const std::string& impl) { return impl.rfind("jit", 0) == 0; }

template <typename Pd>
void chooseImpl(Pd& pd, const Geometry& g, bool forward) {
  if (narrow(g)) {
    preferImpl(pd, isAvx2Jit);
    return;
  }
  if (!forward) return;
  const bool large = g.strides[0] == 1 && g.strides[1] == 1 && g.dst.data.dims[2] * g.dst.data.dims[3] >= 1024;
  preferImpl(pd, large ? isBrgconv : isJitNotBrgconv);
}

dnnl::convolution_forward::primitive_desc forwardPd(const Geometry& g, bool choose = false) {
  dnnl::convolution_forward::desc d(prop_kind::forward_training, algorithm::convolution_direct, g.src,
                                    g.weiAny, g.dst, g.strides, g.dilates, g.padL, g.padR);
  dnnl::convolution_forward::primitive_desc pd(d, cpuEngine());
  if (choose) chooseImpl(pd, g, true);
  return pd;
}

// Filters change every step, so they are reordered into the primitive's layout on each call (cheap: the
// largest CIFAR filter is 37k floats) into a buffer owned by the cache entry.
struct WeightsIn {
  memory user;
  memory used;
  std::optional<dnnl::reorder> reorder;

  WeightsIn(const memory::desc& userMd, const memory::desc& wanted) : user(userMemory(userMd)) {
    if (wanted == userMd) {
      used = user;
    } else {
      used = memory(wanted, cpuEngine());
      reorder = dnnl::reorder(user, used);
    }
  }

  void load(const float* w) {
    bind(user, w);
    if (reorder) reorder->execute(cpuStream(), user, used);
  }
};

struct ForwardEntry {
  dnnl::convolution_forward prim;
  memory src, dst;
  WeightsIn wei;
  std::unordered_map<int, memory> args;

  explicit ForwardEntry(const Geometry& g, const dnnl::convolution_forward::primitive_desc& pd)
      : prim(pd), src(userMemory(g.src)), dst(userMemory(g.dst)), wei(g.weiUser, pd.weights_desc()) {
    args = {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei.used}, {DNNL_ARG_DST, dst}};
  }
};

struct BackwardDataEntry {
  dnnl::convolution_backward_data prim;
  memory diffDst, diffSrc;
  WeightsIn wei;
  std::unordered_map<int, memory> args;

  BackwardDataEntry(const Geometry& g, const dnnl::convolution_backward_data::primitive_desc& pd)
      : prim(pd), diffDst(userMemory(g.dst)), diffSrc(userMemory(g.src)), wei(g.weiUser, pd.weights_desc()) {
    args = {{DNNL_ARG_DIFF_DST, diffDst}, {DNNL_ARG_WEIGHTS, wei.used}, {DNNL_ARG_DIFF_SRC, diffSrc}};
  }
};

// The filter gradient of one slice of the batch. With `own` set it runs on one thread with its own stream and
// scratchpad (so slices can run side by side) and leaves its gradient in `partial`, in TF's HWIO layout.
struct WeightsSlice {
  std::optional<dnnl::stream> own;
  dnnl::convolution_backward_weights prim;
  memory src, diffDst, diffWeiUser, diffWei, scratchpad;
  std::optional<dnnl::reorder> reorder;
  std::vector<float> partial;
  std::unordered_map<int, memory> args;

  WeightsSlice(const Geometry& g, const dnnl::convolution_backward_weights::primitive_desc& pd, bool alone)
      : prim(pd), src(userMemory(g.src)), diffDst(userMemory(g.dst)), diffWeiUser(userMemory(g.weiUser)) {
    if (pd.diff_weights_desc() == g.weiUser) {
      diffWei = diffWeiUser;
    } else {
      diffWei = memory(pd.diff_weights_desc(), cpuEngine());
      reorder = dnnl::reorder(diffWei, diffWeiUser);
    }
    args = {{DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, diffDst}, {DNNL_ARG_DIFF_WEIGHTS, diffWei}};
    if (alone) {
      own.emplace(cpuEngine());
      scratchpad = memory(pd.scratchpad_desc(), cpuEngine());
      args.insert({DNNL_ARG_SCRATCHPAD, scratchpad});
      partial.resize(g.weiUser.get_size() / sizeof(float));
      bind(diffWeiUser, partial.data());
    }
  }

  void run(dnnl::stream& stream) {
    prim.execute(stream, args);
    if (reorder) reorder->execute(stream, diffWei, diffWeiUser);
    stream.wait();
  }
};

// oneDNN's multi-threaded filter gradient splits the batch over its threads and adds their partial sums behind a
// spinning barrier: at 2 threads with another process holding a core it burned 5x its 1-thread CPU time. So on
// T > 1 threads the batch is cut into T slices here, each slice's gradient computed by a 1-thread primitive on
// one of OpenMP's (passively waiting) threads, and the T partial gradients added in slice order: the same work
// split, a fixed order of additions for a given thread count.
struct BackwardWeightsEntry {
  std::vector<std::unique_ptr<WeightsSlice>> slices;
  std::vector<long> offsets;  // first image of each slice

  static dnnl::convolution_backward_weights::primitive_desc pdFor(const Geometry& g, bool alone) {
    dnnl::convolution_backward_weights::desc d(algorithm::convolution_direct, g.src, g.weiAny, g.dst, g.strides,
                                               g.dilates, g.padL, g.padR);
    // The hint stays alive while chooseImpl walks the implementations: the iterator points into it.
    const dnnl::convolution_forward::primitive_desc hint = forwardPd(g);
    dnnl::primitive_attr attr;
    if (alone) attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    dnnl::convolution_backward_weights::primitive_desc pd(d, attr, cpuEngine(), hint);
    chooseImpl(pd, g, false);
    return pd;
  }

  explicit BackwardWeightsEntry(const ConvShape& s) {
    const int threads = omp_get_max_threads();
    if (threads <= 1 || s.n < threads) {
      const Geometry g = geometryOf(s);
      slices.push_back(std::make_unique<WeightsSlice>(g, pdFor(g, false), false));
      offsets.push_back(0);
      return;
    }
    // Planned for one thread: oneDNN sizes its work split by the thread count when the primitive is created.
    omp_set_num_threads(1);
    try {
      long first = 0;
      for (int t = 0; t < threads; ++t) {
        ConvShape part = s;
        part.n = s.n / threads + (t < s.n % threads ? 1 : 0);
        const Geometry g = geometryOf(part);
        slices.push_back(std::make_unique<WeightsSlice>(g, pdFor(g, true), true));
        offsets.push_back(first);
        first += part.n;
      }
    } catch (...) {
      omp_set_num_threads(threads);
      throw;
    }
    omp_set_num_threads(threads);
  }
};

ShapeCache<17, ForwardEntry> forwardCache;
ShapeCache<17, BackwardDataEntry> backwardDataCache;
ShapeCache<17, BackwardWeightsEntry> backwardWeightsCache;

template <typename Entry, typename Make>
Entry& lookup(ShapeCache<17, Entry>& cache, const ConvShape& s, Make make) {
  Key key = keyOf(s);
  auto it = cache.find(key);
  if (it == cache.end()) it = cache.emplace(key, make(geometryOf(s))).first;
  return *it->second;
}

}  // namespace

namespace {

void runBackwardData(const ConvShape& s, const float* dy, const float* w, float* dx) {
  BackwardDataEntry& e = lookup(backwardDataCache, s, [](const Geometry& g) {
    dnnl::convolution_backward_data::desc d(algorithm::convolution_direct, g.src, g.weiAny, g.dst, g.strides,
                                            g.dilates, g.padL, g.padR);
    // The hint stays alive while chooseImpl walks the implementations: the iterator points into it.
    const dnnl::convolution_forward::primitive_desc hint = forwardPd(g);
    dnnl::convolution_backward_data::primitive_desc pd(d, cpuEngine(), hint);
    chooseImpl(pd, g, false);
    return std::make_unique<BackwardDataEntry>(g, pd);
  });
  e.wei.load(w);
  bind(e.diffDst, dy);
  bind(e.diffSrc, dx);
  e.prim.execute(cpuStream(), e.args);
  cpuStream().wait();
}

// A stride-1 convolution equals the input gradient of the convolution that maps its output back to its input:
// the filter flipped in space with in and out channels swapped, each padding side p becoming k - 1 - p. For
// 8-channel convolutions oneDNN's AVX2 input-gradient kernel takes half the time of its best forward kernel
// (measured 0.43-0.59 ms against 0.72-0.85 ms, batch 32, 32x32), so their forward runs that way; since the 3x3
// 'same' ones (width-8 networks' first stage) take our kernels (conv8Applies), this serves the rest (other
// paddings and filter sizes) and CPUs without AVX2.
bool forwardAsInputGradient(const ConvShape& s) {
  return s.ic == 8 && s.oc == 8 && s.sh == 1 && s.sw == 1 && s.dh == 1 && s.dw == 1 && s.pt < s.kh &&
         s.pb < s.kh && s.pl < s.kw && s.pr < s.kw;
}

ConvShape transposed(const ConvShape& s) {
  return {s.n,  s.oh, s.ow, s.oc, s.ih, s.iw,          s.ic,          s.kh,          s.kw,
          1,    1,    1,    1,    s.kh - 1 - s.pt, s.kw - 1 - s.pl, s.kh - 1 - s.pb, s.kw - 1 - s.pr};
}

std::vector<float> flippedFilter;

// TF's [kh][kw][in][out] filter of s as the transposed convolution's [kh][kw][out][in] filter, flipped in space.
const float* flipFilter(const ConvShape& s, const float* w) {
  flippedFilter.resize(static_cast<size_t>(s.kh) * s.kw * s.ic * s.oc);
  for (int h = 0; h < s.kh; ++h) {
    for (int v = 0; v < s.kw; ++v) {
      const float* from = w + (static_cast<size_t>(s.kh - 1 - h) * s.kw + (s.kw - 1 - v)) * s.ic * s.oc;
      float* to = flippedFilter.data() + (static_cast<size_t>(h) * s.kw + v) * s.ic * s.oc;
      for (int i = 0; i < s.ic; ++i) {
        for (int o = 0; o < s.oc; ++o) to[static_cast<size_t>(o) * s.ic + i] = from[static_cast<size_t>(i) * s.oc + o];
      }
    }
  }
  return flippedFilter.data();
}

}  // namespace

void convForward(const ConvShape& s, const float* x, const float* w, float* y) {
  std::lock_guard<std::mutex> lock(cacheMutex());
  if (conv8Applies(s)) {
    wino8Forward(conv8BestIsa(), s.n, s.ih, s.iw, x, w, y);
    return;
  }
  if (conv3x3Applies(s)) {
    conv3x3Forward(conv8BestIsa(), s.n, s.ih, s.iw, s.ic, x, w, y);
    return;
  }
  if (forwardAsInputGradient(s)) {
    runBackwardData(transposed(s), x, flipFilter(s, w), y);
    return;
  }
  ForwardEntry& e = lookup(forwardCache, s, [](const Geometry& g) {
    return std::make_unique<ForwardEntry>(g, forwardPd(g, true));
  });
  e.wei.load(w);
  bind(e.src, x);
  bind(e.dst, y);
  e.prim.execute(cpuStream(), e.args);
  cpuStream().wait();
}

void convBackwardData(const ConvShape& s, const float* dy, const float* w, float* dx) {
  std::lock_guard<std::mutex> lock(cacheMutex());
  if (conv8Applies(s)) {
    wino8BackwardData(conv8BestIsa(), s.n, s.ih, s.iw, dy, w, dx);
    return;
  }
  if (conv3x3Applies(s)) {
    conv3x3BackwardData(conv8BestIsa(), s.n, s.ih, s.iw, s.ic, dy, w, dx);
    return;
  }
  runBackwardData(s, dy, w, dx);
}

void convBackwardWeights(const ConvShape& s, const float* x, const float* dy, float* dw) {
  std::lock_guard<std::mutex> lock(cacheMutex());
  if (conv8Applies(s)) {
    wino8BackwardWeights(conv8BestIsa(), s.n, s.ih, s.iw, x, dy, dw);
    return;
  }
  if (conv3x3Applies(s)) {
    conv3x3BackwardWeights(conv8BestIsa(), s.n, s.ih, s.iw, s.ic, x, dy, dw);
    return;
  }
  BackwardWeightsEntry& e = lookup(backwardWeightsCache, s, [&s](const Geometry&) {
    return std::make_unique<BackwardWeightsEntry>(s);
  });
  if (e.slices.size() == 1) {
    WeightsSlice& only = *e.slices[0];
    bind(only.src, x);
    bind(only.diffDst, dy);
    bind(only.diffWeiUser, dw);
    only.run(cpuStream());
    return;
  }
  const long inImage = static_cast<long>(s.ih) * s.iw * s.ic;
  const long outImage = static_cast<long>(s.oh) * s.ow * s.oc;
  const int parts = static_cast<int>(e.slices.size());
  // Every slice runs, each on its own thread (a slice's primitive runs on one thread inside this region).
#pragma omp parallel for schedule(static, 1) num_threads(parts)
  for (int t = 0; t < parts; ++t) {
    WeightsSlice& slice = *e.slices[t];
    bind(slice.src, x + e.offsets[t] * inImage);
    bind(slice.diffDst, dy + e.offsets[t] * outImage);
    slice.run(*slice.own);
  }
  const long n = static_cast<long>(e.slices[0]->partial.size());
  for (long i = 0; i < n; ++i) {
    float sum = e.slices[0]->partial[i];
    for (int t = 1; t < parts; ++t) sum += e.slices[t]->partial[i];
    dw[i] = sum;
  }
}

void convClearCache() {
  std::lock_guard<std::mutex> lock(cacheMutex());
  forwardCache.clear();
  backwardDataCache.clear();
  backwardWeightsCache.clear();
}

}  // namespace onednn_addon
