// Winograd F(4x4,3x3) for 8 -> 8 channels (native/onednn/src/wino8.cc), all three directions, against the direct kernels
// (native/onednn/src/conv8.cc): CPU time per call at batch 32 of 32x32x8 (hot: one buffer set; cycled: 64 sets,
// 128 MiB, so every call reads from DRAM; step: cycled, but the input just written, as the batch norm before the
// convolution leaves it in the training step), the two alternating run by run, best and median of 7 runs of 64
// calls; max relative error |got - want| / (1 + |want|) and max-norm relative error max |got - want| / max |want|
// of both against a double-precision reference on odd sizes; AVX-512VL against AVX2 bits and 1 against 2
// threads (exit status 1 if any differ). Not part of the build:
//
//   g++ -O3 -ffp-contract=off -fopenmp -Inative/onednn/src bench/wino8.cc native/onednn/src/wino8.cc
//     native/onednn/src/conv8.cc -o /tmp/wino8 && OMP_NUM_THREADS=1 /tmp/wino8
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "conv3x3-reference.h"
#include "conv8.h"
#include "cpu-seconds.h"
#include "random-values.h"
#include "wino8.h"

using namespace onednn_addon;

namespace {

using Conv = void (*)(Conv8Isa, int, int, int, const float*, const float*, float*);


bool check(int n, int h, int w) {
  const size_t size = static_cast<size_t>(n) * h * w * 8;
  const std::vector<float> x = randomVector(size), dy = randomVector(size), wt = randomVector(576);
  std::vector<double> ry, rdx, rdw;
  reference(n, h, w, 8, x.data(), wt.data(), dy.data(), ry, rdx, rdw);
  bool ok = true;
  std::vector<std::vector<float>> wino;
  for (Conv8Isa isa : {Conv8Isa::avx512, Conv8Isa::avx2}) {
    if (isa == Conv8Isa::avx512 && conv8BestIsa() != Conv8Isa::avx512) continue;
    std::vector<float> y(size), dx(size), wy(size), wdx(size), dw(576), wdw(576);
    conv8BackwardWeights(isa, n, h, w, x.data(), dy.data(), dw.data());
    wino8BackwardWeights(isa, n, h, w, x.data(), dy.data(), wdw.data());
    std::printf("check n%d %2dx%-2d %-6s filter gradient max rel error: direct %.1e, winograd %.1e; max-norm: direct %.1e,"
                " winograd %.1e\n", n, h, w, isa == Conv8Isa::avx512 ? "avx512" : "avx2", maxError(dw, rdw),
                maxError(wdw, rdw), normError(dw, rdw), normError(wdw, rdw));
    if (normError(wdw, rdw) > 1e-4) ok = false;
    conv8Forward(isa, n, h, w, x.data(), wt.data(), y.data());
    conv8BackwardData(isa, n, h, w, dy.data(), wt.data(), dx.data());
    wino8Forward(isa, n, h, w, x.data(), wt.data(), wy.data());
    wino8BackwardData(isa, n, h, w, dy.data(), wt.data(), wdx.data());
    const double ey = maxError(wy, ry), edx = maxError(wdx, rdx);
    std::printf("check n%d %2dx%-2d %-6s max rel error: direct y %.1e dx %.1e, winograd y %.1e dx %.1e;"
                " max-norm: direct %.1e %.1e, winograd %.1e %.1e\n", n, h, w,
                isa == Conv8Isa::avx512 ? "avx512" : "avx2", maxError(y, ry), maxError(dx, rdx), ey, edx,
                normError(y, ry), normError(dx, rdx), normError(wy, ry), normError(wdx, rdx));
    if (ey > 1e-4 || edx > 1e-4) ok = false;
    wy.insert(wy.end(), wdx.begin(), wdx.end());
    wy.insert(wy.end(), wdw.begin(), wdw.end());
    wino.push_back(std::move(wy));
  }
  if (wino.size() == 2) {
    const bool same = std::memcmp(wino[0].data(), wino[1].data(), wino[0].size() * sizeof(float)) == 0;
    std::printf("check n%d %2dx%-2d winograd avx2 and avx512 give %s bits\n", n, h, w, same ? "the same" : "DIFFERENT");
    ok = ok && same;
  }
  if (n > 1) {
    std::vector<float> one(size), two(size);
    const int threads = omp_get_max_threads();
    omp_set_num_threads(1);
    wino8Forward(conv8BestIsa(), n, h, w, x.data(), wt.data(), one.data());
    omp_set_num_threads(2);
    wino8Forward(conv8BestIsa(), n, h, w, x.data(), wt.data(), two.data());
    omp_set_num_threads(threads);
    const bool same = std::memcmp(one.data(), two.data(), size * sizeof(float)) == 0;
    std::printf("check n%d %2dx%-2d winograd 1 and 2 threads give %s bits\n", n, h, w, same ? "the same" : "DIFFERENT");
    ok = ok && same;
  }
  return ok;
}

}  // namespace

int main() {
  benchSeed = 12345;
  bool ok = true;
  const int shapes[][3] = {{3, 32, 32}, {2, 5, 7}, {3, 19, 23}, {2, 3, 1}, {2, 1, 3}, {1, 6, 6}, {2, 9, 4}};
  for (const auto& s : shapes) ok = check(s[0], s[1], s[2]) && ok;
  const int n = 32, h = 32, w = 32, calls = 64, runs = 7;
  const size_t size = static_cast<size_t>(n) * h * w * 8;
  std::vector<std::vector<float>> as(calls, randomVector(size)), bs(calls, std::vector<float>(size, 0.25f));
  const std::vector<float> wt = randomVector(576);
  const Conv8Isa isa = conv8BestIsa();
  std::vector<float> dw(576);
  const Conv impls[2][2] = {{conv8Forward, wino8Forward}, {conv8BackwardData, wino8BackwardData}};
  const Conv grads[2] = {conv8BackwardWeights, wino8BackwardWeights};
  const char* dirs[] = {"forward", "input grad", "filter grad"};
  for (int dir = 0; dir < 3; ++dir) {
    for (int mode = 0; mode < 3; ++mode) {
      std::vector<double> times[2];
      for (int r = 0; r < runs; ++r) {
        for (int v = 0; v < 2; ++v) {
          double total = 0;
          for (int i = 0; i < calls; ++i) {
            const int k = mode == 0 ? 0 : i;
            // step: the input was just written (by the batch norm before it in the training step).
            if (mode == 2) {
              for (size_t j = 0; j < size; j += 16) as[k][j] = 0.5f;
            }
            const double start = cpuSeconds();
            if (dir < 2) {
              impls[dir][v](isa, n, h, w, as[k].data(), wt.data(), bs[(k + 1) % calls].data());
            } else {
              grads[v](isa, n, h, w, as[k].data(), bs[(k + 1) % calls].data(), dw.data());
            }
            total += cpuSeconds() - start;
          }
          times[v].push_back(total / calls * 1e3);
        }
      }
      const char* modes[] = {"hot", "cycled", "step"};
      std::printf("%-10s %-6s", dirs[dir], modes[mode]);
      const char* names[] = {"direct", "winograd"};
      for (int v = 0; v < 2; ++v) {
        std::sort(times[v].begin(), times[v].end());
        std::printf("  %s best %.3f median %.3f ms", names[v], times[v][0], times[v][runs / 2]);
      }
      std::printf("\n");
    }
  }
  return ok ? 0 : 1;
}
