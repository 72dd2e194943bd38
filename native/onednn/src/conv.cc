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

// oneDNN 2.6 ranks brgconv first for forward convolution, but with NHWC activations it is up to 2x slower
// than the plain jit kernel on the stem (3 input channels) and on the strided 1x1 projections, and no
// faster elsewhere (measured per CIFAR ResNet shape, CPU time, AVX-512): take the next implementation.
// Runs while the op descriptor is alive, as the primitive_desc iterator points into it.
void preferPlainJit(dnnl::convolution_forward::primitive_desc& pd) {
  dnnl::convolution_forward::primitive_desc first = pd;
  while (std::string(pd.impl_info_str()).rfind("brgconv", 0) == 0) {
    if (!pd.next_impl()) {
      pd = first;
      return;
    }
  }
  // Never settle for a GEMM or reference kernel to avoid brgconv.
  const std::string chosen = pd.impl_info_str();
  if (chosen.rfind("jit", 0) != 0) pd = first;
}

dnnl::convolution_forward::primitive_desc forwardPd(const Geometry& g, bool choose = false) {
  dnnl::convolution_forward::desc d(prop_kind::forward_training, algorithm::convolution_direct, g.src,
                                    g.weiAny, g.dst, g.strides, g.dilates, g.padL, g.padR);
  dnnl::convolution_forward::primitive_desc pd(d, cpuEngine());
  if (choose) preferPlainJit(pd);
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
    dnnl::convolution_backward_data::primitive_desc pd(d, cpuEngine(), forwardPd(g));
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
    dnnl::convolution_backward_weights::primitive_desc pd(d, cpuEngine(), forwardPd(g));
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
