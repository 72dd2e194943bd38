// Winograd F(2x2,3x3) (Lavin & Gray 2016) for conv3x3.h's shapes, all three directions (wino3x3.h). The filter
// gradient uses the same input transform, dy tiles transformed by A (4x2), per-position sums over the tiles and
// G^T . G at the end (wino3x3_kernels.inc, gradImage).
//
// Per call the filter is transformed once (U = G g G^T, 16 x C x C, in plain scalar code shared by both
// instruction sets); per image, in bands of tile rows: each 4x4 input patch (stride 2) becomes V = B^T d B
// (16 positions x C channels, adds only), then per position the product M[t][o] = sum_i V[t][i] U[i][o] over the
// band's tiles (a small GEMM: a block of tiles x 1-2 zmm / 2 ymm of output channels in registers, each V value
// broadcast), then the 2x2 outputs A^T M A. The bands keep V and M (16 x tiles x C floats each) in L1/L2.
//
// F(4x4,3x3) (wino4x4*, wino4x4_kernels.inc; conv3x3Kernel picks it for maps of at least 8x8): the same
// structure with 6x6 patches at stride 4 and 36 positions, products in groups of 8 tiles (tile rows of one image
// or several whole small images: the 8x8 maps have only 2x2 tiles each), the same GEMM blocks.
//
// Reproducibility: every element is computed by the same operations in the same order whatever the instruction
// set or register blocking (transforms: fixed add/sub sequences per channel; products: fmas over i = 0 .. C-1
// from zero), so the AVX-512 and AVX2 builds give the same bits; the batch is split over threads per image.
#include "wino3x3.h"
#include "batch_split.h"
#include "simd.h"

#include <immintrin.h>

#include <algorithm>

namespace onednn_addon {

// Winograd F(4x4) (wino4x4_kernels.inc): tiles per group of products: images with fewer tiles are grouped whole
// (the 8x8 maps' 2x2 tiles), larger ones cut into bands of tile rows.
struct Bands4 {
  int tilesH, tilesW, perImage, imagesPerGroup, bandRows;
  Bands4(int h, int w, int target) {
    tilesH = (h + 3) / 4;
    tilesW = (w + 3) / 4;
    perImage = tilesH * tilesW;
    imagesPerGroup = perImage >= target ? 1 : target / perImage;
    bandRows = perImage >= target ? std::max(1, target / tilesW) : tilesH;
  }
  // Floats of V (or M) for the largest group.
  long scratch(int C) const { return 36L * std::max(imagesPerGroup * perImage, bandRows * tilesW) * C; }
};

#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace w3avx2 {
using namespace simd_avx2;
// 16 registers: 6 tiles x 2 vectors + 2 filter vectors + 1 broadcast.
constexpr int gemmT(int) { return 6; }
constexpr int gemmV(int) { return 2; }
// Filter gradient: 8 input channels x 1 vector of output channels (+ 1 dy vector + 1 broadcast).
constexpr int gradI(int) { return 8; }
constexpr int gradVv(int) { return 1; }
#include "wino3x3_kernels.inc"
#include "wino4x4_kernels.inc"
}  // namespace w3avx2
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx2,fma,avx512f")
namespace w3avx512 {
using namespace simd_avx512;
// 32 registers: 16 tiles x 1 vector (16 channels) or 8 x 2 (32) + the filter vectors + 1 broadcast.
constexpr int gemmT(int c) { return c == 16 ? 16 : 8; }
constexpr int gemmV(int c) { return c / 16; }
// Filter gradient: 16 input channels x 1 vector (16) or 8 x 2 (32) accumulators.
constexpr int gradI(int c) { return c == 16 ? 16 : 8; }
constexpr int gradVv(int c) { return c / 16; }
#include "wino3x3_kernels.inc"
#include "wino4x4_kernels.inc"
}  // namespace w3avx512
#pragma GCC pop_options

namespace {

// Tile rows per band: about 8 tiles (V and M 8-16 KiB each; 16 or 32 tiles measured no faster, 32 slower at 16
// channels).
int bandRowsFor(int w) { return std::max(1, 8 / ((w + 1) / 2)); }

template <int C>
void filter(Conv8Isa isa, const float* wt, float* U) {
  if (isa == Conv8Isa::avx512) {
    w3avx512::filterTransform<C>(wt, U);
  } else {
    w3avx2::filterTransform<C>(wt, U);
  }
}

template <int C>
void image(Conv8Isa isa, const float* x, int h, int w, const float* U, float* V, float* M, float* y, int bandRows,
           const float* nextX, const float* nextY) {
  if (isa == Conv8Isa::avx512) {
    w3avx512::winoImage<C>(x, h, w, U, V, M, y, bandRows, nextX, nextY);
  } else {
    w3avx2::winoImage<C>(x, h, w, U, V, M, y, bandRows, nextX, nextY);
  }
}

template <int C>
void batch(Conv8Isa isa, int n, int h, int w, const float* x, const float* wt, float* y) {
  alignas(64) float U[16 * C * C];
  filter<C>(isa, wt, U);
  const long imageFloats = static_cast<long>(h) * w * C;
  const int bandRows = bandRowsFor(w);
  const size_t scratch = static_cast<size_t>(16) * bandRows * ((w + 1) / 2) * C;
  forEachImageSlice(n, [&](int first, int last) {
    // Not zeroed (every element is written before it is read); aligned, as malloc's 16-byte alignment made the
    // calls 20% slower at random.
    AlignedFloats block(2 * scratch);
    float* V = block.get();
    float* M = V + scratch;
    for (int i = first; i < last; ++i) {
      const bool more = i + 1 < last;
      image<C>(isa, x + i * imageFloats, h, w, U, V, M, y + i * imageFloats, bandRows,
               more ? x + (i + 1) * imageFloats : nullptr, more ? y + (i + 1) * imageFloats : nullptr);
    }
  });
}

template <int C>
void gradBatch(Conv8Isa isa, int n, int h, int w, const float* x, const float* dy, float* dw) {
  constexpr int size = 16 * C * C;
  const long imageFloats = static_cast<long>(h) * w * C;
  const int bandRows = bandRowsFor(w);
  const size_t scratch = static_cast<size_t>(16) * bandRows * ((w + 1) / 2) * C;
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
        w3avx512::gradImage<C>(x + i * imageFloats, dy + i * imageFloats, h, w, sum, V, Y, bandRows, nx, nd);
      } else {
        w3avx2::gradImage<C>(x + i * imageFloats, dy + i * imageFloats, h, w, sum, V, Y, bandRows, nx, nd);
      }
    }
  });
  if (isa == Conv8Isa::avx512) {
    w3avx512::gradFilterTransform<C>(dU.get(), dw);
  } else {
    w3avx2::gradFilterTransform<C>(dU.get(), dw);
  }
}

void forward(Conv8Isa isa, int n, int h, int w, int c, const float* x, const float* wt, float* y) {
  if (c == 16) {
    batch<16>(isa, n, h, w, x, wt, y);
  } else {
    batch<32>(isa, n, h, w, x, wt, y);
  }
}

// As conv3x3BackwardData: the input gradient is the forward with w'[ky][kx][o][i] = w[2 - ky][2 - kx][i][o].
// In 8 x 8 blocks (a plain strided transpose took 6 us at 32 channels, a tenth of what Winograd saves).
void flip(int c, const float* wt, float* flipped) {
  for (int k = 0; k < 9; ++k) {
    const float* from = wt + (8 - k) * c * c;
    float* to = flipped + k * c * c;
    for (int i0 = 0; i0 < c; i0 += 8) {
      for (int o0 = 0; o0 < c; o0 += 8) {
        float block[8][8];
        for (int i = 0; i < 8; ++i) {
          for (int o = 0; o < 8; ++o) block[o][i] = from[(i0 + i) * c + o0 + o];
        }
        for (int o = 0; o < 8; ++o) {
          for (int i = 0; i < 8; ++i) to[(o0 + o) * c + i0 + i] = block[o][i];
        }
      }
    }
  }
}

// F(4x4): tiles per group of products (V and M 36 x tiles x C floats each, 18-36 KiB); 4, 8, 12, 16 and 32
// measured alike within 10% at batch 32 on 16x16 / 8x8 maps, 32 and 16 slowest.
constexpr int kTiles4 = 8;

template <int C>
void batch4(Conv8Isa isa, int n, int h, int w, const float* x, const float* wt, float* y) {
  alignas(64) float U[36 * C * C];
  if (isa == Conv8Isa::avx512) {
    w3avx512::filterTransform4<C>(wt, U);
  } else {
    w3avx2::filterTransform4<C>(wt, U);
  }
  const long imageFloats = static_cast<long>(h) * w * C;
  const Bands4 bands(h, w, kTiles4);
  // Each thread's slice of the batch in one scratch block (not zeroed: every element is written before it is read).
  forEachImageSlice(n, [&](int first, int last) {
    AlignedFloats s(2 * bands.scratch(C));
    float* V = s.get();
    float* M = V + bands.scratch(C);
    const float* xs = x + first * imageFloats;
    float* ys = y + first * imageFloats;
    if (isa == Conv8Isa::avx512) {
      w3avx512::winoImages4<C>(xs, last - first, h, w, U, V, M, ys, bands, nullptr, nullptr);
    } else {
      w3avx2::winoImages4<C>(xs, last - first, h, w, U, V, M, ys, bands, nullptr, nullptr);
    }
  });
}

template <int C>
void gradBatch4(Conv8Isa isa, int n, int h, int w, const float* x, const float* dy, float* dw) {
  constexpr int size = 36 * C * C;
  const long imageFloats = static_cast<long>(h) * w * C;
  const Bands4 bands(h, w, kTiles4);
  AlignedFloats dU(size);
  sumOverSlices(n, size, dU.get(), [&](int first, int count, float* sum) {
    AlignedFloats s(2 * bands.scratch(C));
    float* V = s.get();
    float* Y = V + bands.scratch(C);
    const float* xs = x + first * imageFloats;
    const float* ds = dy + first * imageFloats;
    if (isa == Conv8Isa::avx512) {
      w3avx512::gradImages4<C>(xs, ds, count, h, w, sum, V, Y, bands, nullptr, nullptr);
    } else {
      w3avx2::gradImages4<C>(xs, ds, count, h, w, sum, V, Y, bands, nullptr, nullptr);
    }
  });
  if (isa == Conv8Isa::avx512) {
    w3avx512::gradFilterTransform4<C>(dU.get(), dw);
  } else {
    w3avx2::gradFilterTransform4<C>(dU.get(), dw);
  }
}

void forward4(Conv8Isa isa, int n, int h, int w, int c, const float* x, const float* wt, float* y) {
  if (c == 16) {
    batch4<16>(isa, n, h, w, x, wt, y);
  } else {
    batch4<32>(isa, n, h, w, x, wt, y);
  }
}

}  // namespace

void wino3x3Forward(Conv8Isa isa, int n, int h, int w, int c, const float* x, const float* wt, float* y) {
  forward(isa, n, h, w, c, x, wt, y);
}

void wino3x3BackwardData(Conv8Isa isa, int n, int h, int w, int c, const float* dy, const float* wt, float* dx) {
  alignas(64) float flipped[9 * 32 * 32];
  flip(c, wt, flipped);
  forward(isa, n, h, w, c, dy, flipped, dx);
}

void wino3x3BackwardWeights(Conv8Isa isa, int n, int h, int w, int c, const float* x, const float* dy, float* dw) {
  if (c == 16) {
    gradBatch<16>(isa, n, h, w, x, dy, dw);
  } else {
    gradBatch<32>(isa, n, h, w, x, dy, dw);
  }
}

void wino4x4Forward(Conv8Isa isa, int n, int h, int w, int c, const float* x, const float* wt, float* y) {
  forward4(isa, n, h, w, c, x, wt, y);
}

void wino4x4BackwardData(Conv8Isa isa, int n, int h, int w, int c, const float* dy, const float* wt, float* dx) {
  alignas(64) float flipped[9 * 32 * 32];
  flip(c, wt, flipped);
  forward4(isa, n, h, w, c, dy, flipped, dx);
}

void wino4x4BackwardWeights(Conv8Isa isa, int n, int h, int w, int c, const float* x, const float* dy, float* dw) {
  if (c == 16) {
    gradBatch4<16>(isa, n, h, w, x, dy, dw);
  } else {
    gradBatch4<32>(isa, n, h, w, x, dy, dw);
  }
}

}  // namespace onednn_addon
