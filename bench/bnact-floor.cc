// How far the fused batch-norm kernels (native/onednn/src/bnact.cc) are from the memory-traffic floor, 1 thread,
// for the lockstep workload's activations (batch 32, width 8: [32,32,32,8], [32,16,16,16], [32,8,8,32]). Not part
// of the build:
//
//   g++ -O3 -ffp-contract=off -fopenmp -Inative/onednn/src bench/bnact-floor.cc native/onednn/src/bnact.cc -o /tmp/bnact-floor
//   OMP_NUM_THREADS=1 /tmp/bnact-floor
//
// (against an older kernel: `git show REV:native/onednn/src/bnact.cc > /tmp/bnact-old.cc` and build with that.)
// "hot": the same buffers every call, so they stay in L2/L3; the floor is the streams a kernel must read and write
// (forward with residual: x twice, the residual, y; backward with residual and ReLU: dy, x, y, dz written, dz and
// x again, dx written) at the bandwidth a plain 2-read-1-write loop reaches on the same sizes. "cold": 24 buffer
// sets in turn (72-288 MiB, beyond L3), as in the training step where most inputs come back from DRAM; the floor
// there is a read-only and a write-only loop's time per MiB over the same buffers.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "bnact.h"

using onednn_addon::BnActShape;

namespace {

double seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Best of 7 rounds of `calls` calls, seconds per call.
template <typename F>
double best(int calls, F f) {
  double b = 1e30;
  for (int round = 0; round < 7; ++round) {
    const double t0 = seconds();
    for (int i = 0; i < calls; ++i) f(i);
    b = std::min(b, (seconds() - t0) / calls);
  }
  return b;
}

void keep(const void* p) { asm volatile("" : : "r"(p) : "memory"); }

// The reference loops get the same vector widths as the kernels (a plain SSE2 loop is not memory-bound in L2).
#define CLONES __attribute__((target_clones("avx512f", "avx2", "default"), noinline))
CLONES void addLoop(const float* __restrict a, const float* __restrict b, float* __restrict z, long n) {
  for (long i = 0; i < n; ++i) z[i] = a[i] + b[i];
  keep(z);
}
CLONES void readLoop(const float* __restrict p, long n) {
  float acc[16] = {};
  for (long i = 0; i < n; i += 16)
    for (int j = 0; j < 16; ++j) acc[j] += p[i + j];
  keep(acc);
}
CLONES void writeLoop(float* __restrict p, long n) {
  for (long i = 0; i < n; ++i) p[i] = 1.0f;
  keep(p);
}

}  // namespace

int main() {
  struct Shape {
    long rows;
    int c;
  };
  const Shape shapes[] = {{32 * 32 * 32, 8}, {32 * 16 * 16, 16}, {32 * 8 * 8, 32}};
  constexpr int kSets = 48;
  for (const Shape& sh : shapes) {
    const long n = sh.rows * sh.c;
    const double mib = n * 4.0 / (1 << 20), gb = n * 4e-9;
    using Buf = std::vector<float>;
    std::vector<Buf> x(kSets, Buf(n)), r(kSets, Buf(n)), y(kSets, Buf(n)), dy(kSets, Buf(n)), dx(kSets, Buf(n)),
        dr(kSets, Buf(n));
    for (int k = 0; k < kSets; ++k) {
      for (long i = 0; i < n; ++i) {
        x[k][i] = static_cast<float>(i * 7 % 13) * 0.1f - 0.5f;
        r[k][i] = static_cast<float>(i * 3 % 5) * 0.1f - 0.2f;
        dy[k][i] = static_cast<float>(i * 5 % 11) * 0.1f - 0.5f;
      }
    }
    std::vector<float> scale(sh.c, 1.1f), shift(sh.c, 0.1f), mean(sh.c), var(sh.c), dScale(sh.c), dShift(sh.c);
    const BnActShape s{sh.rows, sh.c, 1e-5f, true};
    auto forward = [&](int k) {
      onednn_addon::bnActForward(s, x[k].data(), scale.data(), shift.data(), r[k].data(), y[k].data(), mean.data(),
                                 var.data());
    };
    auto backward = [&](int k) {
      onednn_addon::bnActBackward(s, dy[k].data(), x[k].data(), y[k].data(), scale.data(), mean.data(), var.data(),
                                  dx[k].data(), dScale.data(), dShift.data(), dr[k].data());
    };
    auto add = [&](int k) { addLoop(x[k].data(), r[k].data(), dx[k].data(), n); };
    // The cold reference loops walk every buffer the kernels use in turn (inputs read, outputs written), so they
    // miss the cache as often as the kernels do.
    std::vector<float*> ins, outs;
    for (int k = 0; k < kSets; ++k) {
      for (Buf* b : {&x[k], &r[k], &dy[k]}) ins.push_back(b->data());
      for (Buf* b : {&y[k], &dx[k], &dr[k]}) outs.push_back(b->data());
    }
    auto read = [&](int k) { readLoop(ins[static_cast<size_t>(k) % ins.size()], n); };
    auto write = [&](int k) { writeLoop(outs[static_cast<size_t>(k) % outs.size()], n); };
    const auto hot = [](auto f) { return [f](int) { f(0); }; };
    const auto cold = [](auto f) { return [f](int i) { f(i % kSets); }; };

    const double tAdd = best(50, hot(add)), bw = 3 * gb / tAdd;
    const double tf = best(50, hot(forward)), tb = best(50, hot(backward));
    std::printf("[%ld rows, %d ch] %.2f MiB  hot: 2r1w %.0f GB/s | forward %.1f us (floor %.1f) | backward %.1f us "
                "(floor %.1f)\n",
                sh.rows, sh.c, mib, bw, tf * 1e6, 4 * gb / bw * 1e6, tb * 1e6, 7 * gb / bw * 1e6);
    const double tr = best(3 * kSets, read), tw = best(3 * kSets, write);
    const double cf = best(kSets, cold(forward)), cb = best(kSets, cold(backward));
    // Cold floors: forward reads x and the residual, writes y; backward reads dy, x, y, writes dz and dx (the
    // second pass's re-reads hit the cache).
    std::printf("%*s cold: read %.1f GB/s, write %.1f GB/s | forward %.1f us (floor %.1f) | backward %.1f us "
                "(floor %.1f)\n",
                26, "", gb / tr, gb / tw, cf * 1e6, (2 * tr + tw) * 1e6, cb * 1e6, (3 * tr + 2 * tw) * 1e6);
    std::printf("%*s checksum %g %g\n", 26, "", static_cast<double>(y[0][5]), static_cast<double>(dScale[1]));
  }
}
