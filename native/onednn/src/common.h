// Shared oneDNN state: one CPU engine and stream for the process, and the shape-keyed primitive caches'
// common pieces. oneDNN 2.x API only (Debian 12's libdnnl 2.6).
#pragma once

#include <dnnl.hpp>

#include <array>
#include <map>
#include <memory>
#include <mutex>

#if DNNL_VERSION_MAJOR != 2
#error "resnet-exp's onednn addon targets the oneDNN 2.x API (Debian's libdnnl-dev 2.6)"
#endif

namespace onednn_addon {

dnnl::engine& cpuEngine();
dnnl::stream& cpuStream();

// Primitive creation costs milliseconds while execution of the small CIFAR layers costs about as much,
// so everything is built once per shape and reused; the JS thread is the only caller in practice, but
// worker_threads share this process-wide cache, hence the lock.
std::mutex& cacheMutex();

// Memory bound to caller-owned buffers: the handle is swapped per call, the object is built once.
inline dnnl::memory userMemory(const dnnl::memory::desc& md) {
  return dnnl::memory(md, cpuEngine(), DNNL_MEMORY_NONE);
}

inline void bind(dnnl::memory& m, const float* p) { m.set_data_handle(const_cast<float*>(p)); }

template <size_t N, typename Entry>
using ShapeCache = std::map<std::array<int, N>, std::unique_ptr<Entry>>;

}  // namespace onednn_addon
