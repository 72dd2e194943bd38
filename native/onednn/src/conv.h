// 2-D convolution over NHWC activations and TF's HWIO filters.
#pragma once

namespace onednn_addon {

// Explicit geometry, already resolved by TF.js (backend_util.computeConv2DInfo), so that TF's asymmetric
// 'same' padding at stride 2 (extra row/column at the bottom/right) is reproduced exactly.
struct ConvShape {
  int n, ih, iw, ic;
  int oh, ow, oc;
  int kh, kw;
  int sh, sw;
  int dh, dw;  // TF dilation (1 = dense)
  int pt, pl, pb, pr;
};

void convForward(const ConvShape& s, const float* x, const float* w, float* y);
void convBackwardData(const ConvShape& s, const float* dy, const float* w, float* dx);
void convBackwardWeights(const ConvShape& s, const float* x, const float* dy, float* dw);

// Drops every cached primitive (they are partitioned for the thread count they were created with).
void convClearCache();

}  // namespace onednn_addon
