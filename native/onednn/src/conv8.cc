// Kernels for 3x3 stride-1 'same' convolutions with 8 input and 8 output channels (conv8.h).
//
// Forward: one output pixel's 8 channels are one 8-float vector; a block of pixels along a row is held in
// registers (16 with AVX-512VL's 32 vector registers, 8 with AVX2's 16) while each input value is broadcast and
// multiplied into the up to 3 pixels it meets per filter row, by the 9 filter vectors of its channel (loaded once
// per channel and block). Borders: the blocks on an image's edge multiply zeros for the padding column's taps,
// rows above and below read a row of zeros (the bits of a zero-padded copy, without the copy).
// Input gradient: the forward kernel with the filter flipped in space and its in/out channels swapped.
// Filter gradient: per filter row and group of input channels, 3 x G accumulators of 8 output channels over all
// pixels of the image (G = 8 with 32 registers, 4 with 16); a sliding window of 3 dy vectors per row.
// Memory: in the training step the inputs come from DRAM; each image's compute issues software prefetches for the
// next image's input (forward, input gradient) or x and dy (filter gradient), so that traffic overlaps the FMAs
// (bench/conv8-cold.cc measures hot against cold buffers).
//
// Reproducibility: each output element is summed in one fixed order whatever the block or group size (forward:
// input channel, filter row, filter column; filter gradient: image, then pixel), so the AVX-512 and AVX2
// builds give the same bits. With T > 1 threads the forward and input gradient split the batch over threads
// (each image's result is independent of which thread computes it); the filter gradient cuts the batch into T
// contiguous slices and adds the T partial sums in slice order (batch_split.h, shared by our kernels), the same
// split as conv.cc's oneDNN path.
#include "conv8.h"
#include "batch_split.h"

#include <immintrin.h>

#include <algorithm>
#include <vector>

namespace onednn_addon {

#pragma GCC push_options
#pragma GCC target("avx2,fma")
#define CONV8_NS avx2
#define CONV8_BLOCK 8
#define CONV8_GROUP 4
#include "conv8_kernels.inc"
#undef CONV8_NS
#undef CONV8_BLOCK
#undef CONV8_GROUP
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx2,fma,avx512f,avx512vl")
#define CONV8_NS avx512
#define CONV8_BLOCK 16
#define CONV8_GROUP 8
#include "conv8_kernels.inc"
#undef CONV8_NS
#undef CONV8_BLOCK
#undef CONV8_GROUP
#pragma GCC pop_options

namespace {

// A row of w + 2 zero pixels per thread (the padding above and below an image).
const float* zeroRow(int w) {
  thread_local std::vector<float> zeros;
  const size_t size = static_cast<size_t>(w + 2) * 8;
  if (zeros.size() < size) zeros.assign(size, 0.0f);
  return zeros.data();
}

// Image i of n; the next one's input is fetched while this one computes.
void forwardImage(Conv8Isa isa, int i, int n, const float* x, int h, int w, const float* wt, float* y) {
  const long image = static_cast<long>(h) * w * 8;
  const float* xi = x + i * image;
  const float* nextX = i + 1 < n ? xi + image : nullptr;
  float* yi = y + i * image;
  if (isa == Conv8Isa::avx512) {
    avx512::forwardImage(xi, h, w, wt, yi, zeroRow(w), nextX);
  } else {
    avx2::forwardImage(xi, h, w, wt, yi, zeroRow(w), nextX);
  }
}

void forwardBatch(Conv8Isa isa, int n, int h, int w, const float* x, const float* wt, float* y) {
  forEachImageSlice(n, [&](int first, int last) {
    for (int i = first; i < last; ++i) forwardImage(isa, i, n, x, h, w, wt, y);
  });
}

}  // namespace

Conv8Isa conv8BestIsa() {
  static const Conv8Isa best = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")) return Conv8Isa::avx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Conv8Isa::avx2;
    return Conv8Isa::none;
  }();
  return best;
}

// Empty tensors stay on oneDNN's path as before (the filter-gradient loop reads a row's first pixel unguarded).
bool conv8Applies(const ConvShape& s) {
  return conv8BestIsa() != Conv8Isa::none && s.n > 0 && s.ih > 0 && s.iw > 0 && s.ic == 8 && s.oc == 8 && s.kh == 3 && s.kw == 3 && s.sh == 1 &&
         s.sw == 1 && s.dh == 1 && s.dw == 1 && s.pt == 1 && s.pl == 1 && s.pb == 1 && s.pr == 1 &&
         s.oh == s.ih && s.ow == s.iw;
}

void conv8Forward(Conv8Isa isa, int n, int h, int w, const float* x, const float* wt, float* y) {
  forwardBatch(isa, n, h, w, x, wt, y);
}

void conv8BackwardData(Conv8Isa isa, int n, int h, int w, const float* dy, const float* wt, float* dx) {
  // dx[iy][ix][i] = sum dy[iy - ky + 1][ix - kx + 1][o] w[ky][kx][i][o]: the forward with w'[ky][kx][o][i] =
  // w[2 - ky][2 - kx][i][o].
  float flipped[3 * 3 * 8 * 8];
  for (int ky = 0; ky < 3; ++ky) {
    for (int kx = 0; kx < 3; ++kx) {
      const float* from = wt + ((2 - ky) * 3 + (2 - kx)) * 64;
      float* to = flipped + (ky * 3 + kx) * 64;
      for (int i = 0; i < 8; ++i) {
        for (int o = 0; o < 8; ++o) to[o * 8 + i] = from[i * 8 + o];
      }
    }
  }
  forwardBatch(isa, n, h, w, dy, flipped, dx);
}

void conv8BackwardWeights(Conv8Isa isa, int n, int h, int w, const float* x, const float* dy, float* dw) {
  const long image = static_cast<long>(h) * w * 8;
  sumOverSlices(n, 576, dw, [&](int first, int count, float* sum) {
    for (int i = first; i < first + count; ++i) {
      const float* nextX = i + 1 < first + count ? x + (i + 1) * image : nullptr;
      const float* nextDy = i + 1 < first + count ? dy + (i + 1) * image : nullptr;
      if (isa == Conv8Isa::avx512) {
        avx512::filterGradImage(x + i * image, dy + i * image, h, w, sum, nextX, nextDy);
      } else {
        avx2::filterGradImage(x + i * image, dy + i * image, h, w, sum, nextX, nextDy);
      }
    }
  });
}

}  // namespace onednn_addon
