// Winograd F(4x4,3x3) (Lavin & Gray 2016) for the 8 -> 8 channel shapes of conv8.h (wino8.h), forward and input
// gradient.
//
// Per call the filter is transformed once (U = G g G^T, 36 positions x 8 x 8, in double and rounded once, plain
// scalar code shared by both instruction sets); per image, in bands of tile rows: each 6x6 input patch (stride
// 4) becomes V = B^T d B (36 positions x 8 channels), then per position the product M[t][o] = sum_i V[t][i]
// U[i][o] over the band's tiles (a block of tiles of 8 output channels in registers, each V value broadcast),
// then the 4x4 outputs A^T M A. Points 0, +-1, +-2 and infinity, the matrices of Lavin & Gray.
//
// Reproducibility: every element is computed by the same operations in the same order whatever the instruction
// set or register blocking (transforms: fixed fma/add sequences per channel; products: fmas over i = 0 .. 7 from
// zero), so the AVX-512 and AVX2 builds give the same bits; the batch is split over threads per image.
#include "wino8.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <memory>

namespace onednn_addon {

#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace w8avx2 {
// 16 registers: 8 filter vectors + 4 tiles + broadcasts.
constexpr int gemmT() { return 4; }
#include "wino8_kernels.inc"
}  // namespace w8avx2
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx2,fma,avx512f,avx512vl")
namespace w8avx512 {
// 32 registers: 8 filter vectors + 16 tiles + broadcasts.
constexpr int gemmT() { return 16; }
#include "wino8_kernels.inc"
}  // namespace w8avx512
#pragma GCC pop_options

namespace {

// Tile rows per band: about 16 tiles (V and M 18 KiB each; 8 and 32 tiles measured slower hot and cycled).
int bandRowsFor(int w) { return std::max(1, 16 / ((w + 3) / 4)); }

// U[xi][i][o] = (G g G^T)[xi] of g = wt[.][.][i][o] (HWIO), G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6;
// 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1].
void filterTransform(const float* wt, float* U) {
  static const double G[6][3] = {{1.0 / 4, 0, 0},           {-1.0 / 6, -1.0 / 6, -1.0 / 6}, {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                 {1.0 / 24, 1.0 / 12, 1.0 / 6}, {1.0 / 24, -1.0 / 12, 1.0 / 6}, {0, 0, 1}};
  for (int k = 0; k < 64; ++k) {
    double a[6][3];
    for (int r = 0; r < 6; ++r) {
      for (int kx = 0; kx < 3; ++kx) {
        double sum = 0;
        for (int ky = 0; ky < 3; ++ky) sum += G[r][ky] * wt[(ky * 3 + kx) * 64 + k];
        a[r][kx] = sum;
      }
    }
    for (int r = 0; r < 6; ++r) {
      for (int s = 0; s < 6; ++s) {
        double sum = 0;
        for (int kx = 0; kx < 3; ++kx) sum += a[r][kx] * G[s][kx];
        U[(r * 6 + s) * 64 + k] = static_cast<float>(sum);
      }
    }
  }
}

void batch(Conv8Isa isa, int n, int h, int w, const float* x, const float* wt, float* y) {
  alignas(64) float U[36 * 64];
  filterTransform(wt, U);
  const long imageFloats = static_cast<long>(h) * w * 8;
  const int bandRows = bandRowsFor(w);
  const size_t scratch = static_cast<size_t>(36) * bandRows * ((w + 3) / 4) * 8;
  const int threads = std::min(omp_get_max_threads(), n);
  auto run = [&](int first, int last) {
    // On 64-byte boundaries, so that no vector of V and M straddles two cache lines.
    std::unique_ptr<float[]> block(new float[2 * scratch + 16]);
    float* V = block.get() + (16 - reinterpret_cast<uintptr_t>(block.get()) / 4 % 16) % 16;
    float* M = V + scratch;
    for (int i = first; i < last; ++i) {
      const float* nextX = i + 1 < last ? x + (i + 1) * imageFloats : nullptr;
      if (isa == Conv8Isa::avx512) {
        w8avx512::winoImage(x + i * imageFloats, h, w, U, V, M, y + i * imageFloats, bandRows, nextX);
      } else {
        w8avx2::winoImage(x + i * imageFloats, h, w, U, V, M, y + i * imageFloats, bandRows, nextX);
      }
    }
  };
  if (threads <= 1) {
    run(0, n);
    return;
  }
  // Contiguous slices of the batch, one per thread (each image's result does not depend on its thread).
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    const int first = t * (n / nt) + std::min(t, n % nt);
    run(first, first + n / nt + (t < n % nt ? 1 : 0));
  }
}

}  // namespace

void wino8Forward(Conv8Isa isa, int n, int h, int w, const float* x, const float* wt, float* y) {
  batch(isa, n, h, w, x, wt, y);
}

void wino8BackwardData(Conv8Isa isa, int n, int h, int w, const float* dy, const float* wt, float* dx) {
  // As conv8BackwardData: the forward with w'[ky][kx][o][i] = w[2 - ky][2 - kx][i][o].
  float flipped[9 * 64];
  for (int k = 0; k < 9; ++k) {
    for (int i = 0; i < 8; ++i) {
      for (int o = 0; o < 8; ++o) flipped[k * 64 + o * 8 + i] = wt[(8 - k) * 64 + i * 8 + o];
    }
  }
  batch(isa, n, h, w, dy, flipped, dx);
}

}  // namespace onednn_addon
