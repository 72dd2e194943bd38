// N-API entry points. Each takes caller-owned Float32Arrays (read and written in place) plus integer
// geometry, checks the buffer lengths against the geometry, and runs one cached oneDNN primitive or
// element-wise loop synchronously on the calling thread (oneDNN fans out to its OpenMP threads).
#include <node_api.h>
#include <omp.h>

#include <string>
#include <vector>

#include "bnact.h"
#include "broadcast.h"
#include "common.h"
#include "conv.h"
#include "eltwise.h"
#include "napi_util.h"
#include "update.h"

namespace onednn_addon {

dnnl::engine& cpuEngine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& cpuStream() {
  static dnnl::stream stream(cpuEngine());
  return stream;
}

std::mutex& cacheMutex() {
  static std::mutex mutex;
  return mutex;
}

namespace {

using Body = napi_value (*)(const Args&);

// Calls into the addon since it loaded, for benchmarks counting JS <-> native crossings per step.
double callCount = 0;

template <Body body>
napi_value entry(napi_env env, napi_callback_info info) {
  callCount += 1;
  try {
    Args args(env, info);
    return body(args);
  } catch (const ArgError& e) {
    napi_throw_type_error(env, nullptr, e.what());
  } catch (const dnnl::error& e) {
    std::string message = std::string("oneDNN: ") + e.what() + " (status " + std::to_string(e.status) + ")";
    napi_throw_error(env, nullptr, message.c_str());
  } catch (const std::exception& e) {
    napi_throw_error(env, nullptr, e.what());
  }
  return nullptr;
}

napi_value undefinedValue(napi_env env) {
  napi_value v;
  napi_get_undefined(env, &v);
  return v;
}

size_t product(std::initializer_list<int> dims) {
  size_t p = 1;
  for (int d : dims) {
    if (d <= 0) throw ArgError("dimensions must be positive");
    p *= static_cast<size_t>(d);
  }
  return p;
}

// Geometry follows the three buffers: n, ih, iw, ic, oh, ow, oc, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr.
ConvShape convShape(const Args& a) {
  a.expectCount(20);
  ConvShape s{a.i32(3),  a.i32(4),  a.i32(5),  a.i32(6),  a.i32(7),  a.i32(8),  a.i32(9),  a.i32(10), a.i32(11),
              a.i32(12), a.i32(13), a.i32(14), a.i32(15), a.i32(16), a.i32(17), a.i32(18), a.i32(19)};
  product({s.n, s.ih, s.iw, s.ic, s.oh, s.ow, s.oc, s.kh, s.kw, s.sh, s.sw, s.dh, s.dw});
  if (s.pt < 0 || s.pl < 0 || s.pb < 0 || s.pr < 0) throw ArgError("padding must be non-negative");
  return s;
}

size_t inSize(const ConvShape& s) { return product({s.n, s.ih, s.iw, s.ic}); }
size_t outSize(const ConvShape& s) { return product({s.n, s.oh, s.ow, s.oc}); }
size_t filterSize(const ConvShape& s) { return product({s.kh, s.kw, s.ic, s.oc}); }

napi_value ConvForward(const Args& a) {
  ConvShape s = convShape(a);
  convForward(s, a.f32(0, inSize(s)), a.f32(1, filterSize(s)), a.f32(2, outSize(s)));
  return undefinedValue(a.env());
}

napi_value ConvBackwardData(const Args& a) {
  ConvShape s = convShape(a);
  convBackwardData(s, a.f32(0, outSize(s)), a.f32(1, filterSize(s)), a.f32(2, inSize(s)));
  return undefinedValue(a.env());
}

napi_value ConvBackwardWeights(const Args& a) {
  ConvShape s = convShape(a);
  convBackwardWeights(s, a.f32(0, inSize(s)), a.f32(1, outSize(s)), a.f32(2, filterSize(s)));
  return undefinedValue(a.env());
}

BnActShape bnActShape(const Args& a, size_t first) {
  BnActShape s{a.i32(first), a.i32(first + 1), static_cast<float>(a.f64(first + 2)), a.boolean(first + 3)};
  if (s.rows <= 0 || s.c <= 0) throw ArgError("dimensions must be positive");
  return s;
}

// x, scale, shift, residual|null, y, mean, variance, rows, c, epsilon, relu
napi_value BnActForward(const Args& a) {
  a.expectCount(11);
  BnActShape s = bnActShape(a, 7);
  const size_t data = static_cast<size_t>(s.rows) * s.c, c = s.c;
  bnActForward(s, a.f32(0, data), a.f32(1, c), a.f32(2, c), a.optionalF32(3, data), a.f32(4, data), a.f32(5, c),
               a.f32(6, c));
  return undefinedValue(a.env());
}

// dy, x, y|null (needed with relu), scale, mean, variance, dx, dScale, dShift, dResidual|null, rows, c, epsilon, relu
napi_value BnActBackward(const Args& a) {
  a.expectCount(14);
  BnActShape s = bnActShape(a, 10);
  const size_t data = static_cast<size_t>(s.rows) * s.c, c = s.c;
  const float* y = a.optionalF32(2, data);
  if (s.relu && !y) throw ArgError("the ReLU's gradient needs the forward's output y");
  bnActBackward(s, a.f32(0, data), a.f32(1, data), y, a.f32(3, c), a.f32(4, c), a.f32(5, c), a.f32(6, data),
                a.f32(7, c), a.f32(8, c), a.optionalF32(9, data));
  return undefinedValue(a.env());
}

// w, v, g, wOut, vOut, lr, momentum, weightDecay: all five buffers one length.
napi_value SgdMomentum(const Args& a) {
  a.expectCount(8);
  F32View w = a.f32(0);
  sgdMomentum(w.data, a.f32(1, w.length), a.f32(2, w.length), a.f32(3, w.length), a.f32(4, w.length), w.length,
              static_cast<float>(a.f64(5)), static_cast<float>(a.f64(6)), static_cast<float>(a.f64(7)));
  return undefinedValue(a.env());
}

// movingMean, movingVariance, mean, variance, meanOut, varianceOut, momentum, correction: all one length.
napi_value MovingAverages(const Args& a) {
  a.expectCount(8);
  F32View m = a.f32(0);
  const double momentum = a.f64(6);
  // 1 - momentum in double, then rounded once, as TF.js turns the JS number 1 - momentum into a float32 scalar.
  movingAverages(m.data, a.f32(1, m.length), a.f32(2, m.length), a.f32(3, m.length), a.f32(4, m.length),
                 a.f32(5, m.length), m.length, static_cast<float>(1.0 - momentum), static_cast<float>(momentum),
                 static_cast<float>(a.f64(7)));
  return undefinedValue(a.env());
}

napi_value Relu(const Args& a) {
  a.expectCount(2);
  F32View x = a.f32(0);
  reluForward(x.data, a.f32(1, x.length), x.length);
  return undefinedValue(a.env());
}

napi_value ReluGrad(const Args& a) {
  a.expectCount(3);
  F32View dy = a.f32(0);
  reluBackward(dy.data, a.f32(1, dy.length), a.f32(2, dy.length), dy.length);
  return undefinedValue(a.env());
}

napi_value Step(const Args& a) {
  a.expectCount(3);
  F32View x = a.f32(0);
  stepForward(x.data, a.f32(1, x.length), static_cast<float>(a.f64(2)), x.length);
  return undefinedValue(a.env());
}

// (op, a, b, out, levels): levels an Int32Array of (size, strideA, strideB) triples, outer to inner,
// covering out exactly; strides index into a and b, 0 where broadcast.
napi_value Binary(const Args& a) {
  a.expectCount(5);
  const int op = a.i32(0);
  if (op < 0 || op > 3) throw ArgError("unknown binary op");
  F32View x = a.f32(1);
  F32View y = a.f32(2);
  F32View out = a.f32(3);
  size_t length = 0;
  const int32_t* table = a.i32array(4, &length);
  if (length == 0 || length % 3 != 0 || length > 3 * 8) throw ArgError("broadcast levels must be 1..8 triples");
  std::vector<BroadcastLevel> levels;
  size_t total = 1, lastA = 0, lastB = 0;
  for (size_t l = 0; l < length; l += 3) {
    if (table[l] <= 0 || table[l + 1] < 0 || table[l + 2] < 0) throw ArgError("bad broadcast level");
    levels.push_back({table[l], table[l + 1], table[l + 2]});
    total *= static_cast<size_t>(table[l]);
    lastA += static_cast<size_t>(table[l] - 1) * static_cast<size_t>(table[l + 1]);
    lastB += static_cast<size_t>(table[l] - 1) * static_cast<size_t>(table[l + 2]);
  }
  if (total != out.length || lastA >= x.length || lastB >= y.length) {
    throw ArgError("broadcast levels do not fit the buffers");
  }
  binaryBroadcast(static_cast<BinaryOp>(op), x.data, y.data, out.data, levels.data(), static_cast<int>(levels.size()));
  return undefinedValue(a.env());
}

// (x, out, outer, reduce, inner, scale): out[o, i] = scale * sum_r x[o, r, i].
napi_value Reduce(const Args& a) {
  a.expectCount(6);
  const int outer = a.i32(2), reduce = a.i32(3), inner = a.i32(4);
  product({outer, reduce, inner});
  const float* x = a.f32(0, static_cast<size_t>(outer) * reduce * inner);
  float* out = a.f32(1, static_cast<size_t>(outer) * inner);
  reduceMiddle(x, out, outer, reduce, inner, static_cast<float>(a.f64(5)));
  return undefinedValue(a.env());
}

// ([Float32Array...], out): all inputs the length of out.
napi_value AddN(const Args& a) {
  a.expectCount(2);
  F32View out = a.f32(1);
  napi_env env = a.env();
  bool isArray = false;
  napi_is_array(env, a.raw(0), &isArray);
  if (!isArray) throw ArgError("argument 0 must be an array of Float32Arrays");
  uint32_t count = 0;
  napi_get_array_length(env, a.raw(0), &count);
  if (count == 0) throw ArgError("addN needs at least one input");
  std::vector<const float*> inputs(count);
  for (uint32_t k = 0; k < count; ++k) {
    napi_value element;
    napi_get_element(env, a.raw(0), k, &element);
    bool isTyped = false;
    napi_is_typedarray(env, element, &isTyped);
    if (!isTyped) throw ArgError("argument 0 must be an array of Float32Arrays");
    napi_typedarray_type type;
    size_t length = 0;
    void* data = nullptr;
    napi_get_typedarray_info(env, element, &type, &length, &data, nullptr, nullptr);
    if (type != napi_float32_array || length != out.length) {
      throw ArgError("addN inputs must be Float32Arrays the length of the output");
    }
    inputs[k] = static_cast<const float*>(data);
  }
  addMany(inputs.data(), inputs.size(), out.data, out.length);
  return undefinedValue(env);
}

// (x, a, b, y, residual|null, relu): y = relu?(x * a + b + residual?) per channel, channels = a.length.
napi_value Affine(const Args& a) {
  a.expectCount(6);
  F32View x = a.f32(0);
  F32View scale = a.f32(1);
  if (scale.length == 0 || x.length % scale.length != 0) throw ArgError("x must be whole rows of channels");
  affineChannels(x.data, scale.data, a.f32(2, scale.length), a.optionalF32(4, x.length), a.f32(3, x.length),
                 x.length / scale.length, scale.length, a.boolean(5));
  return undefinedValue(a.env());
}

napi_value NumThreads(const Args& a) {
  napi_value v;
  napi_create_int32(a.env(), omp_get_max_threads(), &v);
  return v;
}

// (n): run on n OpenMP threads from now on. Cached primitives are rebuilt, as oneDNN partitions work
// for the thread count at creation.
napi_value SetNumThreads(const Args& a) {
  a.expectCount(1);
  const int n = a.i32(0);
  if (n < 1) throw ArgError("thread count must be at least 1");
  omp_set_num_threads(n);
  convClearCache();
  return undefinedValue(a.env());
}

napi_value Calls(const Args& a) {
  napi_value v;
  napi_create_double(a.env(), callCount, &v);
  return v;
}

napi_value Version(const Args& a) {
  const dnnl_version_t* v = dnnl_version();
  std::string text = std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
  napi_value out;
  napi_create_string_utf8(a.env(), text.c_str(), text.size(), &out);
  return out;
}

napi_value Init(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"convForward", nullptr, entry<ConvForward>, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"convBackwardData", nullptr, entry<ConvBackwardData>, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"convBackwardWeights", nullptr, entry<ConvBackwardWeights>, nullptr, nullptr, nullptr, napi_enumerable,
       nullptr},
      {"bnActForward", nullptr, entry<BnActForward>, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"bnActBackward", nullptr, entry<BnActBackward>, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"sgdMomentum", nullptr, entry<SgdMomentum>, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"movingAverages", nullptr, entry<MovingAverages>, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"relu", nullptr, entry<Relu>, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"reluGrad", nullptr, entry<ReluGrad>, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"step", nullptr, entry<Step>, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"binary", nullptr, entry<Binary>, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"reduce", nullptr, entry<Reduce>, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"affine", nullptr, entry<Affine>, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"addN", nullptr, entry<AddN>, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"numThreads", nullptr, entry<NumThreads>, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"setNumThreads", nullptr, entry<SetNumThreads>, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"calls", nullptr, entry<Calls>, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"version", nullptr, entry<Version>, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

}  // namespace
}  // namespace onednn_addon

NAPI_MODULE(NODE_GYP_MODULE_NAME, onednn_addon::Init)
