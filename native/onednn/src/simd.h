// The vector operations our 16/32-channel kernels (conv3x3.cc, wino3x3.cc) are written in, once per instruction
// set. A kernel file includes its .inc inside a namespace of its own that takes one of these with `using
// namespace`: the kernels' names stay per file (inline functions of one name in two files would be merged by the
// linker), the operations are defined once. An AVX2 vector is 8 floats, an AVX-512 one 16; the kernels sum in
// the same order either way, so both give the same bits.
#pragma once

#include <immintrin.h>

namespace onednn_addon {

#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace simd_avx2 {
using Vec = __m256;
constexpr int W = 8;
inline Vec vzero() { return _mm256_setzero_ps(); }
inline Vec vload(const float* p) { return _mm256_loadu_ps(p); }
inline void vstore(float* p, Vec v) { _mm256_storeu_ps(p, v); }
inline Vec vbcast(const float* p) { return _mm256_broadcast_ss(p); }
inline Vec vset(float a) { return _mm256_set1_ps(a); }
inline Vec vfma(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
inline Vec vadd(Vec a, Vec b) { return _mm256_add_ps(a, b); }
inline Vec vsub(Vec a, Vec b) { return _mm256_sub_ps(a, b); }
inline Vec vmul(Vec a, Vec b) { return _mm256_mul_ps(a, b); }
}  // namespace simd_avx2
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx2,fma,avx512f")
namespace simd_avx512 {
using Vec = __m512;
constexpr int W = 16;
inline Vec vzero() { return _mm512_setzero_ps(); }
inline Vec vload(const float* p) { return _mm512_loadu_ps(p); }
inline void vstore(float* p, Vec v) { _mm512_storeu_ps(p, v); }
inline Vec vbcast(const float* p) { return _mm512_set1_ps(*p); }
inline Vec vset(float a) { return _mm512_set1_ps(a); }
inline Vec vfma(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
inline Vec vadd(Vec a, Vec b) { return _mm512_add_ps(a, b); }
inline Vec vsub(Vec a, Vec b) { return _mm512_sub_ps(a, b); }
inline Vec vmul(Vec a, Vec b) { return _mm512_mul_ps(a, b); }
}  // namespace simd_avx512
#pragma GCC pop_options

}  // namespace onednn_addon
