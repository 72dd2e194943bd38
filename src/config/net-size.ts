/** The architecture knobs of a CIFAR network (src/models builds it from the same ones). */
export interface NetShape {
  variant: 'plain' | 'residual' | 'preact';
  depth: number;
  width: number;
  shortcut: 'A' | 'B';
}

export interface NetSize {
  /** Trainable parameters (conv kernels, BN scale and shift, the classifier's kernel and bias). */
  params: number;
  /** Multiply-adds per input image (32x32 unless given), forward pass (convolutions and the classifier). */
  macs: number;
  /** Weighted layers: convolutions (projection shortcuts included) and the classifier. */
  layers: number;
}

/**
 * What src/models would build, counted from the shape alone: instant at any size, so the schema can bound a
 * network before anything is allocated and `describe` answers for ResNet-1202 at once. test/config checks it
 * against the costs the built networks record.
 */
export function netSize({ variant, depth, width, shortcut }: NetShape, classes = 10, input = { height: 32, width: 32 }): NetSize {
  const size: NetSize = { params: 0, macs: 0, layers: 0 };
  const conv = (kernel: number, inputs: number, filters: number, map: { h: number; w: number }) => {
    size.params += kernel * kernel * inputs * filters;
    size.macs += map.h * map.w * kernel * kernel * inputs * filters;
    size.layers += 1;
  };
  const bn = (channels: number) => {
    size.params += 2 * channels;
  };
  // 'same' padding: a stride-2 layer's output side is the input's halved, rounded up.
  let side = { h: input.height, w: input.width };
  conv(3, 3, width, side);
  if (variant !== 'preact') bn(width);
  let channels = width;
  for (const multiplier of [1, 2, 4]) {
    const filters = width * multiplier;
    for (let b = 0; b < (depth - 2) / 6; b++) {
      const inputs = b === 0 ? channels : filters;
      const stride = multiplier > 1 && b === 0 ? 2 : 1;
      if (stride === 2) side = { h: Math.ceil(side.h / 2), w: Math.ceil(side.w / 2) };
      if (variant === 'preact') bn(inputs);
      conv(3, inputs, filters, side);
      bn(filters);
      conv(3, filters, filters, side);
      if (variant !== 'preact') bn(filters);
      // Option A's zero-padding identity is a constant selection, not a weighted layer.
      if (variant !== 'plain' && shortcut === 'B' && (stride !== 1 || inputs !== filters)) {
        conv(1, inputs, filters, side);
        bn(filters);
      }
    }
    channels = filters;
  }
  if (variant === 'preact') bn(channels);
  size.params += channels * classes + classes;
  size.macs += channels * classes;
  size.layers += 1;
  return size;
}
