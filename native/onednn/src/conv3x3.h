// Our own kernels for the 3x3 stride-1 'same' convolutions with 16 -> 16 or 32 -> 32 channels (the second and
// third stages of width-8 CIFAR ResNets), NHWC float32, any batch and map size, where oneDNN 2.6 spends
// 1.3-1.6x its hot-benchmark time inside a training step. conv.cc routes exactly these shapes here
// (conv3x3Applies).
#pragma once

#include "conv.h"
#include "conv8.h"

namespace onednn_addon {

// A fixed function of the shape (and of the CPU having AVX2+FMA, conv8BestIsa).
bool conv3x3Applies(const ConvShape& s);

// On omp_get_max_threads() threads; c (16 or 32) channels in and out; x, y, dx, dy NHWC (n x h x w x c),
// filters HWIO (3 x 3 x c x c).
// All three directions run the kernel conv3x3Kernel, a fixed function of the shape, names: Winograd F(4x4,3x3)
// (wino4x4*) or F(2x2,3x3) (wino3x3*, wino3x3.h), or the direct kernels (conv3x3Direct*, also what the benchmark
// compares against).
enum class Conv3x3Kernel { winogradF4, winogradF2, direct };
Conv3x3Kernel conv3x3Kernel(int n, int h, int w, int c);
void conv3x3Forward(Conv8Isa isa, int n, int h, int w, int c, const float* x, const float* wt, float* y);
void conv3x3BackwardData(Conv8Isa isa, int n, int h, int w, int c, const float* dy, const float* wt, float* dx);
void conv3x3DirectForward(Conv8Isa isa, int n, int h, int w, int c, const float* x, const float* wt, float* y);
void conv3x3DirectBackwardData(Conv8Isa isa, int n, int h, int w, int c, const float* dy, const float* wt, float* dx);
void conv3x3DirectBackwardWeights(Conv8Isa isa, int n, int h, int w, int c, const float* x, const float* dy, float* dw);
void conv3x3BackwardWeights(Conv8Isa isa, int n, int h, int w, int c, const float* x, const float* dy, float* dw);

}  // namespace onednn_addon
