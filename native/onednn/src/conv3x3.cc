// Kernels for 3x3 stride-1 'same' convolutions with 16 -> 16 or 32 -> 32 channels (conv3x3.h); the design of
// conv8.cc widened to 1-2 zmm / 2-4 ymm registers per pixel. The training step runs these shapes through
// Winograd F(4x4,3x3) or, on maps under 8x8, F(2x2,3x3) (wino3x3.cc; conv3x3Kernel), 1.2-2x
// faster there; the direct kernels below stay as the rule's other branch and as bench/conv3x3.cc's reference.
//
// Forward: a block of B output pixels along a row, V vectors of output channels each, is held in registers
// while each input value is broadcast and multiplied into the up to 3 pixels it meets per filter row by that
// row's 3 x V filter vectors. Borders are skipped in the kernel (no padded copy of the input).
// Input gradient: the forward kernel with the filter flipped in space and its in/out channels swapped.
// Filter gradient: per filter row, group of G input channels and V output vectors, 3 x G x V accumulators over
// all pixels of the image; a sliding window of 3 dy vectors per row.
// Memory: the step hands these kernels tensors that come from DRAM or L3; the forward prefetches the input row
// two ahead (into the next image at the end of one) and the next output row, the filter gradient the next image.
//
// Reproducibility: each output element is summed in one fixed order whatever V, B, G or the instruction set
// (forward: filter row, input channel, filter column; filter gradient: image, then pixel), so the AVX-512 and
// AVX2 builds give the same bits. With T > 1 threads the forward and input gradient split the batch over
// threads (each image's result is independent of which thread computes it); the filter gradient cuts the batch
// into T contiguous slices and adds the T partial sums in slice order (batch_split.h), as conv.cc's oneDNN path does.
#include "conv3x3.h"
#include "batch_split.h"
#include "simd.h"
#include "wino3x3.h"

#include <immintrin.h>

#include <algorithm>

namespace onednn_addon {

// The namespaces differ from conv8.cc's (avx2, avx512): inline functions of the same name in two files would
// be merged by the linker.
#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace c3avx2 {
using namespace simd_avx2;
// 16 registers: forward 4 pixels x 2 vectors + 3 x 2 filter vectors + 1 broadcast; filter gradient 3 x 4
// accumulators + 3 dy vectors + 1 broadcast.
constexpr int fwdV(int) { return 2; }
constexpr int fwdB(int) { return 4; }
constexpr int gradV(int) { return 1; }
constexpr int gradG(int) { return 4; }
#include "conv3x3_kernels.inc"
}  // namespace c3avx2
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx2,fma,avx512f")
namespace c3avx512 {
using namespace simd_avx512;
// 32 registers: forward 8 pixels x 1 vector (16 channels) or x 2 (32) + 3 x V filter vectors + 1 broadcast (16
// pixels x 1 vector measured 5-10% slower);
// filter gradient 3 x 8 x 1 (16 channels) or 3 x 4 x 2 (32) accumulators + 3 x V dy vectors + 1 broadcast.
constexpr int fwdV(int c) { return c / 16; }
constexpr int fwdB(int) { return 8; }
constexpr int gradV(int c) { return c / 16; }
constexpr int gradG(int c) { return c == 16 ? 8 : 4; }
#include "conv3x3_kernels.inc"
}  // namespace c3avx512
#pragma GCC pop_options

namespace {

template <int C>
void forwardImage(Conv8Isa isa, const float* x, const float* xEnd, int h, int w, const float* wt, float* y) {
  if (isa == Conv8Isa::avx512) {
    c3avx512::forwardImage<C>(x, xEnd, h, w, wt, y);
  } else {
    c3avx2::forwardImage<C>(x, xEnd, h, w, wt, y);
  }
}

template <int C>
void forwardBatch(Conv8Isa isa, int n, int h, int w, const float* x, const float* wt, float* y) {
  const long image = static_cast<long>(h) * w * C;
  const float* xEnd = x + n * image;
  forEachImageSlice(n, [&](int first, int last) {
    for (int i = first; i < last; ++i) forwardImage<C>(isa, x + i * image, xEnd, h, w, wt, y + i * image);
  });
}

template <int C>
void backwardWeights(Conv8Isa isa, int n, int h, int w, const float* x, const float* dy, float* dw) {
  constexpr int size = 9 * C * C;
  const long image = static_cast<long>(h) * w * C;
  sumOverSlices(n, size, dw, [&](int first, int count, float* sum) {
    for (int i = first; i < first + count; ++i) {
      const bool more = i + 1 < first + count;
      const float* pfX = more ? x + (i + 1) * image : nullptr;
      const float* pfDy = more ? dy + (i + 1) * image : nullptr;
      if (isa == Conv8Isa::avx512) {
        c3avx512::filterGradImage<C>(x + i * image, dy + i * image, h, w, sum, pfX, pfDy);
      } else {
        c3avx2::filterGradImage<C>(x + i * image, dy + i * image, h, w, sum, pfX, pfDy);
      }
    }
  });
}

}  // namespace

// Empty tensors stay on oneDNN's path (the filter-gradient loop reads a row's first pixel unguarded).
bool conv3x3Applies(const ConvShape& s) {
  return conv8BestIsa() != Conv8Isa::none && s.n > 0 && s.ih > 0 && s.iw > 0 && (s.ic == 16 || s.ic == 32) &&
         s.oc == s.ic && s.kh == 3 && s.kw == 3 && s.sh == 1 && s.sw == 1 && s.dh == 1 && s.dw == 1 && s.pt == 1 &&
         s.pl == 1 && s.pb == 1 && s.pr == 1 && s.oh == s.ih && s.ow == s.iw;
}

// Winograd F(2x2,3x3) does 2.25x fewer multiplications than the direct kernels and measured faster in all three
// directions at batch 32 on 16x16 (16 channels) and 8x8 (32) maps and at batch 128 on 32x32 / 16x16, hot and
// from DRAM, and in the training step; F(4x4,3x3) does 2.25x fewer again for larger transforms and measured
// faster than F(2x2) in all three directions at batch 32 on 16x16 and 8x8 maps (README). Smaller maps waste most
// of a 6x6 tile on padding, so they keep F(2x2); the direct kernels stay as the benchmark's reference.
Conv3x3Kernel conv3x3Kernel(int n, int h, int w, int c) {
  return h >= 8 && w >= 8 ? Conv3x3Kernel::winogradF4 : Conv3x3Kernel::winogradF2;
}

void conv3x3Forward(Conv8Isa isa, int n, int h, int w, int c, const float* x, const float* wt, float* y) {
  switch (conv3x3Kernel(n, h, w, c)) {
    case Conv3x3Kernel::winogradF4: return wino4x4Forward(isa, n, h, w, c, x, wt, y);
    case Conv3x3Kernel::winogradF2: return wino3x3Forward(isa, n, h, w, c, x, wt, y);
    case Conv3x3Kernel::direct: return conv3x3DirectForward(isa, n, h, w, c, x, wt, y);
  }
}

void conv3x3BackwardData(Conv8Isa isa, int n, int h, int w, int c, const float* dy, const float* wt, float* dx) {
  switch (conv3x3Kernel(n, h, w, c)) {
    case Conv3x3Kernel::winogradF4: return wino4x4BackwardData(isa, n, h, w, c, dy, wt, dx);
    case Conv3x3Kernel::winogradF2: return wino3x3BackwardData(isa, n, h, w, c, dy, wt, dx);
    case Conv3x3Kernel::direct: return conv3x3DirectBackwardData(isa, n, h, w, c, dy, wt, dx);
  }
}

void conv3x3DirectForward(Conv8Isa isa, int n, int h, int w, int c, const float* x, const float* wt, float* y) {
  if (c == 16) {
    forwardBatch<16>(isa, n, h, w, x, wt, y);
  } else {
    forwardBatch<32>(isa, n, h, w, x, wt, y);
  }
}

void conv3x3DirectBackwardData(Conv8Isa isa, int n, int h, int w, int c, const float* dy, const float* wt, float* dx) {
  // dx[iy][ix][i] = sum dy[iy - ky + 1][ix - kx + 1][o] w[ky][kx][i][o]: the forward with w'[ky][kx][o][i] =
  // w[2 - ky][2 - kx][i][o].
  float flipped[9 * 32 * 32];
  for (int k = 0; k < 9; ++k) {
    const float* from = wt + (8 - k) * c * c;
    float* to = flipped + k * c * c;
    for (int i = 0; i < c; ++i) {
      for (int o = 0; o < c; ++o) to[o * c + i] = from[i * c + o];
    }
  }
  conv3x3DirectForward(isa, n, h, w, c, dy, flipped, dx);
}

void conv3x3BackwardWeights(Conv8Isa isa, int n, int h, int w, int c, const float* x, const float* dy, float* dw) {
  switch (conv3x3Kernel(n, h, w, c)) {
    case Conv3x3Kernel::winogradF4: return wino4x4BackwardWeights(isa, n, h, w, c, x, dy, dw);
    case Conv3x3Kernel::winogradF2: return wino3x3BackwardWeights(isa, n, h, w, c, x, dy, dw);
    case Conv3x3Kernel::direct: return conv3x3DirectBackwardWeights(isa, n, h, w, c, x, dy, dw);
  }
}

void conv3x3DirectBackwardWeights(Conv8Isa isa, int n, int h, int w, int c, const float* x, const float* dy, float* dw) {
  if (c == 16) {
    backwardWeights<16>(isa, n, h, w, x, dy, dw);
  } else {
    backwardWeights<32>(isa, n, h, w, x, dy, dw);
  }
}

}  // namespace onednn_addon
