#include "dlt/onnx/proto.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "dlt/ops/ops.h"

namespace dlt::onnx_io {

using onnx::TensorProto;

onnx::ModelProto load_model(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  DLT_CHECK(in, "{}: cannot open the ONNX model ({})", path,
            std::filesystem::exists(path) ? "unreadable" : "no such file");
  onnx::ModelProto model;
  DLT_CHECK(model.ParseFromIstream(&in), "{}: not an ONNX model (its protobuf does not parse)",
            path);
  DLT_CHECK(model.has_graph(), "{}: an ONNX model without a graph", path);
  return model;
}

void save_model(const onnx::ModelProto& model, const std::string& path) {
  const std::string tmp = path + ".tmp";
  std::error_code ec;
  try {
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      DLT_CHECK(out, "{}: cannot write", tmp);
      DLT_CHECK(model.SerializeToOstream(&out) && out.flush(), "{}: writing the model failed", tmp);
    }
    std::filesystem::rename(tmp, path, ec);
    DLT_CHECK(!ec, "{}: cannot rename {} into place: {}", path, tmp, ec.message());
  } catch (...) {
    std::filesystem::remove(tmp, ec);  // no partial file left behind
    throw;
  }
}

std::optional<DType> dtype_from_onnx(int32_t elem_type) {
  switch (elem_type) {
    case TensorProto::FLOAT: return DType::f32;
    case TensorProto::DOUBLE: return DType::f64;
    case TensorProto::FLOAT16: return DType::f16;
    case TensorProto::BFLOAT16: return DType::bf16;
    case TensorProto::INT32: return DType::i32;
    case TensorProto::INT64: return DType::i64;
    case TensorProto::UINT8: return DType::u8;
    case TensorProto::BOOL: return DType::boolean;
    default: return std::nullopt;
  }
}

int32_t onnx_dtype(DType dtype) {
  switch (dtype) {
    case DType::f32: return TensorProto::FLOAT;
    case DType::f64: return TensorProto::DOUBLE;
    case DType::f16: return TensorProto::FLOAT16;
    case DType::bf16: return TensorProto::BFLOAT16;
    case DType::i32: return TensorProto::INT32;
    case DType::i64: return TensorProto::INT64;
    case DType::u8: return TensorProto::UINT8;
    case DType::boolean: return TensorProto::BOOL;
  }
  DLT_ASSERT(false, "unknown dtype");
}

std::string onnx_dtype_name(int32_t elem_type) {
  // Types newer than the 1.12 messages (float8, int4, float4) have numbers only there.
  switch (elem_type) {
    case 17: return "FLOAT8E4M3FN";
    case 18: return "FLOAT8E4M3FNUZ";
    case 19: return "FLOAT8E5M2";
    case 20: return "FLOAT8E5M2FNUZ";
    case 21: return "UINT4";
    case 22: return "INT4";
    case 23: return "FLOAT4E2M1";
    case 24: return "FLOAT8E8M0";
    case 25: return "UINT2";
    case 26: return "INT2";
  }
  if (TensorProto::DataType_IsValid(elem_type))
    return TensorProto::DataType_Name(static_cast<TensorProto::DataType>(elem_type));
  return fmt::format("type {}", elem_type);
}

namespace {

// Copies the typed repeated field into a tensor of `dtype`, element by
// element (int32_data holds int32, uint8, bool and the 16-bit floats' bits).
template <class Field>
Tensor from_field(const Field& field, DType dtype, const Shape& shape, const std::string& what) {
  const int64_t n = numel_of(shape);
  DLT_CHECK(static_cast<int64_t>(field.size()) == n,
            "{}: {} values for shape {} ({} elements)", what, field.size(), shape_str(shape), n);
  Tensor t = empty(shape, dtype);
  visit_dtype(dtype, [&]<class T>() {
    T* out = t.data_ptr<T>();
    for (int64_t i = 0; i < n; ++i) {
      if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) {
        out[i].bits = static_cast<uint16_t>(field.Get(static_cast<int>(i)));
      } else {
        out[i] = static_cast<T>(field.Get(static_cast<int>(i)));
      }
    }
  });
  return t;
}

}  // namespace

namespace {

// The bytes of an external tensor: `location` (relative to the model's
// folder), from `offset`, `length` bytes (default: to the end).
std::string external_bytes(const TensorProto& proto, const std::string& what, const std::string& model_dir) {
  std::string location;
  int64_t offset = 0, length = -1;
  const auto number = [&](const std::string& key, const std::string& value) {
    int64_t v = -1;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    DLT_CHECK(ec == std::errc() && end == value.data() + value.size() && v >= 0,
              "{}: external data {} '{}' is not a byte count", what, key, value);
    return v;
  };
  for (const auto& kv : proto.external_data()) {
    if (kv.key() == "location") location = kv.value();
    else if (kv.key() == "offset") offset = number("offset", kv.value());
    else if (kv.key() == "length") length = number("length", kv.value());
  }
  DLT_CHECK(!location.empty(), "{}: external data without a location", what);
  const std::filesystem::path rel(location);
  DLT_CHECK(rel.is_relative() && rel.lexically_normal().string().rfind("..", 0) != 0,
            "{}: external data location '{}' must stay inside the model's folder", what, location);
  const auto path = std::filesystem::path(model_dir) / rel;
  std::error_code ec;
  DLT_CHECK(std::filesystem::is_regular_file(path, ec), "{}: its external data file {} is missing",
            what, path.string());
  const auto size = static_cast<int64_t>(std::filesystem::file_size(path, ec));
  std::ifstream in(path, std::ios::binary);
  DLT_CHECK(in && !ec, "{}: cannot open its external data file {}", what, path.string());
  if (length < 0) length = size - offset;
  DLT_CHECK(offset <= size && length <= size - offset, "{}: bytes [{}, {}) of {} ({} bytes)", what,
            offset, offset + length, path.string(), size);
  std::string bytes(static_cast<size_t>(length), '\0');
  in.seekg(offset);
  DLT_CHECK(in.read(bytes.data(), length), "{}: reading {} failed", what, path.string());
  return bytes;
}

}  // namespace

Tensor tensor_from_proto(const TensorProto& proto, const std::string& what, const std::string& model_dir) {
  DLT_CHECK(!proto.has_segment(), "{}: a segmented tensor, which dlt does not read", what);
  const auto dtype = dtype_from_onnx(proto.data_type());
  DLT_CHECK(dtype, "{}: data type {} has no dlt tensor type", what,
            onnx_dtype_name(proto.data_type()));
  Shape shape(proto.dims().begin(), proto.dims().end());
  // The element and byte counts, refusing dims whose product overflows (the
  // product of the non-zero dims too: a tensor's strides are made of it).
  int64_t n = 1, strided = 1, bytes_needed = 0;
  for (int64_t d : shape) {
    DLT_CHECK(d >= 0, "{}: negative dim in {}", what, shape_str(shape));
    DLT_CHECK(!__builtin_mul_overflow(n, d, &n) &&
                  !__builtin_mul_overflow(strided, std::max<int64_t>(d, 1), &strided),
              "{}: shape {} has too many elements", what, shape_str(shape));
  }
  DLT_CHECK(!__builtin_mul_overflow(n, static_cast<int64_t>(dtype_size(*dtype)), &bytes_needed),
            "{}: shape {} has too many elements", what, shape_str(shape));
  const bool external = proto.data_location() == TensorProto::EXTERNAL;
  if (proto.has_raw_data() || external) {
    // External bytes are read into a buffer; the message's own are used in place.
    const std::string external_raw = external ? external_bytes(proto, what, model_dir) : std::string();
    const std::string& raw = external ? external_raw : proto.raw_data();
    const auto bytes = static_cast<size_t>(bytes_needed);
    DLT_CHECK(raw.size() == bytes, "{}: {} bytes of raw data for shape {} of {} ({} bytes)", what,
              raw.size(), shape_str(shape), dtype_name(*dtype), bytes);
    Tensor t = empty(shape, *dtype);
    if (bytes) std::memcpy(t.raw_data(), raw.data(), bytes);  // little-endian, as this host
    return t;
  }
  switch (*dtype) {
    case DType::f32: return from_field(proto.float_data(), *dtype, shape, what);
    case DType::f64: return from_field(proto.double_data(), *dtype, shape, what);
    case DType::i64: return from_field(proto.int64_data(), *dtype, shape, what);
    default: return from_field(proto.int32_data(), *dtype, shape, what);
  }
}

void tensor_to_proto(const Tensor& t, const std::string& name, TensorProto* proto) {
  const Tensor host = t.detach().to(Device::cpu()).contiguous();
  proto->set_name(name);
  proto->set_data_type(onnx_dtype(host.dtype()));
  proto->clear_dims();
  for (int64_t d : host.shape()) proto->add_dims(d);
  proto->set_raw_data(static_cast<const char*>(host.raw_data()),
                      static_cast<size_t>(host.numel()) * host.element_size());
}

}  // namespace dlt::onnx_io
