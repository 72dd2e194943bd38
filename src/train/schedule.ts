import type { Config } from '../config/schema.js';

/**
 * The learning rate for the update that completes iteration `iteration` (1-based): the warm-up rate for the
 * first `warmup.iterations`, then `lr` multiplied by `gamma` at each milestone passed (He et al. 2015: 0.1,
 * divided by 10 at 32k and 48k iterations; 0.01 until training error is below 80% for ResNet-110, ~400 iterations).
 */
export function learningRate(train: Config['train'], iteration: number): number {
  if (iteration <= train.warmup.iterations) return train.warmup.lr;
  const drops = train.milestones.filter((m) => iteration > m).length;
  return train.lr * train.gamma ** drops;
}
