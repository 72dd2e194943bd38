// Parameter updates after a training step, each one pass where TF.js ops would take several kernel calls.
// Every operation rounds to float32 as TF.js's separate ops do (the addon is built without contraction into
// fused multiply-adds), so results equal the op-by-op composite bit for bit.
#pragma once

#include <cstddef>

namespace onednn_addon {

// g' = g + weightDecay * w (only when weightDecay > 0), v' = momentum * v + g', w' = w - lr * v'.
void sgdMomentum(const float* w, const float* v, const float* g, float* wOut, float* vOut, size_t n, float lr,
                 float momentum, float weightDecay);

// m' = keep * m + momentum * mean, v' = keep * v + momentum * (correction * variance), keep = 1 - momentum.
void movingAverages(const float* m, const float* v, const float* mean, const float* variance, float* mOut,
                    float* vOut, size_t n, float keep, float momentum, float correction);

}  // namespace onednn_addon
