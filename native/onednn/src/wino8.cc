// Winograd F(4x4,3x3) (Lavin & Gray 2016) for the 8 -> 8 channel shapes of conv8.h (wino8.h), all three
// directions.
//
// Per call the filter is transformed once (U = G g G^T, 36 positions x 8 x 8, in double and rounded once, plain
// scalar code shared by both instruction sets); per image, in bands of tile rows: each 6x6 input patch (stride
// 4) becomes V = B^T d B (36 positions x 8 channels), then per position the product M[t][o] = sum_i V[t][i]
// U[i][o] over the band's tiles (a block of tiles of 8 output channels in registers, each V value broadcast),
// then the 4x4 outputs A^T M A. Points 0, +-1, +-2 and infinity, the matrices of Lavin & Gray. The input
// gradient is the forward with the filter flipped and transposed. The filter gradient (the forward's transpose):
// per position dU += V^T (A dy A^T) over all tiles of the batch (8 x 8 accumulators), then dw = G^T dU G once
// per call (in double, rounded once).
//
// Reproducibility: every element is computed by the same operations in the same order whatever the instruction
// set or register blocking (transforms: fixed fma/add sequences per channel; products: fmas over i = 0 .. 7 from
// zero, or over the tiles in image, band and tile order), so the AVX-512 and AVX2 builds give the same bits; the
// forward and input gradient split the batch over threads per image, the filter gradient into T contiguous
// slices added in slice order (batch_split.h).
#include "wino8.h"
#include "batch_split.h"

#include <immintrin.h>

#include <algorithm>

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
const double kG[6][3] = {{1.0 / 4, 0, 0},           {-1.0 / 6, -1.0 / 6, -1.0 / 6}, {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                         {1.0 / 24, 1.0 / 12, 1.0 / 6}, {1.0 / 24, -1.0 / 12, 1.0 / 6}, {0, 0, 1}};

void filterTransform(const float* wt, float* U) {
  const auto& G = kG;
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

// dw[ky][kx][k] = (G^T dU[.][.][k] G)[ky][kx], in double, rounded once.
void gradFilterTransform(const float* dU, float* dw) {
  for (int k = 0; k < 64; ++k) {
    double a[3][6];
    for (int ky = 0; ky < 3; ++ky) {
      for (int s = 0; s < 6; ++s) {
        double sum = 0;
        for (int r = 0; r < 6; ++r) sum += kG[r][ky] * dU[(r * 6 + s) * 64 + k];
        a[ky][s] = sum;
      }
    }
    for (int ky = 0; ky < 3; ++ky) {
      for (int kx = 0; kx < 3; ++kx) {
        double sum = 0;
        for (int s = 0; s < 6; ++s) sum += a[ky][s] * kG[s][kx];
        dw[(ky * 3 + kx) * 64 + k] = static_cast<float>(sum);
      }
    }
  }
}

void gradBatch(Conv8Isa isa, int n, int h, int w, const float* x, const float* dy, float* dw) {
  constexpr int size = 36 * 64;
  const long imageFloats = static_cast<long>(h) * w * 8;
  const int bandRows = bandRowsFor(w);
  const size_t scratch = static_cast<size_t>(36) * bandRows * ((w + 3) / 4) * 8;
  AlignedFloats dU(size);
  sumOverSlices(n, size, dU.get(), [&](int first, int count, float* sum) {
    AlignedFloats block(2 * scratch);
    float* V = block.get();
    float* Y = V + scratch;
    for (int i = first; i < first + count; ++i) {
      const bool more = i + 1 < first + count;
      const float* nx = more ? x + (i + 1) * imageFloats : nullptr;
      const float* nd = more ? dy + (i + 1) * imageFloats : nullptr;
      if (isa == Conv8Isa::avx512) {
        w8avx512::gradImage(x + i * imageFloats, dy + i * imageFloats, h, w, sum, V, Y, bandRows, nx, nd);
      } else {
        w8avx2::gradImage(x + i * imageFloats, dy + i * imageFloats, h, w, sum, V, Y, bandRows, nx, nd);
      }
    }
  });
  gradFilterTransform(dU.get(), dw);
}

void batch(Conv8Isa isa, int n, int h, int w, const float* x, const float* wt, float* y) {
  alignas(64) float U[36 * 64];
  filterTransform(wt, U);
  const long imageFloats = static_cast<long>(h) * w * 8;
  const int bandRows = bandRowsFor(w);
  const size_t scratch = static_cast<size_t>(36) * bandRows * ((w + 3) / 4) * 8;
  forEachImageSlice(n, [&](int first, int last) {
    AlignedFloats block(2 * scratch);
    float* V = block.get();
    float* M = V + scratch;
    for (int i = first; i < last; ++i) {
      const float* nextX = i + 1 < last ? x + (i + 1) * imageFloats : nullptr;
      if (isa == Conv8Isa::avx512) {
        w8avx512::winoImage(x + i * imageFloats, h, w, U, V, M, y + i * imageFloats, bandRows, nextX);
      } else {
        w8avx2::winoImage(x + i * imageFloats, h, w, U, V, M, y + i * imageFloats, bandRows, nextX);
      }
    }
  });
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

namespace onednn_addon {

void wino8BackwardWeights(Conv8Isa isa, int n, int h, int w, const float* x, const float* dy, float* dw) {
  gradBatch(isa, n, h, w, x, dy, dw);
}

}  // namespace onednn_addon
