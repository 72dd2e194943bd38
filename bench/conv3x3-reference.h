// The benches' ground truth for 3x3 stride-1 'same' convolutions (NHWC activations, HWIO filters, c channels in
// and out): all three directions naively in double, and the two error measures the benches report against it.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

inline void reference(int n, int h, int w, int c, const float* x, const float* wt, const float* dy,
                      std::vector<double>& y, std::vector<double>& dx, std::vector<double>& dw) {
  y.assign(static_cast<size_t>(n) * h * w * c, 0);
  dx.assign(y.size(), 0);
  dw.assign(9 * c * c, 0);
  for (int b = 0; b < n; ++b)
    for (int oy = 0; oy < h; ++oy)
      for (int ox = 0; ox < w; ++ox)
        for (int ky = 0; ky < 3; ++ky)
          for (int kx = 0; kx < 3; ++kx) {
            const int iy = oy + ky - 1, ix = ox + kx - 1;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
            const size_t out = ((static_cast<size_t>(b) * h + oy) * w + ox) * c;
            const size_t in = ((static_cast<size_t>(b) * h + iy) * w + ix) * c;
            for (int i = 0; i < c; ++i)
              for (int o = 0; o < c; ++o) {
                const double wv = wt[((ky * 3 + kx) * c + i) * c + o];
                y[out + o] += x[in + i] * wv;
                dx[in + i] += dy[out + o] * wv;
                dw[((ky * 3 + kx) * c + i) * c + o] += x[in + i] * static_cast<double>(dy[out + o]);
              }
          }
}

// max |got - want| / (1 + |want|), element by element.
inline double maxError(const std::vector<float>& got, const std::vector<double>& want) {
  double worst = 0;
  for (size_t k = 0; k < got.size(); ++k) worst = std::max(worst, std::fabs(got[k] - want[k]) / (1 + std::fabs(want[k])));
  return worst;
}

// max |got - want| / max |want| (the max-norm relative error of test/helpers/values.ts).
inline double normError(const std::vector<float>& got, const std::vector<double>& want) {
  double diff = 0, scale = 0;
  for (size_t k = 0; k < got.size(); ++k) {
    diff = std::max(diff, std::fabs(got[k] - want[k]));
    scale = std::max(scale, std::fabs(want[k]));
  }
  return diff / scale;
}
