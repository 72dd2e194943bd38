// CPU time of our 3x3 8->8 kernels (native/onednn/src/conv8.cc) with their data in cache and from DRAM, as the
// training step sees it, plus a bit check. Not part of the build:
//
//   g++ -O2 -fopenmp -Inative/onednn/src bench/conv8-cold.cc native/onednn/src/conv8.cc -o /tmp/conv8-cold &&
//     OMP_NUM_THREADS=1 /tmp/conv8-cold
//
// To compare with another version in the same process (runs alternate, so load from other processes hits both
// alike), build that version's conv8.cc (copied with conv8.h, conv.h and conv8_kernels.inc to a directory, here
// /tmp/old) under another namespace and name it as the baseline:
//
//   g++ -O2 -fopenmp -c -Donednn_addon=conv8_base -I/tmp/old /tmp/old/conv8.cc -o /tmp/conv8-base.o &&
//   g++ -O2 -fopenmp -DCONV8_BASELINE=conv8_base -Inative/onednn/src bench/conv8-cold.cc native/onednn/src/conv8.cc
//     /tmp/conv8-base.o -o /tmp/conv8-cold && OMP_NUM_THREADS=1 /tmp/conv8-cold
//
// The bit check then also requires the baseline's bits.
//
// Batch 32 of 32x32x8 images (1 MiB per tensor). Per direction, best and median of 7 runs of 64 calls:
//   hot     the same buffers every call (all in L2/L3);
//   cycled  64 different input and output buffers (128 MiB, beyond the 32 MiB L3), so everything comes from DRAM;
//   step    like the training step: the forward's and input gradient's input was just written (by the batch norm
//           before it), their output buffer is cold; the filter gradient's x is cold, its dy just written.
// The bit check runs every direction on random data at several shapes (batch 3; 32x32, 5x7, 19x23, 3x1, 1x3)
// with the AVX-512VL and the AVX2 kernels, requires equal bits, and prints an FNV-1a hash of all outputs.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "conv8.h"
#include "cpu-seconds.h"

using namespace onednn_addon;

#ifdef CONV8_BASELINE
namespace CONV8_BASELINE {
enum class Conv8Isa { none, avx2, avx512 };
void conv8Forward(Conv8Isa isa, int n, int h, int w, const float* x, const float* wt, float* y);
void conv8BackwardData(Conv8Isa isa, int n, int h, int w, const float* dy, const float* wt, float* dx);
void conv8BackwardWeights(Conv8Isa isa, int n, int h, int w, const float* x, const float* dy, float* dw);
}  // namespace CONV8_BASELINE
#endif

namespace {

struct Version {
  const char* name;
  void (*forward)(Conv8Isa, int, int, int, const float*, const float*, float*);
  void (*backwardData)(Conv8Isa, int, int, int, const float*, const float*, float*);
  void (*backwardWeights)(Conv8Isa, int, int, int, const float*, const float*, float*);
};

#ifdef CONV8_BASELINE
template <void (*F)(CONV8_BASELINE::Conv8Isa, int, int, int, const float*, const float*, float*)>
void baseline(Conv8Isa isa, int n, int h, int w, const float* a, const float* b, float* c) {
  F(static_cast<CONV8_BASELINE::Conv8Isa>(isa), n, h, w, a, b, c);
}
#endif

const std::vector<Version>& versions() {
  static const std::vector<Version> all = {
#ifdef CONV8_BASELINE
      {"base", baseline<CONV8_BASELINE::conv8Forward>, baseline<CONV8_BASELINE::conv8BackwardData>,
       baseline<CONV8_BASELINE::conv8BackwardWeights>},
#endif
      {"this", conv8Forward, conv8BackwardData, conv8BackwardWeights}};
  return all;
}

void run(const Version& v, Conv8Isa isa, int dir, int n, int h, int w, const float* a, const float* b,
         const float* wt, float* out) {
  if (dir == 0) v.forward(isa, n, h, w, a, wt, out);
  if (dir == 1) v.backwardData(isa, n, h, w, a, wt, out);
  if (dir == 2) v.backwardWeights(isa, n, h, w, a, b, out);
}

uint64_t fnv(uint64_t hash, const std::vector<float>& v) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(v.data());
  for (size_t i = 0; i < v.size() * sizeof(float); ++i) hash = (hash ^ p[i]) * 1099511628211ull;
  return hash;
}

bool bitCheck() {
  const int shapes[][3] = {{3, 32, 32}, {3, 5, 7}, {3, 19, 23}, {2, 3, 1}, {2, 1, 3}, {1, 32, 32}};
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  uint64_t hash = 1469598103934665603ull;
  bool same = true;
  for (const auto& s : shapes) {
    const size_t size = static_cast<size_t>(s[0]) * s[1] * s[2] * 8;
    std::vector<float> x(size), dy(size), wt(576);
    for (float& v : x) v = dist(rng);
    for (float& v : dy) v = dist(rng);
    for (float& v : wt) v = dist(rng);
    for (int dir = 0; dir < 3; ++dir) {
      std::vector<std::vector<float>> outs;
      for (const Version& v : versions()) {
        for (Conv8Isa isa : {Conv8Isa::avx512, Conv8Isa::avx2}) {
          outs.emplace_back(dir == 2 ? 576 : size, -1.0f);
          run(v, isa, dir, s[0], s[1], s[2], dir == 1 ? dy.data() : x.data(), dy.data(), wt.data(),
              outs.back().data());
        }
      }
      for (const auto& out : outs) {
        if (std::memcmp(outs[0].data(), out.data(), out.size() * sizeof(float)) != 0) same = false;
      }
      hash = fnv(hash, outs[0]);
    }
  }
  std::printf("bits: avx512 %s avx2%s; hash %016llx\n", same ? "==" : "!=", versions().size() > 1 ? " (both versions)" : "", static_cast<unsigned long long>(hash));
  return same;
}

}  // namespace

int main() {
  const bool avx512 = conv8BestIsa() == Conv8Isa::avx512;
  const bool same = avx512 ? bitCheck() : true;
  if (!avx512) std::printf("bits: no AVX-512VL here, check skipped\n");
  const int n = 32, h = 32, w = 32, calls = 64;
  const size_t size = static_cast<size_t>(n) * h * w * 8;
  std::vector<std::vector<float>> as(calls, std::vector<float>(size, 0.5f)), bs(calls, std::vector<float>(size, 0.25f));
  std::vector<float> wt(576, 0.01f), dw(576);
  const Conv8Isa isa = conv8BestIsa();
  const char* modes[] = {"hot", "cycled", "step"};
  const char* dirs[] = {"forward", "input grad", "filter grad"};
  const int runs = 7;
  for (int dir = 0; dir < 3; ++dir) {
    for (int mode = 0; mode < 3; ++mode) {
      // Versions alternate run by run.
      std::vector<std::vector<double>> times(versions().size());
      for (int r = 0; r < runs; ++r) {
        for (size_t v = 0; v < versions().size(); ++v) {
          double total = 0;
          for (int i = 0; i < calls; ++i) {
            const int k = mode == 0 ? 0 : i;
            // a: the input (forward x, input grad dy, filter grad x); b: the output, or the filter gradient's dy.
            float* a = as[k].data();
            float* b = bs[(k + 1) % calls].data();
            if (mode == 2) {
              // What the previous kernel just wrote: the forward's input, the filter gradient's dy.
              float* warm = dir == 2 ? b : a;
              for (size_t j = 0; j < size; j += 16) warm[j] = 0.5f;
            }
            const double start = cpuSeconds();
            run(versions()[v], isa, dir, n, h, w, a, b, wt.data(), dir == 2 ? dw.data() : b);
            total += cpuSeconds() - start;
          }
          times[v].push_back(total / calls * 1e3);
        }
      }
      std::printf("%-12s %-7s", dirs[dir], modes[mode]);
      for (size_t v = 0; v < versions().size(); ++v) {
        std::sort(times[v].begin(), times[v].end());
        std::printf("  %s best %.3f median %.3f ms", versions()[v].name, times[v][0], times[v][runs / 2]);
      }
      std::printf("\n");
    }
  }
  return same ? 0 : 1;
}
