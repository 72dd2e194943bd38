// Winograd F(2x2,3x3) and F(4x4,3x3) (below) for the 3x3 stride-1 'same' C -> C convolutions of conv3x3.h (C = 16
// or 32), all three directions: F(2x2) does 16 multiplications per 2x2 output tile and channel pair instead of 36,
// so 2.25x fewer FMAs than the direct kernels, which run at the FMA peak. conv3x3.cc decides which one runs
// (conv3x3Kernel).
#pragma once

#include "conv8.h"

namespace onednn_addon {

// On omp_get_max_threads() threads (the batch split over them per image, so the bits do not depend on the
// count); c (16 or 32) channels in and out; x, y, dx, dy NHWC (n x h x w x c), filters HWIO (3 x 3 x c x c).
void wino3x3Forward(Conv8Isa isa, int n, int h, int w, int c, const float* x, const float* wt, float* y);
void wino3x3BackwardData(Conv8Isa isa, int n, int h, int w, int c, const float* dy, const float* wt, float* dx);
// The filter gradient (dw HWIO) by the same transforms; with T > 1 threads the batch is cut into T contiguous
// slices whose sums are added in slice order, so the bits depend on the thread count (as the direct kernel's).
void wino3x3BackwardWeights(Conv8Isa isa, int n, int h, int w, int c, const float* x, const float* dy, float* dw);

// The same by Winograd F(4x4,3x3) (6x6 tiles, 36 products per 4x4 outputs and channel pair instead of 64):
// the same signatures, threading and bit promises.
void wino4x4Forward(Conv8Isa isa, int n, int h, int w, int c, const float* x, const float* wt, float* y);
void wino4x4BackwardData(Conv8Isa isa, int n, int h, int w, int c, const float* dy, const float* wt, float* dx);
void wino4x4BackwardWeights(Conv8Isa isa, int n, int h, int w, int c, const float* x, const float* dy, float* dw);

}  // namespace onednn_addon
