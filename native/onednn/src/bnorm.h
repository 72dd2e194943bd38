// Training-mode batch normalisation over NHWC activations with per-channel scale and shift.
#pragma once

namespace onednn_addon {

struct BnShape {
  int n, h, w, c;
  float epsilon;
};

// Normalises with the batch's statistics and writes them out (mean and biased variance, [c] each).
void bnForwardTraining(const BnShape& s, const float* x, const float* scale, const float* shift, float* y,
                       float* mean, float* variance);

// Full backward including the statistics' dependence on x; dScale/dShift are [c].
void bnBackward(const BnShape& s, const float* dy, const float* x, const float* scale, const float* mean,
                const float* variance, float* dx, float* dScale, float* dShift);

// Drops every cached primitive (they are partitioned for the thread count they were created with).
void bnClearCache();

}  // namespace onednn_addon
