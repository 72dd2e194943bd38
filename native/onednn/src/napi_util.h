// Argument unpacking for the addon's entry points. Every entry point takes Float32Arrays (used in place,
// never copied) followed by plain integers; a mismatch throws a JS TypeError instead of crashing.
#pragma once

#include <node_api.h>

#include <cstddef>
#include <stdexcept>
#include <string>

namespace onednn_addon {

// Thrown while unpacking or running a kernel; the entry-point wrapper turns it into a JS exception.
struct ArgError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct F32View {
  float* data;
  size_t length;
};

class Args {
 public:
  Args(napi_env env, napi_callback_info info) : env_(env) {
    argc_ = kMaxArgs;
    if (napi_get_cb_info(env, info, &argc_, argv_, nullptr, nullptr) != napi_ok) {
      throw ArgError("cannot read arguments");
    }
  }

  size_t count() const { return argc_; }

  void expectCount(size_t n) const {
    if (argc_ != n) {
      throw ArgError("expected " + std::to_string(n) + " arguments, got " + std::to_string(argc_));
    }
  }

  F32View f32(size_t i) const {
    napi_value v = at(i);
    bool isTyped = false;
    napi_is_typedarray(env_, v, &isTyped);
    if (!isTyped) throw ArgError("argument " + std::to_string(i) + " must be a Float32Array");
    napi_typedarray_type type;
    size_t length = 0;
    void* data = nullptr;
    napi_value buffer;
    size_t offset = 0;
    if (napi_get_typedarray_info(env_, v, &type, &length, &data, &buffer, &offset) != napi_ok ||
        type != napi_float32_array) {
      throw ArgError("argument " + std::to_string(i) + " must be a Float32Array");
    }
    return F32View{static_cast<float*>(data), length};
  }

  // A Float32Array that must hold exactly `expected` elements: shape mistakes in JS would otherwise let
  // oneDNN read or write past the end of the buffer.
  float* f32(size_t i, size_t expected) const {
    F32View view = f32(i);
    if (view.length != expected) {
      throw ArgError("argument " + std::to_string(i) + " has " + std::to_string(view.length) +
                     " elements, expected " + std::to_string(expected));
    }
    return view.data;
  }

  // Like f32(i, expected), but null or undefined gives nullptr (an absent optional buffer).
  float* optionalF32(size_t i, size_t expected) const {
    napi_valuetype type;
    if (napi_typeof(env_, at(i), &type) != napi_ok) throw ArgError("cannot read argument " + std::to_string(i));
    if (type == napi_null || type == napi_undefined) return nullptr;
    return f32(i, expected);
  }

  bool boolean(size_t i) const {
    bool out = false;
    if (napi_get_value_bool(env_, at(i), &out) != napi_ok) {
      throw ArgError("argument " + std::to_string(i) + " must be a boolean");
    }
    return out;
  }

  // An Int32Array's elements (small geometry tables).
  const int32_t* i32array(size_t i, size_t* length) const {
    napi_typedarray_type type;
    void* data = nullptr;
    bool isTyped = false;
    napi_is_typedarray(env_, at(i), &isTyped);
    if (!isTyped || napi_get_typedarray_info(env_, at(i), &type, length, &data, nullptr, nullptr) != napi_ok ||
        type != napi_int32_array) {
      throw ArgError("argument " + std::to_string(i) + " must be an Int32Array");
    }
    return static_cast<const int32_t*>(data);
  }

  int i32(size_t i) const {
    int32_t out = 0;
    if (napi_get_value_int32(env_, at(i), &out) != napi_ok) {
      throw ArgError("argument " + std::to_string(i) + " must be an integer");
    }
    return out;
  }

  double f64(size_t i) const {
    double out = 0;
    if (napi_get_value_double(env_, at(i), &out) != napi_ok) {
      throw ArgError("argument " + std::to_string(i) + " must be a number");
    }
    return out;
  }

  napi_value raw(size_t i) const { return at(i); }
  napi_env env() const { return env_; }

 private:
  static constexpr size_t kMaxArgs = 24;

  napi_value at(size_t i) const {
    if (i >= argc_) throw ArgError("missing argument " + std::to_string(i));
    return argv_[i];
  }

  napi_env env_;
  size_t argc_;
  napi_value argv_[kMaxArgs];
};

}  // namespace onednn_addon
