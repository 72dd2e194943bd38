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
// All three directions run Winograd F(2x2,3x3) (wino3x3.h) where conv3x3UsesWinograd, a fixed function of the
// shape, says so, else the direct kernels (conv3x3Direct*, also what the benchmark compares against).
bool conv3x3UsesWinograd(int n, int h, int w, int c);
// Of those, F(4x4,3x3) (wino4x4*) where this fixed function of the shape says so, else F(2x2).
bool conv3x3UsesF4(int n, int h, int w, int c);
void conv3x3Forward(Conv8Isa isa, int n, int h, int w, int c, const float* x, const float* wt, float* y);
void conv3x3BackwardData(Conv8Isa isa, int n, int h, int w, int c, const float* dy, const float* wt, float* dx);
void conv3x3DirectForward(Conv8Isa isa, int n, int h, int w, int c, const float* x, const float* wt, float* y);
void conv3x3DirectBackwardData(Conv8Isa isa, int n, int h, int w, int c, const float* dy, const float* wt, float* dx);
void conv3x3DirectBackwardWeights(Conv8Isa isa, int n, int h, int w, int c, const float* x, const float* dy, float* dw);
void conv3x3BackwardWeights(Conv8Isa isa, int n, int h, int w, int c, const float* x, const float* dy, float* dw);

}  // namespace onednn_addon
