#include "bnact.h"

#include <cmath>
#include <type_traits>
#include <vector>

namespace onednn_addon {
namespace {

// Rows per partial sum: a fixed grid, so the order of additions never depends on the thread count.
constexpr long kBlockRows = 256;
// Below this many elements an OpenMP fork/join costs more than the loops.
constexpr long kParallelMin = 1L << 15;

// AVX-512/AVX2 copies picked at load time (as in eltwise.cc); flatten compiles the channel-count templates into
// each copy. Every per-block kernel is vectorised across channels, so a channel's sum is always taken row by row.
#define BNACT_CLONES __attribute__((target_clones("avx512f", "avx2", "default"), flatten))

template <typename F>
inline void withChannels(int c, F&& f) {
  switch (c) {
    case 8: f(std::integral_constant<int, 8>{}); break;
    case 16: f(std::integral_constant<int, 16>{}); break;
    case 32: f(std::integral_constant<int, 32>{}); break;
    case 64: f(std::integral_constant<int, 64>{}); break;
    default: f(std::integral_constant<int, 0>{}); break;
  }
}

// s1 = sum of (x - k), s2 = sum of (x - k)^2 over rows [r0, r1); k (the first row) keeps the squares small
// relative to the variance, so E[d^2] - E[d]^2 does not cancel.
template <int C>
inline void statsBody(const float* __restrict x, int cr, long r0, long r1, const float* __restrict k,
                      double* __restrict s1, double* __restrict s2) {
  const int c = C > 0 ? C : cr;
  double a1[C > 0 ? C : 1];
  double a2[C > 0 ? C : 1];
  double* p1 = C > 0 ? a1 : s1;
  double* p2 = C > 0 ? a2 : s2;
  for (int j = 0; j < c; ++j) p1[j] = p2[j] = 0.0;
  for (long r = r0; r < r1; ++r) {
    const float* __restrict row = x + r * c;
#pragma omp simd
    for (int j = 0; j < c; ++j) {
      const double d = static_cast<double>(row[j]) - static_cast<double>(k[j]);
      p1[j] += d;
      p2[j] += d * d;
    }
  }
  if (C > 0) {
    for (int j = 0; j < c; ++j) {
      s1[j] = p1[j];
      s2[j] = p2[j];
    }
  }
}

BNACT_CLONES
void statsBlock(const float* x, int c, long r0, long r1, const float* k, double* s1, double* s2) {
  withChannels(c, [&](auto C) { statsBody<decltype(C)::value>(x, c, r0, r1, k, s1, s2); });
}

template <int C, bool Residual, bool Relu>
inline void normalizeBody(const float* __restrict x, const float* __restrict a, const float* __restrict b,
                          const float* __restrict res, float* __restrict y, int cr, long r0, long r1) {
  const int c = C > 0 ? C : cr;
  for (long r = r0; r < r1; ++r) {
    const long o = r * c;
#pragma omp simd
    for (int j = 0; j < c; ++j) {
      float v = x[o + j] * a[j] + b[j];
      if (Residual) v += res[o + j];
      if (Relu) v = v < 0.0f ? 0.0f : v;  // as TF's Relu: NaN passes through
      y[o + j] = v;
    }
  }
}

BNACT_CLONES
void normalizeBlock(const float* x, const float* a, const float* b, const float* res, bool relu, float* y, int c,
                    long r0, long r1) {
  withChannels(c, [&](auto C) {
    constexpr int n = decltype(C)::value;
    if (res && relu) normalizeBody<n, true, true>(x, a, b, res, y, c, r0, r1);
    else if (res) normalizeBody<n, true, false>(x, a, b, res, y, c, r0, r1);
    else if (relu) normalizeBody<n, false, true>(x, a, b, res, y, c, r0, r1);
    else normalizeBody<n, false, false>(x, a, b, res, y, c, r0, r1);
  });
}

// The ReLU's gradient, dy where the output is positive: dy * step(y) as TF's own formula (a NaN dy stays NaN).
template <bool Relu>
inline float maskedGrad(float dy, float y) {
  return Relu ? dy * (y > 0.0f ? 1.0f : 0.0f) : dy;
}

// Masked gradients are computed a chunk of rows at a time in one flat loop, then read back row by row: computed
// inside the per-row loops, GCC left rows of 8 or 24 channels scalar (a store-forwarding stall per element, 20x
// slower). 4096 floats: 16 KB, stays in L1.
constexpr long kChunkFloats = 4096;

template <bool Relu>
inline long maskChunk(const float* __restrict dy, const float* __restrict y, float* __restrict dz, long r, long r1,
                      int c) {
  const long rows = c <= kChunkFloats ? kChunkFloats / c : 1;
  const long end = r + rows < r1 ? r + rows : r1;
  const long first = r * c, count = (end - r) * c;
  if (c > kChunkFloats) {
    for (long i = 0; i < count; ++i) dz[i] = maskedGrad<Relu>(dy[first + i], y[first + i]);
    return end;  // (a row wider than the chunk: the caller reads it as it is computed, see below)
  }
#pragma omp simd
  for (long i = 0; i < count; ++i) dz[i] = maskedGrad<Relu>(dy[first + i], y[first + i]);
  return end;
}

// g1 = sum of dz, g2 = sum of dz * (x - mean), dz the gradient below the activation.
template <int C, bool Relu>
inline void gradSumsBody(const float* __restrict dy, const float* __restrict x, const float* __restrict y,
                         const float* __restrict mean, double* __restrict g1, double* __restrict g2, int cr, long r0,
                         long r1) {
  const int c = C > 0 ? C : cr;
  double a1[C > 0 ? C : 1];
  double a2[C > 0 ? C : 1];
  double* p1 = C > 0 ? a1 : g1;
  double* p2 = C > 0 ? a2 : g2;
  for (int j = 0; j < c; ++j) p1[j] = p2[j] = 0.0;
  if (c > kChunkFloats) {  // wider rows than any network here has: unchunked
    for (long r = r0; r < r1; ++r) {
      for (int j = 0; j < c; ++j) {
        const double dz = maskedGrad<Relu>(dy[r * c + j], y[r * c + j]);
        p1[j] += dz;
        p2[j] += dz * (static_cast<double>(x[r * c + j]) - static_cast<double>(mean[j]));
      }
    }
  } else {
    float dz[kChunkFloats];
    for (long r = r0; r < r1;) {
      const long end = maskChunk<Relu>(dy, y, dz, r, r1, c);
      for (long q = r; q < end; ++q) {
        const float* __restrict row = dz + (q - r) * c;
        const float* __restrict xr = x + q * c;
#pragma omp simd
        for (int j = 0; j < c; ++j) {
          p1[j] += row[j];
          p2[j] += static_cast<double>(row[j]) * (static_cast<double>(xr[j]) - static_cast<double>(mean[j]));
        }
      }
      r = end;
    }
  }
  if (C > 0) {
    for (int j = 0; j < c; ++j) {
      g1[j] = p1[j];
      g2[j] = p2[j];
    }
  }
}

BNACT_CLONES
void gradSumsBlock(const float* dy, const float* x, const float* y, bool relu, const float* mean, double* g1,
                   double* g2, int c, long r0, long r1) {
  withChannels(c, [&](auto C) {
    constexpr int n = decltype(C)::value;
    if (relu) gradSumsBody<n, true>(dy, x, y, mean, g1, g2, c, r0, r1);
    else gradSumsBody<n, false>(dy, x, y, mean, g1, g2, c, r0, r1);
  });
}

// dx = a * dz + b * (x - mean) + k per channel; dr = dz where the forward added a residual.
template <int C, bool Relu, bool Residual>
inline void gradApplyBody(const float* __restrict dy, const float* __restrict x, const float* __restrict y,
                          const float* __restrict mean, const float* __restrict a, const float* __restrict b,
                          const float* __restrict k, float* __restrict dx, float* __restrict dr, int cr, long r0,
                          long r1) {
  const int c = C > 0 ? C : cr;
  if (c > kChunkFloats) {
    for (long i = r0 * c; i < r1 * c; ++i) {
      const float dz = maskedGrad<Relu>(dy[i], y[i]);
      const int j = static_cast<int>(i % c);
      dx[i] = a[j] * dz + b[j] * (x[i] - mean[j]) + k[j];
      if (Residual) dr[i] = dz;
    }
    return;
  }
  float dz[kChunkFloats];
  for (long r = r0; r < r1;) {
    const long end = maskChunk<Relu>(dy, y, dz, r, r1, c);
    if (Residual) {
      const long first = r * c, count = (end - r) * c;
#pragma omp simd
      for (long i = 0; i < count; ++i) dr[first + i] = dz[i];
    }
    for (long q = r; q < end; ++q) {
      const float* __restrict row = dz + (q - r) * c;
      const long o = q * c;
#pragma omp simd
      for (int j = 0; j < c; ++j) dx[o + j] = a[j] * row[j] + b[j] * (x[o + j] - mean[j]) + k[j];
    }
    r = end;
  }
}

BNACT_CLONES
void gradApplyBlock(const float* dy, const float* x, const float* y, bool relu, const float* mean, const float* a,
                    const float* b, const float* k, float* dx, float* dr, int c, long r0, long r1) {
  withChannels(c, [&](auto C) {
    constexpr int n = decltype(C)::value;
    if (relu && dr) gradApplyBody<n, true, true>(dy, x, y, mean, a, b, k, dx, dr, c, r0, r1);
    else if (relu) gradApplyBody<n, true, false>(dy, x, y, mean, a, b, k, dx, dr, c, r0, r1);
    else if (dr) gradApplyBody<n, false, true>(dy, x, y, mean, a, b, k, dx, dr, c, r0, r1);
    else gradApplyBody<n, false, false>(dy, x, y, mean, a, b, k, dx, dr, c, r0, r1);
  });
}

long blockCount(long rows) { return (rows + kBlockRows - 1) / kBlockRows; }

// Per-block partial sums (two per channel), computed in parallel, then added in block order.
template <typename Partial>
void blockSums(long rows, int c, std::vector<double>& t1, std::vector<double>& t2, Partial partial) {
  const long blocks = blockCount(rows);
  std::vector<double> p(static_cast<size_t>(blocks) * 2 * c);
#pragma omp parallel for schedule(static) if (rows * c >= kParallelMin)
  for (long blk = 0; blk < blocks; ++blk) {
    const long r0 = blk * kBlockRows;
    const long r1 = r0 + kBlockRows < rows ? r0 + kBlockRows : rows;
    partial(r0, r1, &p[static_cast<size_t>(blk) * 2 * c], &p[(static_cast<size_t>(blk) * 2 + 1) * c]);
  }
  t1.assign(c, 0.0);
  t2.assign(c, 0.0);
  for (long blk = 0; blk < blocks; ++blk) {
    for (int j = 0; j < c; ++j) {
      t1[j] += p[static_cast<size_t>(blk) * 2 * c + j];
      t2[j] += p[(static_cast<size_t>(blk) * 2 + 1) * c + j];
    }
  }
}

template <typename Body>
void overBlocks(long rows, int c, Body body) {
  const long blocks = blockCount(rows);
#pragma omp parallel for schedule(static) if (rows * c >= kParallelMin)
  for (long blk = 0; blk < blocks; ++blk) {
    const long r0 = blk * kBlockRows;
    body(r0, r0 + kBlockRows < rows ? r0 + kBlockRows : rows);
  }
}

}  // namespace

void bnActForward(const BnActShape& s, const float* x, const float* scale, const float* shift, const float* residual,
                  float* y, float* mean, float* variance) {
  const int c = s.c;
  const double m = static_cast<double>(s.rows);
  std::vector<double> s1, s2;
  blockSums(s.rows, c, s1, s2, [&](long r0, long r1, double* p1, double* p2) { statsBlock(x, c, r0, r1, x, p1, p2); });
  std::vector<float> a(c), b(c);
  for (int j = 0; j < c; ++j) {
    const double d = s1[j] / m;
    double var = s2[j] / m - d * d;
    if (var < 0.0) var = 0.0;
    const double mu = static_cast<double>(x[j]) + d;
    mean[j] = static_cast<float>(mu);
    variance[j] = static_cast<float>(var);
    const double gain = static_cast<double>(scale[j]) / std::sqrt(var + static_cast<double>(s.epsilon));
    a[j] = static_cast<float>(gain);
    b[j] = static_cast<float>(static_cast<double>(shift[j]) - mu * gain);
  }
  overBlocks(s.rows, c, [&](long r0, long r1) { normalizeBlock(x, a.data(), b.data(), residual, s.relu, y, c, r0, r1); });
}

void bnActBackward(const BnActShape& s, const float* dy, const float* x, const float* y, const float* scale,
                   const float* mean, const float* variance, float* dx, float* dScale, float* dShift,
                   float* dResidual) {
  const int c = s.c;
  const double m = static_cast<double>(s.rows);
  std::vector<double> g1, g2;
  blockSums(s.rows, c, g1, g2,
            [&](long r0, long r1, double* p1, double* p2) { gradSumsBlock(dy, x, y, s.relu, mean, p1, p2, c, r0, r1); });
  std::vector<float> a(c), b(c), k(c);
  for (int j = 0; j < c; ++j) {
    const double rstd = 1.0 / std::sqrt(static_cast<double>(variance[j]) + static_cast<double>(s.epsilon));
    const double gamma = scale[j];
    dShift[j] = static_cast<float>(g1[j]);
    dScale[j] = static_cast<float>(g2[j] * rstd);
    a[j] = static_cast<float>(gamma * rstd);
    b[j] = static_cast<float>(-gamma * rstd * rstd * rstd * g2[j] / m);
    k[j] = static_cast<float>(-gamma * rstd * g1[j] / m);
  }
  overBlocks(s.rows, c, [&](long r0, long r1) {
    gradApplyBlock(dy, x, y, s.relu, mean, a.data(), b.data(), k.data(), dx, dResidual, c, r0, r1);
  });
}

}  // namespace onednn_addon
