#include "eltwise.h"

namespace onednn_addon {
namespace {

// Below this an OpenMP fork/join (a few microseconds) costs more than the loop.
constexpr long kParallelMin = 1L << 15;

}  // namespace

// The loops are written branch-free (selects, not conditional loads) so they vectorise; target_clones builds
// AVX-512/AVX2 copies picked at load time, without tying the addon to the build machine's CPU.
#define ONEDNN_ADDON_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

ONEDNN_ADDON_CLONES
void reluForward(const float* __restrict x, float* __restrict y, size_t n) {
  const long len = static_cast<long>(n);
#pragma omp parallel for simd schedule(static) if (len >= kParallelMin)
  for (long i = 0; i < len; ++i) y[i] = x[i] < 0.0f ? 0.0f : x[i];  // as TF: NaN passes through
}

ONEDNN_ADDON_CLONES
void reluBackward(const float* __restrict dy, const float* __restrict x, float* __restrict dx, size_t n) {
  const long len = static_cast<long>(n);
  // dy * step(x), exactly TF's formula (a NaN/inf dy still yields NaN where x <= 0).
#pragma omp parallel for simd schedule(static) if (len >= kParallelMin)
  for (long i = 0; i < len; ++i) dx[i] = dy[i] * (x[i] > 0.0f ? 1.0f : 0.0f);
}

ONEDNN_ADDON_CLONES
void stepForward(const float* __restrict x, float* __restrict y, float alpha, size_t n) {
  const long len = static_cast<long>(n);
  // x != x is the NaN test that survives vectorisation (std::isnan may not under fast-math-like flags).
#pragma omp parallel for simd schedule(static) if (len >= kParallelMin)
  for (long i = 0; i < len; ++i) y[i] = x[i] != x[i] ? x[i] : (x[i] > 0.0f ? 1.0f : alpha);
}

ONEDNN_ADDON_CLONES
void affineChannels(const float* __restrict x, const float* __restrict a, const float* __restrict b,
                    const float* __restrict residual, float* __restrict y, size_t rows, size_t channels, bool relu) {
  const long n = static_cast<long>(rows);
  const long c = static_cast<long>(channels);
  // Rounded as the separate ops round (affine, then add, then ReLU; -ffp-contract=off), so evaluation gives the
  // same bits fused or not; one pass instead of three over activations that do not fit in the cache.
#pragma omp parallel for schedule(static) if (n * c >= kParallelMin)
  for (long r = 0; r < n; ++r) {
    const float* in = x + r * c;
    float* out = y + r * c;
    if (residual == nullptr && !relu) {
#pragma omp simd
      for (long k = 0; k < c; ++k) out[k] = in[k] * a[k] + b[k];
      continue;
    }
    const float* add = residual == nullptr ? nullptr : residual + r * c;
#pragma omp simd
    for (long k = 0; k < c; ++k) {
      float v = in[k] * a[k] + b[k];
      if (add != nullptr) v += add[k];
      out[k] = relu && v < 0.0f ? 0.0f : v;  // as reluForward: NaN passes through
    }
  }
}

ONEDNN_ADDON_CLONES
void addMany(const float* const* inputs, size_t count, float* __restrict out, size_t n) {
  const long len = static_cast<long>(n);
  // Summed in input order, as TF.js's AddN does, one input at a time so each pass streams.
#pragma omp parallel if (len >= kParallelMin)
  {
#pragma omp for simd schedule(static)
    for (long i = 0; i < len; ++i) out[i] = inputs[0][i];
    for (size_t k = 1; k < count; ++k) {
      const float* __restrict in = inputs[k];
#pragma omp for simd schedule(static)
      for (long i = 0; i < len; ++i) out[i] += in[i];
    }
  }
}

}  // namespace onednn_addon
