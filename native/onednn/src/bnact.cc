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

// The specialised channel counts walk a block kW floats (kW / C rows) at a time in one flat loop: kW / C
// interleaved float partial sums per channel, each its own dependency chain, added in double at the block's end
// in a fixed order. One double accumulator per channel (the generic loop above) is a chain of dependent adds per
// row: with 8 channels a row is one vector, so the stats pass ran at the add latency (~4 cycles a row), about
// 2x the time it takes to stream the activation out of L2. Each float chain sums at most kBlockRows * C / kW
// values of a block (32 with 8 channels), deviations from the block-shared shift k, so float costs little: against
// the cpu backend the fig6 shapes' mean, variance and gradients stay within 1.3e-6 relative (y and dx unchanged).
// Measured at 1 thread, data in cache (batch 32: [32,32,32,8], [32,16,16,16], [32,8,8,32]), forward with residual
// 84/38/18 -> 63/28/13 us, backward 137/74/36 -> 103/57/27 us, against a floor of 48/24/10 and 85/42/17 us (the
// streams each must read and write at the 80-90 GB/s a plain 2-read-1-write loop reaches on the same sizes). In
// the lockstep workload the data mostly comes from DRAM (~14 GB/s a core): there the 8-channel forward took
// 146-185 us a call and the backward 305 us (from 181-191 and 353-381), close to the DRAM floor (~200 / ~330 us);
// what is left there is traffic, not arithmetic.
constexpr int kW = 64;

template <int C>
constexpr int lanes() { return kW / C; }

template <int C>
inline void laneSumsToDouble(const float* q1, const float* q2, double* s1, double* s2) {
  for (int j = 0; j < C; ++j) {
    double t1 = 0.0, t2 = 0.0;
    for (int l = 0; l < lanes<C>(); ++l) {
      t1 += static_cast<double>(q1[l * C + j]);
      t2 += static_cast<double>(q2[l * C + j]);
    }
    s1[j] = t1;
    s2[j] = t2;
  }
}

template <int C>
inline void statsFast(const float* __restrict x, long r0, long r1, const float* __restrict k, double* s1, double* s2) {
  constexpr int L = lanes<C>();
  float kk[kW], q1[kW], q2[kW];
  for (int i = 0; i < kW; ++i) {
    kk[i] = k[i % C];
    q1[i] = q2[i] = 0.0f;
  }
  long r = r0;
  for (; r + L <= r1; r += L) {
    const float* __restrict p = x + r * C;
#pragma omp simd
    for (int i = 0; i < kW; ++i) {
      const float d = p[i] - kk[i];
      q1[i] += d;
      q2[i] += d * d;
    }
  }
  for (; r < r1; ++r) {  // a short last block: its leftover rows go to the first lane
    const float* __restrict p = x + r * C;
    for (int j = 0; j < C; ++j) {
      const float d = p[j] - kk[j];
      q1[j] += d;
      q2[j] += d * d;
    }
  }
  laneSumsToDouble<C>(q1, q2, s1, s2);
}

BNACT_CLONES
void statsBlock(const float* x, int c, long r0, long r1, const float* k, double* s1, double* s2) {
  withChannels(c, [&](auto C) {
    constexpr int n = decltype(C)::value;
    if constexpr (n > 0) statsFast<n>(x, r0, r1, k, s1, s2);
    else statsBody<0>(x, c, r0, r1, k, s1, s2);
  });
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

// The same flat kW-float walk: a row of 8 channels is half an AVX-512 vector.
template <int C, bool Residual, bool Relu>
inline void normalizeFast(const float* __restrict x, const float* __restrict a, const float* __restrict b,
                          const float* __restrict res, float* __restrict y, long r0, long r1) {
  constexpr int L = lanes<C>();
  float aa[kW], bb[kW];
  for (int i = 0; i < kW; ++i) {
    aa[i] = a[i % C];
    bb[i] = b[i % C];
  }
  long r = r0;
  for (; r + L <= r1; r += L) {
    const long o = r * C;
#pragma omp simd
    for (int i = 0; i < kW; ++i) {
      float v = x[o + i] * aa[i] + bb[i];
      if (Residual) v += res[o + i];
      if (Relu) v = v < 0.0f ? 0.0f : v;
      y[o + i] = v;
    }
  }
  if (r < r1) normalizeBody<C, Residual, Relu>(x, a, b, res, y, C, r, r1);
}

template <int C, bool Residual, bool Relu>
inline void normalizeAny(const float* x, const float* a, const float* b, const float* res, float* y, int c, long r0,
                         long r1) {
  if constexpr (C > 0) normalizeFast<C, Residual, Relu>(x, a, b, res, y, r0, r1);
  else normalizeBody<C, Residual, Relu>(x, a, b, res, y, c, r0, r1);
}

BNACT_CLONES
void normalizeBlock(const float* x, const float* a, const float* b, const float* res, bool relu, float* y, int c,
                    long r0, long r1) {
  withChannels(c, [&](auto C) {
    constexpr int n = decltype(C)::value;
    if (res && relu) normalizeAny<n, true, true>(x, a, b, res, y, c, r0, r1);
    else if (res) normalizeAny<n, true, false>(x, a, b, res, y, c, r0, r1);
    else if (relu) normalizeAny<n, false, true>(x, a, b, res, y, c, r0, r1);
    else normalizeAny<n, false, false>(x, a, b, res, y, c, r0, r1);
  });
}

// The ReLU's gradient, dy where the output is positive: dy * step(y) as TF's own formula (a NaN dy stays NaN).
template <bool Relu>
inline float maskedGrad(float dy, float y) {
  return Relu ? dy * (y > 0.0f ? 1.0f : 0.0f) : dy;
}

// The gradient below the activation, dz, is written once, by the first pass, where the second pass reads it: into
// dResidual (it is that gradient) or else into dx (which the second pass then overwrites in place). Recomputing it
// there instead re-read dy and y: with three input streams of a batch-128 activation the second pass left L3 and
// the fused backward ran 1.45x the time of the separate ReLU-gradient and BN-gradient kernels. Rows are masked a
// chunk at a time in one flat loop: computed inside the per-row loops, GCC left rows of 8 or 24 channels scalar.
constexpr long kChunkRows = 256;

// g1 = sum of dz, g2 = sum of dz * (x - mean); dz = masked dy, stored to dz when it is not null.
template <int C, bool Relu>
inline void gradSumsBody(const float* __restrict dy, const float* __restrict x, const float* __restrict y,
                         const float* __restrict mean, float* __restrict dz, double* __restrict g1,
                         double* __restrict g2, int cr, long r0, long r1) {
  const int c = C > 0 ? C : cr;
  double a1[C > 0 ? C : 1];
  double a2[C > 0 ? C : 1];
  double* p1 = C > 0 ? a1 : g1;
  double* p2 = C > 0 ? a2 : g2;
  for (int j = 0; j < c; ++j) p1[j] = p2[j] = 0.0;
  for (long r = r0; r < r1; r += kChunkRows) {
    const long end = r + kChunkRows < r1 ? r + kChunkRows : r1;
    const float* rows = dy;
    if (dz) {
      const long first = r * c, count = (end - r) * c;
#pragma omp simd
      for (long i = first; i < first + count; ++i) dz[i] = maskedGrad<Relu>(dy[i], y[i]);
      rows = dz;
    }
    for (long q = r; q < end; ++q) {
      const float* __restrict g = rows + q * c;
      const float* __restrict xr = x + q * c;
#pragma omp simd
      for (int j = 0; j < c; ++j) {
        p1[j] += g[j];
        p2[j] += static_cast<double>(g[j]) * (static_cast<double>(xr[j]) - static_cast<double>(mean[j]));
      }
    }
  }
  if (C > 0) {
    for (int j = 0; j < c; ++j) {
      g1[j] = p1[j];
      g2[j] = p2[j];
    }
  }
}

// As statsFast: interleaved float chains within the block, double across them. The flat kW-float loop also
// masks and stores dz in the same pass, vectorised whatever the channel count, so the chunked masking above is
// not needed here.
template <int C, bool Relu, bool Store>
inline void gradSumsFast(const float* __restrict dy, const float* __restrict x, const float* __restrict y,
                         const float* __restrict mean, float* __restrict dz, double* g1, double* g2, long r0,
                         long r1) {
  constexpr int L = lanes<C>();
  float mm[kW], q1[kW], q2[kW];
  for (int i = 0; i < kW; ++i) {
    mm[i] = mean[i % C];
    q1[i] = q2[i] = 0.0f;
  }
  long r = r0;
  for (; r + L <= r1; r += L) {
    const long o = r * C;
#pragma omp simd
    for (int i = 0; i < kW; ++i) {
      const float g = maskedGrad<Relu>(dy[o + i], Relu ? y[o + i] : 0.0f);
      if (Store) dz[o + i] = g;
      q1[i] += g;
      q2[i] += g * (x[o + i] - mm[i]);
    }
  }
  for (; r < r1; ++r) {
    const long o = r * C;
    for (int j = 0; j < C; ++j) {
      const float g = maskedGrad<Relu>(dy[o + j], Relu ? y[o + j] : 0.0f);
      if (Store) dz[o + j] = g;
      q1[j] += g;
      q2[j] += g * (x[o + j] - mm[j]);
    }
  }
  laneSumsToDouble<C>(q1, q2, g1, g2);
}

BNACT_CLONES
void gradSumsBlock(const float* dy, const float* x, const float* y, bool relu, const float* mean, float* dz,
                   double* g1, double* g2, int c, long r0, long r1) {
  withChannels(c, [&](auto C) {
    constexpr int n = decltype(C)::value;
    if constexpr (n > 0) {
      if (relu && dz) gradSumsFast<n, true, true>(dy, x, y, mean, dz, g1, g2, r0, r1);
      else if (relu) gradSumsFast<n, true, false>(dy, x, y, mean, dz, g1, g2, r0, r1);
      else if (dz) gradSumsFast<n, false, true>(dy, x, y, mean, dz, g1, g2, r0, r1);
      else gradSumsFast<n, false, false>(dy, x, y, mean, dz, g1, g2, r0, r1);
    } else if (relu) {
      gradSumsBody<0, true>(dy, x, y, mean, dz, g1, g2, c, r0, r1);
    } else {
      gradSumsBody<0, false>(dy, x, y, mean, dz, g1, g2, c, r0, r1);
    }
  });
}

// dx = a * dz + b * (x - mean) + k per channel. dz may be dx itself (updated in place, element by element).
template <int C>
inline void gradApplyBody(const float* dz, const float* __restrict x, const float* __restrict mean,
                          const float* __restrict a, const float* __restrict b, const float* __restrict k, float* dx,
                          int cr, long r0, long r1) {
  const int c = C > 0 ? C : cr;
  for (long r = r0; r < r1; ++r) {
    const long o = r * c;
#pragma omp simd
    for (int j = 0; j < c; ++j) dx[o + j] = a[j] * dz[o + j] + b[j] * (x[o + j] - mean[j]) + k[j];
  }
}

template <int C>
inline void gradApplyFast(const float* dz, const float* __restrict x, const float* __restrict mean,
                          const float* __restrict a, const float* __restrict b, const float* __restrict k, float* dx,
                          long r0, long r1) {
  constexpr int L = lanes<C>();
  float mm[kW], aa[kW], bb[kW], kk[kW];
  for (int i = 0; i < kW; ++i) {
    mm[i] = mean[i % C];
    aa[i] = a[i % C];
    bb[i] = b[i % C];
    kk[i] = k[i % C];
  }
  long r = r0;
  for (; r + L <= r1; r += L) {
    const long o = r * C;
#pragma omp simd
    for (int i = 0; i < kW; ++i) dx[o + i] = aa[i] * dz[o + i] + bb[i] * (x[o + i] - mm[i]) + kk[i];
  }
  if (r < r1) gradApplyBody<C>(dz, x, mean, a, b, k, dx, C, r, r1);
}

BNACT_CLONES
void gradApplyBlock(const float* dz, const float* x, const float* mean, const float* a, const float* b,
                    const float* k, float* dx, int c, long r0, long r1) {
  withChannels(c, [&](auto C) {
    constexpr int n = decltype(C)::value;
    if constexpr (n > 0) gradApplyFast<n>(dz, x, mean, a, b, k, dx, r0, r1);
    else gradApplyBody<0>(dz, x, mean, a, b, k, dx, c, r0, r1);
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
  // dz is stored where a residual needs it or where the ReLU changed it; plain BN reads dy twice instead.
  float* dz = dResidual ? dResidual : (s.relu ? dx : nullptr);
  blockSums(s.rows, c, g1, g2, [&](long r0, long r1, double* p1, double* p2) {
    gradSumsBlock(dy, x, y, s.relu, mean, dz, p1, p2, c, r0, r1);
  });
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
  const float* dzRead = dz ? dz : dy;
  overBlocks(s.rows, c, [&](long r0, long r1) {
    gradApplyBlock(dzRead, x, mean, a.data(), b.data(), k.data(), dx, c, r0, r1);
  });
}

}  // namespace onednn_addon
