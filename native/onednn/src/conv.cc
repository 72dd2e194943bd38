#include "conv.h"

#include <optional>
#include <string>
#include <unordered_map>

#include "common.h"

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

// Which of oneDNN's implementations runs a shape is a fixed rule of the shape (never a timing, which would make
// the numerics depend on the machine's load). oneDNN 2.6 ranks its AVX-512 kernels first; measured here (CPU
// time, 1 thread, AVX-512 machine, NHWC; README "Speed"), per direction:
//  - channels that fit an 8-float vector (the stem and width-8 networks' first stage): the AVX2 kernels are
//    1.1-1.8x faster than the AVX-512 ones, which pad every pixel's channels to 16;
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

struct BackwardWeightsEntry {
  dnnl::convolution_backward_weights prim;
  memory src, diffDst, diffWeiUser, diffWei;
  std::optional<dnnl::reorder> reorder;
  std::unordered_map<int, memory> args;

  BackwardWeightsEntry(const Geometry& g, const dnnl::convolution_backward_weights::primitive_desc& pd)
      : prim(pd), src(userMemory(g.src)), diffDst(userMemory(g.dst)), diffWeiUser(userMemory(g.weiUser)) {
    if (pd.diff_weights_desc() == g.weiUser) {
      diffWei = diffWeiUser;
    } else {
      diffWei = memory(pd.diff_weights_desc(), cpuEngine());
      reorder = dnnl::reorder(diffWei, diffWeiUser);
    }
    args = {{DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, diffDst}, {DNNL_ARG_DIFF_WEIGHTS, diffWei}};
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

void convForward(const ConvShape& s, const float* x, const float* w, float* y) {
  std::lock_guard<std::mutex> lock(cacheMutex());
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

void convBackwardWeights(const ConvShape& s, const float* x, const float* dy, float* dw) {
  std::lock_guard<std::mutex> lock(cacheMutex());
  BackwardWeightsEntry& e = lookup(backwardWeightsCache, s, [](const Geometry& g) {
    dnnl::convolution_backward_weights::desc d(algorithm::convolution_direct, g.src, g.weiAny, g.dst,
                                               g.strides, g.dilates, g.padL, g.padR);
    // The hint stays alive while chooseImpl walks the implementations: the iterator points into it.
    const dnnl::convolution_forward::primitive_desc hint = forwardPd(g);
    dnnl::convolution_backward_weights::primitive_desc pd(d, cpuEngine(), hint);
    chooseImpl(pd, g, false);
    return std::make_unique<BackwardWeightsEntry>(g, pd);
  });
  bind(e.src, x);
  bind(e.diffDst, dy);
  bind(e.diffWeiUser, dw);
  e.prim.execute(cpuStream(), e.args);
  if (e.reorder) e.reorder->execute(cpuStream(), e.diffWei, e.diffWeiUser);
  cpuStream().wait();
}

void convClearCache() {
  std::lock_guard<std::mutex> lock(cacheMutex());
  forwardCache.clear();
  backwardDataCache.clear();
  backwardWeightsCache.clear();
}

}  // namespace onednn_addon
