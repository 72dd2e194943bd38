// Our own kernels for the one convolution oneDNN 2.6 runs slowly that the width-8 CIFAR networks spend most of
// their convolution time in: 3x3, stride 1, 'same' (padding 1 on every side), 8 input and 8 output channels,
// NHWC float32, any batch and map size. conv.cc routes exactly these shapes (conv8Applies) to their Winograd
// F(4x4,3x3) kernels (wino8.h); the direct kernels here stay as bench/wino8.cc's reference.
#pragma once

#include "conv.h"

namespace onednn_addon {

// The instruction sets the kernels are built for; both give the same bits.
enum class Conv8Isa { none, avx2, avx512 };

// The best one this CPU runs (none: no AVX2+FMA, so oneDNN keeps these shapes).
Conv8Isa conv8BestIsa();

// A fixed function of the shape (and of the CPU having AVX2+FMA).
bool conv8Applies(const ConvShape& s);

// On omp_get_max_threads() threads; x, y, dx, dy NHWC (n x h x w x 8), filters HWIO (3 x 3 x 8 x 8).
void conv8Forward(Conv8Isa isa, int n, int h, int w, const float* x, const float* wt, float* y);
void conv8BackwardData(Conv8Isa isa, int n, int h, int w, const float* dy, const float* wt, float* dx);
void conv8BackwardWeights(Conv8Isa isa, int n, int h, int w, const float* x, const float* dy, float* dw);

}  // namespace onednn_addon
