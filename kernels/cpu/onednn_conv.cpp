#include "kernels/cpu/onednn_conv.h"

#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "dlt/core/allocator.h"
#include "kernels/cpu/f32_copies.h"
#include "kernels/cpu/onednn_engine.h"

namespace dlt::cpu {
namespace {

using dnnl::memory;
using DataType = memory::data_type;
using Tag = memory::format_tag;

enum class Pass : uint8_t { forward, backward_input, backward_weight };

// oneDNN's view of one convolution: dims in the user's plain layouts. Grouped
// weights are 5-D (G, Cout/G, Cin/G, kH, kW), the same bytes as torch's 4-D.
struct ConvDims {
  memory::dims src, weights, bias, dst, strides, dilates, padding;
};

ConvDims conv_dims(const ConvGeometry& g) {
  ConvDims d;
  d.src = {g.B, g.Cin, g.H, g.W};
  d.weights = g.groups == 1 ? memory::dims{g.Cout, g.Cin, g.kH, g.kW}
                            : memory::dims{g.groups, g.cout_per_group(), g.cin_per_group(), g.kH,
                                           g.kW};
  d.bias = {g.Cout};
  d.dst = {g.B, g.Cout, g.Ho, g.Wo};
  d.strides = {g.stride[0], g.stride[1]};
  d.dilates = {g.dilation[0] - 1, g.dilation[1] - 1};  // oneDNN counts the gaps: torch's - 1
  // Right padding equal to left gives torch's floor-divided output size.
  d.padding = {g.padding[0], g.padding[1]};
  return d;
}

DataType data_type_of(DType t) {
  switch (t) {
    case DType::f32: return DataType::f32;
    case DType::bf16: return DataType::bf16;
    case DType::f16: return DataType::f16;
    default: break;
  }
  DLT_ASSERT(false, "no oneDNN convolution for {}", t);
  return DataType::undef;
}

memory::desc plain(const memory::dims& dims, DataType dt) {
  static constexpr Tag kPlainTags[] = {Tag::undef, Tag::a, Tag::ab, Tag::abc, Tag::abcd,
                                       Tag::abcde};
  return memory::desc(dims, dt, kPlainTags[dims.size()]);
}

memory::desc any(const memory::dims& dims, DataType dt) { return memory::desc(dims, dt, Tag::any); }

// One tensor argument of a primitive: the user's plain layout and the one the
// primitive chose. A reorder converts between them (layout and dtype) when
// they differ: user -> primitive for inputs, back for outputs.
struct Operand {
  int arg;  // DNNL_ARG_SRC, DNNL_ARG_DIFF_WEIGHTS, ...
  bool is_output;
  memory::desc user, internal;
  std::optional<dnnl::reorder> reorder;
};

Operand operand(int arg, bool is_output, const memory::dims& dims, DataType user_dt,
                const memory::desc& internal) {
  Operand o{arg, is_output, plain(dims, user_dt), internal, std::nullopt};
  if (o.user != o.internal) {
    const dnnl::engine& eng = onednn_engine();
    const memory::desc& from = is_output ? internal : o.user;
    const memory::desc& to = is_output ? o.user : internal;
    o.reorder = dnnl::reorder(dnnl::reorder::primitive_desc(eng, from, eng, to));
  }
  return o;
}

struct CachedConv {
  dnnl::primitive primitive;
  std::vector<Operand> operands;  // in the order execute() receives their data
};

// Direct convolution everywhere: Winograd would be faster for some 3x3
// shapes but trades accuracy for it.
constexpr auto kAlgorithm = dnnl::algorithm::convolution_direct;

dnnl::convolution_forward::primitive_desc forward_pd(const ConvDims& d, DataType cdt, bool bias) {
  const memory::desc bias_md = bias ? any(d.bias, cdt) : memory::desc();
  const dnnl::convolution_forward::desc desc(
      dnnl::prop_kind::forward_training, kAlgorithm, any(d.src, cdt), any(d.weights, cdt), bias_md,
      any(d.dst, cdt), d.strides, d.dilates, d.padding, d.padding);
  return {desc, onednn_engine()};
}

// user_dt: the tensors' dtype; cdt: the dtype the primitive computes in.
CachedConv build(Pass pass, const ConvDims& d, DataType user_dt, DataType cdt, bool bias) {
  const dnnl::engine& eng = onednn_engine();
  const auto fwd = forward_pd(d, cdt, bias);
  auto in = [&](int arg, const memory::dims& dims, const memory::desc& md) {
    return operand(arg, false, dims, user_dt, md);
  };
  auto out = [&](int arg, const memory::dims& dims, const memory::desc& md) {
    return operand(arg, true, dims, user_dt, md);
  };
  CachedConv c;
  switch (pass) {
    case Pass::forward: {
      c.primitive = dnnl::convolution_forward(fwd);
      c.operands = {in(DNNL_ARG_SRC, d.src, fwd.src_desc()),
                    in(DNNL_ARG_WEIGHTS, d.weights, fwd.weights_desc())};
      if (bias) c.operands.push_back(in(DNNL_ARG_BIAS, d.bias, fwd.bias_desc()));
      c.operands.push_back(out(DNNL_ARG_DST, d.dst, fwd.dst_desc()));
      break;
    }
    case Pass::backward_input: {
      const dnnl::convolution_backward_data::desc desc(kAlgorithm, any(d.src, cdt),
                                                       any(d.weights, cdt), any(d.dst, cdt),
                                                       d.strides, d.dilates, d.padding, d.padding);
      const dnnl::convolution_backward_data::primitive_desc pd(desc, eng, fwd);
      c.primitive = dnnl::convolution_backward_data(pd);
      c.operands = {in(DNNL_ARG_DIFF_DST, d.dst, pd.diff_dst_desc()),
                    in(DNNL_ARG_WEIGHTS, d.weights, pd.weights_desc()),
                    out(DNNL_ARG_DIFF_SRC, d.src, pd.diff_src_desc())};
      break;
    }
    case Pass::backward_weight: {
      const memory::desc bias_md = bias ? any(d.bias, cdt) : memory::desc();
      const dnnl::convolution_backward_weights::desc desc(
          kAlgorithm, any(d.src, cdt), any(d.weights, cdt), bias_md, any(d.dst, cdt), d.strides,
          d.dilates, d.padding, d.padding);
      const dnnl::convolution_backward_weights::primitive_desc pd(desc, eng, fwd);
      c.primitive = dnnl::convolution_backward_weights(pd);
      c.operands = {in(DNNL_ARG_DIFF_DST, d.dst, pd.diff_dst_desc()),
                    in(DNNL_ARG_SRC, d.src, pd.src_desc()),
                    out(DNNL_ARG_DIFF_WEIGHTS, d.weights, pd.diff_weights_desc())};
      if (bias) c.operands.push_back(out(DNNL_ARG_DIFF_BIAS, d.bias, pd.diff_bias_desc()));
      break;
    }
  }
  return c;
}

// Native low precision where this CPU has kernels for it, else f32. 16-bit
// dtypes come here only where has_native_conv found a forward kernel (the
// public functions run the others on f32 copies); a backward pass without
// one then converts in its reorders.
CachedConv create(Pass pass, const ConvGeometry& g, DType dtype, bool bias) {
  const ConvDims d = conv_dims(g);
  const DataType user_dt = data_type_of(dtype);
  if (user_dt != DataType::f32) {
    try {
      return build(pass, d, user_dt, user_dt, bias);
    } catch (const dnnl::error& e) {
      if (e.status != dnnl_unimplemented) throw;
    }
  }
  return build(pass, d, user_dt, DataType::f32, bias);
}

// Whether oneDNN has a convolution computing in this 16-bit dtype on this CPU
// (asked once, on a small forward problem).
bool has_native_conv(DType dtype) {
  static const auto ask = [](DataType dt) {
    const ConvDims d{{1, 8, 8, 8}, {8, 8, 3, 3}, {8}, {1, 8, 6, 6}, {1, 1}, {0, 0}, {0, 0}};
    try {
      forward_pd(d, dt, false);
      return true;
    } catch (const dnnl::error& e) {
      if (e.status != dnnl_unimplemented) throw;
      return false;
    }
  };
  static const bool bf16 = ask(DataType::bf16), f16 = ask(DataType::f16);
  return dtype == DType::bf16 ? bf16 : f16;
}

// f16/bf16 without a native convolution: the f32 primitive on f32 copies
// (f32_copies.h). Converting inside the layout reorders instead takes
// oneDNN's generic reorder: on an AVX2 EPYC the bf16 CNN spent 660 ms a step
// there, about nine times its whole f32 step.
bool computes_on_f32_copies(DType dtype) { return is_16_bit_float(dtype) && !has_native_conv(dtype); }

// Everything a cached primitive depends on.
struct Key {
  Pass pass;
  DType dtype;
  bool bias;
  std::array<int64_t, 16> sizes;
  bool operator==(const Key&) const = default;
};

struct KeyHash {
  size_t operator()(const Key& k) const {
    size_t h = size_t(k.pass) << 16 | size_t(k.dtype) << 8 | size_t(k.bias);
    for (int64_t s : k.sizes) h = h * 0x100000001b3ull ^ size_t(s);
    return h;
  }
};

// The primitive for (pass, geometry, dtype), created on first use. The cache
// is never trimmed: a program uses few distinct convolution shapes.
const CachedConv& cached(Pass pass, const ConvGeometry& g, DType dtype, bool bias) {
  static std::mutex mutex;
  static std::unordered_map<Key, std::unique_ptr<const CachedConv>, KeyHash> cache;
  const Key key{pass, dtype, bias,
                {g.B, g.Cin, g.H, g.W, g.Cout, g.kH, g.kW, g.Ho, g.Wo, g.groups, g.stride[0],
                 g.stride[1], g.padding[0], g.padding[1], g.dilation[0], g.dilation[1]}};
  {
    std::lock_guard lock(mutex);
    if (auto it = cache.find(key); it != cache.end()) return *it->second;
  }
  // Created outside the lock (primitive creation is slow); the first insert wins.
  auto made = std::make_unique<const CachedConv>(create(pass, g, dtype, bias));
  std::lock_guard lock(mutex);
  return *cache.emplace(key, std::move(made)).first->second;
}

// A buffer for a primitive-format copy of an operand, from dlt's host
// allocator, whose cache makes repeated steps reuse the same memory.
class HostBuffer {
 public:
  explicit HostBuffer(size_t nbytes)
      : nbytes_(nbytes), ptr_(allocator_for(DeviceType::cpu).allocate(nbytes, 0)) {}
  ~HostBuffer() { allocator_for(DeviceType::cpu).deallocate(ptr_, nbytes_, 0); }
  HostBuffer(const HostBuffer&) = delete;
  HostBuffer& operator=(const HostBuffer&) = delete;
  void* get() const { return ptr_; }

 private:
  size_t nbytes_;
  void* ptr_;
};

// Runs a cached convolution on user buffers given in operand order.
void execute(const CachedConv& conv, const std::vector<void*>& data) {
  const dnnl::engine& eng = onednn_engine();
  dnnl::stream& stream = onednn_stream();
  std::unordered_map<int, memory> args;
  struct PendingOutput {
    const dnnl::reorder* reorder;
    memory internal, user;
  };
  std::vector<PendingOutput> pending;  // primitive-format outputs to copy back
  std::vector<std::unique_ptr<HostBuffer>> buffers;
  for (size_t i = 0; i < data.size(); ++i) {
    const Operand& o = conv.operands[i];
    memory user(o.user, eng, data[i]);
    if (!o.reorder) {
      args.emplace(o.arg, user);
      continue;
    }
    buffers.push_back(std::make_unique<HostBuffer>(o.internal.get_size()));
    memory internal(o.internal, eng, buffers.back()->get());
    if (o.is_output)
      pending.push_back({&*o.reorder, internal, user});
    else
      o.reorder->execute(stream, user, internal);
    args.emplace(o.arg, internal);
  }
  conv.primitive.execute(stream, args);
  for (PendingOutput& p : pending) p.reorder->execute(stream, p.internal, p.user);
  stream.wait();
}

// Looks up (or creates) the primitive and runs it on `data` (operand order).
// oneDNN failures (out of memory, a shape it cannot do) become InternalErrors
// that say which convolution failed.
void run_cached(Pass pass, const ConvGeometry& g, DType dtype, bool bias,
                const std::vector<void*>& data) {
  try {
    execute(cached(pass, g, dtype, bias), data);
  } catch (const dnnl::error& e) {
    static constexpr const char* kPassNames[] = {"forward", "backward input", "backward weight"};
    throw InternalError(fmt::format(
        "oneDNN {} convolution failed for input [{}, {}, {}, {}], weight [{}, {}, {}, {}], "
        "groups {}, stride {}, padding {}, dilation {}, {}: {}",
        kPassNames[int(pass)], g.B, g.Cin, g.H, g.W, g.Cout, g.cin_per_group(), g.kH, g.kW,
        g.groups, g.stride, g.padding, g.dilation, dtype, e.what()));
  }
}

}  // namespace

bool onednn_conv_supports(DType dtype) {
  return dtype == DType::f32 || dtype == DType::bf16 || dtype == DType::f16;
}

void onednn_conv2d_forward(const ConvGeometry& g, const Tensor& x, const Tensor& weight,
                           const Tensor& bias, Tensor& y) {
  if (computes_on_f32_copies(x.dtype())) {
    Tensor wide = f32_like(y);
    onednn_conv2d_forward(g, f32_copy(x), f32_copy(weight), f32_copy(bias), wide);
    return round_into(y, wide);
  }
  std::vector<void*> data = {x.raw_data(), weight.raw_data()};
  if (bias.defined()) data.push_back(bias.raw_data());
  data.push_back(y.raw_data());
  run_cached(Pass::forward, g, x.dtype(), bias.defined(), data);
}

void onednn_conv2d_backward_input(const ConvGeometry& g, const Tensor& dy, const Tensor& weight,
                                  Tensor& dx) {
  if (computes_on_f32_copies(dy.dtype())) {
    Tensor wide = f32_like(dx);
    onednn_conv2d_backward_input(g, f32_copy(dy), f32_copy(weight), wide);
    return round_into(dx, wide);
  }
  run_cached(Pass::backward_input, g, dy.dtype(), false,
             {dy.raw_data(), weight.raw_data(), dx.raw_data()});
}

void onednn_conv2d_backward_weight(const ConvGeometry& g, const Tensor& dy, const Tensor& x,
                                   Tensor& dweight, Tensor& dbias) {
  if (computes_on_f32_copies(dy.dtype())) {
    Tensor wide_dweight = f32_like(dweight), wide_dbias = f32_like(dbias);
    onednn_conv2d_backward_weight(g, f32_copy(dy), f32_copy(x), wide_dweight, wide_dbias);
    round_into(dweight, wide_dweight);
    return round_into(dbias, wide_dbias);
  }
  std::vector<void*> data = {dy.raw_data(), x.raw_data(), dweight.raw_data()};
  if (dbias.defined()) data.push_back(dbias.raw_data());
  run_cached(Pass::backward_weight, g, dy.dtype(), dbias.defined(), data);
}

}  // namespace dlt::cpu
