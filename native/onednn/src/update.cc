#include "update.h"

namespace onednn_addon {
namespace {

// Conv kernels hold at most ~37k floats (and BN parameters a few dozen): a fork/join would cost more.
constexpr long kParallelMin = 1L << 16;

}  // namespace

#define ONEDNN_ADDON_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

ONEDNN_ADDON_CLONES
void sgdMomentum(const float* __restrict w, const float* __restrict v, const float* __restrict g,
                 float* __restrict wOut, float* __restrict vOut, size_t n, float lr, float momentum,
                 float weightDecay) {
  const long len = static_cast<long>(n);
  const bool decay = weightDecay > 0.0f;
#pragma omp parallel for simd schedule(static) if (len >= kParallelMin)
  for (long i = 0; i < len; ++i) {
    const float grad = decay ? g[i] + w[i] * weightDecay : g[i];
    const float velocity = v[i] * momentum + grad;
    vOut[i] = velocity;
    wOut[i] = w[i] - velocity * lr;
  }
}

ONEDNN_ADDON_CLONES
void movingAverages(const float* __restrict m, const float* __restrict v, const float* __restrict mean,
                    const float* __restrict variance, float* __restrict mOut, float* __restrict vOut, size_t n,
                    float keep, float momentum, float correction) {
  const long len = static_cast<long>(n);
#pragma omp simd
  for (long i = 0; i < len; ++i) {
    mOut[i] = m[i] * keep + mean[i] * momentum;
    vOut[i] = v[i] * keep + (variance[i] * correction) * momentum;
  }
}

}  // namespace onednn_addon
