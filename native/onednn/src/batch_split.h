// How our convolution kernels (conv8, conv3x3, wino3x3, wino8) split a batch over OpenMP threads, written once so
// that none of them can drift from the rule that keeps results independent of the thread count:
// - per-image work (forward, input gradient): each image's output is computed whole by one thread, whichever it is;
// - sums over the batch (filter gradients): with T > 1 threads the batch is cut into T contiguous slices, each
//   summed from zero in image order, and the T partial sums are added in slice order, the same split as conv.cc's
//   oneDNN path. At a fixed thread count the bits never change; between thread counts only this last addition
//   differs (README "Reproducible").
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace onednn_addon {

// First image of slice t when n images are cut into `parts` contiguous slices (the first n % parts one longer).
inline int sliceBegin(int n, int parts, int t) { return t * (n / parts) + std::min(t, n % parts); }

// An uninitialised float buffer starting on a 64-byte boundary, so that no vector straddles two cache lines.
class AlignedFloats {
 public:
  explicit AlignedFloats(size_t count) : block_(new float[count + 16]) {
    p_ = block_.get() + (16 - reinterpret_cast<uintptr_t>(block_.get()) / 4 % 16) % 16;
  }
  float* get() const { return p_; }

 private:
  std::unique_ptr<float[]> block_;
  float* p_;
};

// run(first, last) on images [first, last): one contiguous slice per thread, or the whole batch on this one.
template <class Run>
void forEachImageSlice(int n, Run run) {
  const int threads = std::min(omp_get_max_threads(), n);
  if (threads <= 1) {
    run(0, n);
    return;
  }
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    run(sliceBegin(n, nt, t), sliceBegin(n, nt, t + 1));
  }
}

// out[0 .. size) = the sum over the batch: addSlice(first, count, sum) adds images [first, first + count) into
// `sum`, which this zeroes first.
template <class AddSlice>
void sumOverSlices(int n, int size, float* out, AddSlice addSlice) {
  const int threads = omp_get_max_threads();
  const int parts = threads <= 1 || n < threads ? 1 : threads;
  if (parts == 1) {
    std::fill_n(out, size, 0.0f);
    addSlice(0, n, out);
    return;
  }
  AlignedFloats partial(static_cast<size_t>(parts) * size);
  float* p = partial.get();
#pragma omp parallel for schedule(static, 1) num_threads(parts)
  for (int t = 0; t < parts; ++t) {
    float* sum = p + static_cast<long>(t) * size;
    std::fill_n(sum, size, 0.0f);
    const int first = sliceBegin(n, parts, t);
    addSlice(first, sliceBegin(n, parts, t + 1) - first, sum);
  }
  for (int k = 0; k < size; ++k) {
    float sum = p[k];
    for (int t = 1; t < parts; ++t) sum += p[static_cast<long>(t) * size + k];
    out[k] = sum;
  }
}

}  // namespace onednn_addon
