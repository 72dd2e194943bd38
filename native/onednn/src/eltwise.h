// Element-wise kernels on same-length buffers. Memory bound: they run on all OpenMP threads once a
// buffer is large enough for the fork to pay off.
#pragma once

#include <cstddef>

namespace onednn_addon {

void reluForward(const float* x, float* y, size_t n);
// dx = x > 0 ? dy : 0, the fused form of TF.js's mul(dy, step(x)).
void reluBackward(const float* dy, const float* x, float* dx, size_t n);
// TF's Step: 1 where x > 0, alpha elsewhere, NaN stays NaN.
void stepForward(const float* x, float* y, float alpha, size_t n);
// y[r, c] = x[r, c] * a[c] + b[c] over rows of `channels`: inference batch norm with folded statistics; then
// + residual[r, c] when residual is not null, then ReLU when relu.
void affineChannels(const float* x, const float* a, const float* b, const float* residual, float* y, size_t rows,
                    size_t channels, bool relu);
void addMany(const float* const* inputs, size_t count, float* out, size_t n);

}  // namespace onednn_addon
