import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { JumpableRandomGenerator } from 'pure-rand/types/JumpableRandomGenerator';

/**
 * xoroshiro128+'s seeding puts the seed straight into the state, so its first outputs are near copies of
 * the seed (the very first is ~seed): neighbouring seeds would give near-identical first shuffles. A short
 * warm-up mixes the state before anything is drawn.
 */
const WARM_UP = 16;

export function seededGenerator(seed: number): JumpableRandomGenerator {
  const rng = xoroshiro128plus(seed);
  for (let i = 0; i < WARM_UP; i++) rng.next();
  return rng;
}

/** A stream that will not overlap `rng`'s (2^64 steps ahead), leaving `rng` untouched. */
export function independentStream(rng: JumpableRandomGenerator): JumpableRandomGenerator {
  const stream = rng.clone();
  stream.jump();
  return stream;
}
