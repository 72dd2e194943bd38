// Winograd F(4x4,3x3) (Lavin & Gray 2016) for conv8.h's shapes (3x3 stride-1 'same', 8 -> 8 channels): 36
// multiplications per 4x4 output tile and channel pair instead of 144, 4x fewer FMAs than conv8.cc's direct
// kernels, for input and output transforms of 6x6 tiles. conv.cc runs these shapes here in all three directions.
#pragma once

#include "conv8.h"

namespace onednn_addon {

// On omp_get_max_threads() threads, the batch split over them per image (the bits do not depend on the count);
// x, y, dx, dy NHWC (n x h x w x 8), filters HWIO (3 x 3 x 8 x 8). The AVX-512VL and AVX2 builds give the same bits.
void wino8Forward(Conv8Isa isa, int n, int h, int w, const float* x, const float* wt, float* y);
void wino8BackwardData(Conv8Isa isa, int n, int h, int w, const float* dy, const float* wt, float* dx);
// The filter gradient (dw HWIO) by the same transforms; with T > 1 threads the batch is cut into T contiguous
// slices whose sums are added in slice order, so the bits depend on the thread count (as conv8's).
void wino8BackwardWeights(Conv8Isa isa, int n, int h, int w, const float* x, const float* dy, float* dw);

}  // namespace onednn_addon
