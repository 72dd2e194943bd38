// The machine's single-precision FMA peak per core, and what oneDNN's sgemm reaches, in CPU time of one thread
// (so other processes' load does not count). Not part of the build:
//
//   g++ -O2 -fopenmp bench/fma-peak.cc -ldnnl -o /tmp/fma-peak && OMP_NUM_THREADS=1 /tmp/fma-peak
//
// The FMA loop keeps 12 independent accumulators in flight (more than latency x pipes on current x86 cores),
// once with 512-bit and once with 256-bit vectors; the better of the two is the peak.
#include <dnnl.hpp>
#include <immintrin.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "cpu-seconds.h"

namespace {

template <typename F>
double gflops(double flop, F f) {
  double best = 0;
  for (int round = 0; round < 3; ++round) {
    const double start = cpuSeconds();
    f();
    best = std::max(best, flop / (cpuSeconds() - start) / 1e9);
  }
  return best;
}

volatile float sink;
constexpr long kIterations = 100000000;

__attribute__((target("avx512f"))) void fma512() {
  __m512 acc[12];
  const __m512 a = _mm512_set1_ps(1.0000001f), b = _mm512_set1_ps(1e-7f);
  for (int i = 0; i < 12; ++i) acc[i] = _mm512_set1_ps(static_cast<float>(i));
  for (long k = 0; k < kIterations; ++k) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  }
  float s = 0;
  for (int i = 0; i < 12; ++i) s += _mm512_reduce_add_ps(acc[i]);
  sink = s;
}

__attribute__((target("avx2,fma"))) void fma256() {
  __m256 acc[12];
  const __m256 a = _mm256_set1_ps(1.0000001f), b = _mm256_set1_ps(1e-7f);
  for (int i = 0; i < 12; ++i) acc[i] = _mm256_set1_ps(static_cast<float>(i));
  for (long k = 0; k < kIterations; ++k) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  }
  float out[8], s = 0;
  for (int i = 0; i < 12; ++i) {
    _mm256_storeu_ps(out, acc[i]);
    for (float v : out) s += v;
  }
  sink = s;
}

}  // namespace

int main() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) std::printf("AVX-512 FMA: %.1f GFLOP/s per core\n", gflops(kIterations * 12.0 * 16 * 2, fma512));
  if (__builtin_cpu_supports("fma")) std::printf("AVX2 FMA:    %.1f GFLOP/s per core\n", gflops(kIterations * 12.0 * 8 * 2, fma256));
  const int n = 1024;
  std::vector<float> a(n * n, 1.0f), b(n * n, 1.0f), c(n * n);
  const double sgemm = gflops(20.0 * 2 * n * n * n, [&] {
    for (int r = 0; r < 20; ++r) dnnl_sgemm('N', 'N', n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n);
  });
  std::printf("oneDNN sgemm %dx%dx%d: %.1f GFLOP/s (OMP_NUM_THREADS threads)\n", n, n, n, sgemm);
}
