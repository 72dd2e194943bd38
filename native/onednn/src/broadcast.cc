#include "broadcast.h"

#include <vector>

namespace onednn_addon {
namespace {

constexpr long kParallelMin = 1L << 15;

#define ONEDNN_ADDON_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

template <BinaryOp op>
inline float apply(float x, float y) {
  if constexpr (op == BinaryOp::Add) return x + y;
  if constexpr (op == BinaryOp::Sub) return x - y;
  if constexpr (op == BinaryOp::Mul) return x * y;
  return x / y;
}

// The innermost level, specialised on which side is broadcast so each variant vectorises.
template <BinaryOp op>
ONEDNN_ADDON_CLONES void innerLoop(const float* __restrict a, const float* __restrict b, float* __restrict out,
                                   long n, long sa, long sb) {
  if (sa == 1 && sb == 1) {
#pragma omp simd
    for (long i = 0; i < n; ++i) out[i] = apply<op>(a[i], b[i]);
  } else if (sa == 1 && sb == 0) {
    const float y = b[0];
#pragma omp simd
    for (long i = 0; i < n; ++i) out[i] = apply<op>(a[i], y);
  } else if (sa == 0 && sb == 1) {
    const float x = a[0];
#pragma omp simd
    for (long i = 0; i < n; ++i) out[i] = apply<op>(x, b[i]);
  } else {
    for (long i = 0; i < n; ++i) out[i] = apply<op>(a[i * sa], b[i * sb]);
  }
}

template <BinaryOp op>
void run(const float* a, const float* b, float* out, const BroadcastLevel* levels, int count) {
  const BroadcastLevel& in = levels[count - 1];
  long outer = 1;
  for (int l = 0; l < count - 1; ++l) outer *= levels[l].size;
  const long total = outer * in.size;
  if (count == 1) {
    // A single level (same shapes, or a scalar operand): split the one loop across threads.
    const long chunk = 1L << 14;
    const long chunks = (in.size + chunk - 1) / chunk;
#pragma omp parallel for schedule(static) if (total >= kParallelMin)
    for (long c = 0; c < chunks; ++c) {
      const long start = c * chunk;
      const long n = in.size - start < chunk ? in.size - start : chunk;
      innerLoop<op>(a + start * in.strideA, b + start * in.strideB, out + start, n, in.strideA, in.strideB);
    }
    return;
  }
#pragma omp parallel for schedule(static) if (total >= kParallelMin)
  for (long o = 0; o < outer; ++o) {
    long rest = o, offA = 0, offB = 0;
    for (int l = count - 2; l >= 0; --l) {
      const long idx = rest % levels[l].size;
      rest /= levels[l].size;
      offA += idx * levels[l].strideA;
      offB += idx * levels[l].strideB;
    }
    innerLoop<op>(a + offA, b + offB, out + o * in.size, in.size, in.strideA, in.strideB);
  }
}

// Reductions accumulate in double, as TF.js's JS loops do, so long sums match the cpu backend closely.
ONEDNN_ADDON_CLONES void sumRows(const float* __restrict x, float* __restrict out, double* __restrict acc,
                                 long reduce, long inner, double scale) {
  // Row by row so the inner dimension (channels, in NHWC) streams contiguously.
  for (long i = 0; i < inner; ++i) acc[i] = 0.0;
  for (long r = 0; r < reduce; ++r) {
    const float* row = x + r * inner;
#pragma omp simd
    for (long i = 0; i < inner; ++i) acc[i] += row[i];
  }
  for (long i = 0; i < inner; ++i) out[i] = static_cast<float>(acc[i] * scale);
}

ONEDNN_ADDON_CLONES double sumContiguous(const float* __restrict x, long n) {
  double total = 0.0;
#pragma omp simd reduction(+ : total)
  for (long i = 0; i < n; ++i) total += x[i];
  return total;
}

}  // namespace

void binaryBroadcast(BinaryOp op, const float* a, const float* b, float* out, const BroadcastLevel* levels,
                     int count) {
  switch (op) {
    case BinaryOp::Add: return run<BinaryOp::Add>(a, b, out, levels, count);
    case BinaryOp::Sub: return run<BinaryOp::Sub>(a, b, out, levels, count);
    case BinaryOp::Mul: return run<BinaryOp::Mul>(a, b, out, levels, count);
    case BinaryOp::Div: return run<BinaryOp::Div>(a, b, out, levels, count);
  }
}

void reduceMiddle(const float* x, float* out, long outer, long reduce, long inner, float scale) {
  const long total = outer * reduce * inner;
  if (inner == 1) {
#pragma omp parallel for schedule(static) if (total >= kParallelMin && outer > 1)
    for (long o = 0; o < outer; ++o) out[o] = static_cast<float>(sumContiguous(x + o * reduce, reduce) * scale);
    return;
  }
#pragma omp parallel if (total >= kParallelMin && outer > 1)
  {
    std::vector<double> acc(static_cast<size_t>(inner));
#pragma omp for schedule(static)
    for (long o = 0; o < outer; ++o) sumRows(x + o * reduce * inner, out + o * inner, acc.data(), reduce, inner, scale);
  }
}

}  // namespace onednn_addon
