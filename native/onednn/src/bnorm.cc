#include "bnorm.h"

#include <cstring>
#include <unordered_map>
#include <vector>

#include "common.h"

namespace onednn_addon {
namespace {

using dnnl::memory;
using dnnl::normalization_flags;
using dnnl::prop_kind;
using tag = memory::format_tag;
using dt = memory::data_type;

using Key = std::array<int, 5>;

Key keyOf(const BnShape& s) {
  int epsBits = 0;
  std::memcpy(&epsBits, &s.epsilon, sizeof epsBits);
  return {s.n, s.h, s.w, s.c, epsBits};
}

const normalization_flags kFlags = normalization_flags::use_scale | normalization_flags::use_shift;

memory::desc dataMd(const BnShape& s) { return memory::desc({s.n, s.c, s.h, s.w}, dt::f32, tag::nhwc); }
memory::desc channelMd(const BnShape& s) { return memory::desc({s.c}, dt::f32, tag::a); }

dnnl::batch_normalization_forward::primitive_desc forwardPd(const BnShape& s) {
  dnnl::batch_normalization_forward::desc d(prop_kind::forward_training, dataMd(s), s.epsilon, kFlags);
  return dnnl::batch_normalization_forward::primitive_desc(d, cpuEngine());
}

struct ForwardEntry {
  dnnl::batch_normalization_forward prim;
  memory src, dst, scale, shift, mean, variance;
  std::unordered_map<int, memory> args;

  explicit ForwardEntry(const BnShape& s)
      : prim(forwardPd(s)),
        src(userMemory(dataMd(s))),
        dst(userMemory(dataMd(s))),
        scale(userMemory(channelMd(s))),
        shift(userMemory(channelMd(s))),
        mean(userMemory(channelMd(s))),
        variance(userMemory(channelMd(s))) {
    args = {{DNNL_ARG_SRC, src},     {DNNL_ARG_DST, dst},   {DNNL_ARG_SCALE, scale},
            {DNNL_ARG_SHIFT, shift}, {DNNL_ARG_MEAN, mean}, {DNNL_ARG_VARIANCE, variance}};
  }
};

struct BackwardEntry {
  dnnl::batch_normalization_backward prim;
  memory src, diffDst, diffSrc, scale, shift, mean, variance, diffScale, diffShift;
  // oneDNN 2.6 insists on DNNL_ARG_SHIFT for backward with use_shift although the gradient never reads it.
  std::vector<float> unusedShift;
  std::unordered_map<int, memory> args;

  explicit BackwardEntry(const BnShape& s)
      : prim(pd(s)),
        src(userMemory(dataMd(s))),
        diffDst(userMemory(dataMd(s))),
        diffSrc(userMemory(dataMd(s))),
        scale(userMemory(channelMd(s))),
        shift(userMemory(channelMd(s))),
        mean(userMemory(channelMd(s))),
        variance(userMemory(channelMd(s))),
        diffScale(userMemory(channelMd(s))),
        diffShift(userMemory(channelMd(s))),
        unusedShift(static_cast<size_t>(s.c), 0.0f) {
    bind(shift, unusedShift.data());
    args = {{DNNL_ARG_SRC, src},           {DNNL_ARG_DIFF_DST, diffDst},    {DNNL_ARG_DIFF_SRC, diffSrc},
            {DNNL_ARG_SCALE, scale},       {DNNL_ARG_SHIFT, shift},         {DNNL_ARG_MEAN, mean},
            {DNNL_ARG_VARIANCE, variance}, {DNNL_ARG_DIFF_SCALE, diffScale}, {DNNL_ARG_DIFF_SHIFT, diffShift}};
  }

  static dnnl::batch_normalization_backward::primitive_desc pd(const BnShape& s) {
    dnnl::batch_normalization_backward::desc d(prop_kind::backward, dataMd(s), dataMd(s), s.epsilon, kFlags);
    return dnnl::batch_normalization_backward::primitive_desc(d, cpuEngine(), forwardPd(s));
  }
};

ShapeCache<5, ForwardEntry> forwardCache;
ShapeCache<5, BackwardEntry> backwardCache;

template <typename Entry>
Entry& lookup(ShapeCache<5, Entry>& cache, const BnShape& s) {
  Key key = keyOf(s);
  auto it = cache.find(key);
  if (it == cache.end()) it = cache.emplace(key, std::make_unique<Entry>(s)).first;
  return *it->second;
}

}  // namespace

void bnForwardTraining(const BnShape& s, const float* x, const float* scale, const float* shift, float* y,
                       float* mean, float* variance) {
  std::lock_guard<std::mutex> lock(cacheMutex());
  ForwardEntry& e = lookup(forwardCache, s);
  bind(e.src, x);
  bind(e.dst, y);
  bind(e.scale, scale);
  bind(e.shift, shift);
  bind(e.mean, mean);
  bind(e.variance, variance);
  e.prim.execute(cpuStream(), e.args);
  cpuStream().wait();
}

void bnBackward(const BnShape& s, const float* dy, const float* x, const float* scale, const float* mean,
                const float* variance, float* dx, float* dScale, float* dShift) {
  std::lock_guard<std::mutex> lock(cacheMutex());
  BackwardEntry& e = lookup(backwardCache, s);
  bind(e.src, x);
  bind(e.diffDst, dy);
  bind(e.diffSrc, dx);
  bind(e.scale, scale);
  bind(e.mean, mean);
  bind(e.variance, variance);
  bind(e.diffScale, dScale);
  bind(e.diffShift, dShift);
  e.prim.execute(cpuStream(), e.args);
  cpuStream().wait();
}

void bnClearCache() {
  std::lock_guard<std::mutex> lock(cacheMutex());
  forwardCache.clear();
  backwardCache.clear();
}

}  // namespace onednn_addon
