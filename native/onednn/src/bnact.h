// Training-mode batch normalisation over NHWC activations, fused with what follows it in a ResNet block: an
// optional residual addition and an optional ReLU, y = act(scale * (x - mean) / sqrt(var + eps) + shift [+ r]).
//
// Why not oneDNN's batch normalisation: its NHWC kernels synchronise their phases with a spinning barrier, so
// on 2 threads with another process holding a core a forward pass burned 15x its 1-thread CPU time; and it has
// no residual input. These loops use OpenMP's own (passive) synchronisation only.
//
// Reproducible by construction: per-channel sums run over fixed blocks of rows, each in row order (for 8/16/32/64
// channels as 64 / C interleaved float partial sums, rows assigned by their offset in the block), and the partial
// sums and then the blocks are combined in a fixed order in double precision; the thread count does not change a
// single bit of any output.
#pragma once

namespace onednn_addon {

struct BnActShape {
  long rows;  // N * H * W
  int c;
  float epsilon;
  bool relu;
};

// mean and variance (biased, divided by rows) are [c]; residual may be null.
void bnActForward(const BnActShape& s, const float* x, const float* scale, const float* shift, const float* residual,
                  float* y, float* mean, float* variance);

// The full gradient, the statistics' dependence on x included. y is the forward's output (its sign is the ReLU's
// mask); dResidual (null when the forward had no residual) receives the gradient reaching the addition.
void bnActBackward(const BnActShape& s, const float* dy, const float* x, const float* y, const float* scale,
                   const float* mean, const float* variance, float* dx, float* dScale, float* dShift, float* dResidual);

}  // namespace onednn_addon
