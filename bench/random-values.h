// The benches' inputs: uniform in [-1, 1] in steps of 0.001 from a fixed LCG, so that every machine and run
// times and checks the same values. Each bench starts the sequence from its own seed (benchSeed).
#pragma once

#include <cstddef>
#include <vector>

inline unsigned benchSeed = 1;

inline float nextValue() {
  benchSeed = benchSeed * 1103515245u + 12345u;
  return static_cast<float>((benchSeed >> 9) % 2001) / 1000.0f - 1.0f;
}

inline std::vector<float> randomVector(size_t n) {
  std::vector<float> v(n);
  for (float& x : v) x = nextValue();
  return v;
}
