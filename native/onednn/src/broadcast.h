// Broadcasting binary arithmetic and contiguous-axis reductions, for the small ops around the convolutions
// (residual adds, gradient sums, global average pooling and its gradient, optimizer updates) that would
// otherwise run as TF.js's scalar JS loops.
#pragma once

#include <cstddef>

namespace onednn_addon {

enum class BinaryOp { Add = 0, Sub = 1, Mul = 2, Div = 3 };

// One loop level of a broadcast: `size` iterations, advancing a by `strideA` and b by `strideB`
// (0 where that operand is broadcast along the level). Levels are outer to inner; out is contiguous.
struct BroadcastLevel {
  long size, strideA, strideB;
};

void binaryBroadcast(BinaryOp op, const float* a, const float* b, float* out, const BroadcastLevel* levels,
                     int count);

// out[o, i] = sum over r of x[o, r, i] (times `scale`): x viewed as [outer, reduce, inner].
void reduceMiddle(const float* x, float* out, long outer, long reduce, long inner, float scale);

}  // namespace onednn_addon
