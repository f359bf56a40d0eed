// safetensors: round trips of every dtype, every kind of damaged file, and
// interop with the reference Python package and with torch.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "dlt/train/safetensors.h"
#include "tests/data/fixtures.h"
#include "tests/test_util.h"

namespace dlt::train {
namespace {

using data::testing::TempDir;
using dlt::testing::expect_error;
using dlt::testing::to_vector;

constexpr const char* kPipPython = "python3";  // has (or gets) the safetensors package
constexpr const char* kTorchPython = "/usr/bin/python3";  // has torch 1.13

std::string bytes_of(const Tensor& t) {
  const Tensor c = t.contiguous();
  return std::string(static_cast<const char*>(c.raw_data()), size_t(c.numel()) * c.element_size());
}

// A file from a header text and data bytes, with the right length prefix.
std::string make_file(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[size_t(i)] = char(uint64_t(header.size()) >> (8 * i));
  return out + header + data;
}

// The tensors the Python side checks: one of each dtype with known values.
TensorMap every_dtype() {
  const std::vector<float> floats = {0.0f, 1.5f, -2.0f, 3.25f, 0.5f, -6.0f};
  const std::vector<int64_t> ints = {0, 1, -2, 3, 100, -7};
  const std::vector<uint8_t> u8 = {0, 1, 2, 3, 100, 255};
  const std::vector<uint8_t> bools = {1, 0, 1, 1, 0, 0};
  const Tensor f = from_vector(floats, {2, 3});
  const Tensor i = from_vector(ints, {2, 3});
  return {
      {"t_F32", f},
      {"t_F64", f.to(DType::f64)},
      {"t_F16", f.to(DType::f16)},
      {"t_BF16", f.to(DType::bf16)},
      {"t_I32", i.to(DType::i32)},
      {"t_I64", i},
      {"t_U8", from_vector(u8, {2, 3})},
      {"t_BOOL", from_vector(bools, {2, 3}).to(DType::boolean)},
      {"scalar", scalar_tensor(0.25, DType::f64)},
      {"empty", zeros({0, 4})},
  };
}

int exit_code(int system_status) { return WIFEXITED(system_status) ? WEXITSTATUS(system_status) : -1; }

TEST(Safetensors, RoundTripsEveryDtypeBitForBit) {
  TempDir tmp;
  TensorMap in = every_dtype();
  in["nan_inf"] = from_vector(std::vector<float>{NAN, INFINITY, -0.0f}, {3});
  in["transposed"] = from_vector(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3}).t();  // not contiguous
  save_safetensors(tmp.path("a.safetensors"), in, {{"format", "pt"}, {"step", "7"}});
  const SafetensorsFile out = load_safetensors(tmp.path("a.safetensors"));
  EXPECT_EQ(out.metadata, (StringMap{{"format", "pt"}, {"step", "7"}}));
  ASSERT_EQ(out.tensors.size(), in.size());
  for (const auto& [name, t] : in) {
    SCOPED_TRACE(name);
    const Tensor& got = out.tensors.at(name);
    EXPECT_EQ(got.dtype(), t.dtype());
    EXPECT_EQ(got.shape(), t.shape());
    EXPECT_EQ(bytes_of(got), bytes_of(t));
  }
  EXPECT_EQ(to_vector<double>(out.tensors.at("transposed")), (std::vector<double>{1, 4, 2, 5, 3, 6}));
}

TEST(Safetensors, LayoutIsSortedPackedAndPaddedToEightBytes) {
  TempDir tmp;
  save_safetensors(tmp.path("b.safetensors"),
                   {{"z", zeros({3})}, {"a", ones({2}, DType::f64)}, {"m", zeros({1}, DType::u8)}});
  const std::string file = data::testing::read_file(tmp.path("b.safetensors"));
  uint64_t n = 0;
  std::memcpy(&n, file.data(), 8);
  EXPECT_EQ(n % 8, 0u);
  EXPECT_EQ(file.size(), 8 + n + 16 + 1 + 12);
  const std::string header = file.substr(8, n);
  EXPECT_EQ(header.substr(0, header.find_last_not_of(' ') + 1),
            R"({"a":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},)"
            R"("m":{"dtype":"U8","shape":[1],"data_offsets":[16,17]},)"
            R"("z":{"dtype":"F32","shape":[3],"data_offsets":[17,29]}})");
}

TEST(SafetensorsBadInput, WritingNamesTheFileAndTheProblem) {
  TempDir tmp;
  expect_error([&] { save_safetensors(tmp.path("x"), {{"w", Tensor()}}); }, {"x", "\"w\" is undefined"});
  expect_error([&] { save_safetensors(tmp.path("x"), {{"__metadata__", zeros({1})}}); },
               {"may not be named \"__metadata__\""});
  expect_error([&] { save_safetensors(tmp.path("no/such/dir/x"), {{"w", zeros({1})}}); },
               {"cannot create", "no/such/dir/x", "No such file"});
}

TEST(SafetensorsBadInput, DamagedFilesNameTheFileAndTheProblem) {
  TempDir tmp;
  const std::string f32x2 = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"abc", "3 bytes, too short for the 8-byte header length"},
      {make_file(f32x2, std::string(8, '\0')).substr(0, 20), "bad header length 54: the file has only 12 bytes after the length"},
      {std::string("\xff\xff\xff\xff\xff\xff\xff\x7f", 8) + "{}", "bad header length"},
      {make_file("{\"a\": ", ""), "header: invalid JSON at byte 6"},
      {make_file("[1, 2]", ""), "header: expected a JSON object"},
      {make_file(R"({"a":{"dtype":"I16","shape":[2],"data_offsets":[0,4]}})", std::string(4, '\0')),
       "tensor \"a\": unknown dtype \"I16\""},
      {make_file(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", std::string(8, '\0')),
       "tensor \"a\": shape [3] of F32 needs 12 bytes, but data_offsets [0, 8] hold 8"},
      {make_file(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", std::string(8, '\0')),
       "reach past the end of the data (8 bytes; is the file truncated?)"},
      {make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", std::string(8, '\0')),
       "end before they begin"},
      {make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                 R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                 std::string(12, '\0')),
       "tensors \"a\" [0, 8] and \"b\" [4, 12] overlap"},
      {make_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                 R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                 std::string(12, '\0')),
       "data bytes [4, 8) belong to no tensor"},
      {make_file(f32x2, std::string(12, '\0')), "the last 4 data bytes belong to no tensor"},
      {make_file(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", std::string(8, '\0')),
       "negative dimension -2"},
      {make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}})", std::string(8, '\0')),
       "data_offsets must be [begin, end]"},
      {make_file(R"({"a":{"dtype":"F32","shape":[2]}})", ""), "missing key \"data_offsets\""},
      {make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}})", std::string(8, '\0')),
       "unknown key \"x\""},
      {make_file(R"({"a":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]}})", std::string("\x01\x02", 2)),
       "BOOL element 1 is 2"},
      {make_file(R"({"__metadata__":{"k":3}})", ""), "__metadata__ \"k\": expected a string"},
      {make_file(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})",
                 std::string(8, '\0')),
       "needs too many bytes"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].second);
    const std::string path = tmp.path(fmt::format("bad{}.safetensors", i));
    data::testing::write_file(path, cases[i].first);
    expect_error([&] { (void)load_safetensors(path); }, {path + ": ", cases[i].second});
  }
  expect_error([&] { (void)load_safetensors(tmp.path("missing.safetensors")); },
               {"missing.safetensors", "cannot open"});
}

// Every prefix of a valid file is rejected with a dlt::Error, and flipping any
// header byte either still parses or is rejected: never a crash or a wrong size.
TEST(SafetensorsBadInput, EveryTruncationAndHeaderByteFlipIsCaught) {
  TempDir tmp;
  const std::string good_path = tmp.path("good.safetensors");
  save_safetensors(good_path, every_dtype(), {{"k", "v"}});
  const std::string good = data::testing::read_file(good_path);
  const std::string path = tmp.path("cut.safetensors");
  for (size_t len = 0; len < good.size(); ++len) {
    data::testing::write_file(path, good.substr(0, len));
    expect_error([&] { (void)load_safetensors(path); }, {path});
  }
  uint64_t n = 0;
  std::memcpy(&n, good.data(), 8);
  for (size_t at = 0; at < 8 + n; ++at) {
    std::string bad = good;
    bad[at] = char(bad[at] ^ 0x5a);
    data::testing::write_file(path, bad);
    try {
      // Only a renamed tensor can survive a flip: the data must still add up.
      const SafetensorsFile f = load_safetensors(path);
      int64_t bytes = 0;
      for (const auto& [name, t] : f.tensors) bytes += t.numel() * int64_t(t.element_size());
      EXPECT_EQ(uint64_t(bytes), good.size() - 8 - n) << "flipped byte " << at;
    } catch (const Error& e) {
      EXPECT_THAT(e.what(), ::testing::HasSubstr(path));
    }
  }
}

TEST(SafetensorsInterop, ReferencePackageReadsDltFilesAndDltReadsItsFiles) {
  TempDir tmp;
  const std::string script = std::string(DLT_SOURCE_DIR) + "/tests/train/safetensors_interop.py";
  save_safetensors(tmp.path("dlt.safetensors"), every_dtype(), {{"format", "pt"}, {"note", "dlt test"}});
  const int rc = exit_code(std::system(fmt::format("{} {} check {}", kPipPython, script, tmp.path("dlt.safetensors")).c_str()));
  if (rc == 77)
    GTEST_SKIP() << "SKIPPED LOUDLY: python3 lacks the safetensors package; run "
                    "`python3 -m pip install safetensors numpy`";
  ASSERT_EQ(rc, 0) << "the safetensors package rejected or misread dlt's file";

  ASSERT_EQ(exit_code(std::system(fmt::format("{} {} write {}", kPipPython, script, tmp.path("py.safetensors")).c_str())), 0);
  const SafetensorsFile f = load_safetensors(tmp.path("py.safetensors"));
  EXPECT_EQ(f.metadata, (StringMap{{"source", "python"}}));
  ASSERT_EQ(f.tensors.size(), 4u);
  EXPECT_EQ(f.tensors.at("w").shape(), (Shape{3, 4}));
  EXPECT_EQ(to_vector<double>(f.tensors.at("w"))[5], 5.0 / 8);
  EXPECT_EQ(to_vector<int64_t>(f.tensors.at("ids")), (std::vector<int64_t>{5, -1, 7}));
  EXPECT_EQ(f.tensors.at("mask").dtype(), DType::boolean);
  EXPECT_EQ(to_vector<int>(f.tensors.at("mask")), (std::vector<int>{1, 0}));
  EXPECT_EQ(f.tensors.at("h").dtype(), DType::f16);
  EXPECT_EQ(to_vector<double>(f.tensors.at("h")), (std::vector<double>{1.5, -0.25}));
}

TEST(SafetensorsInterop, TorchLoadsTheStateDictOfAnMlp) {
  if (exit_code(std::system(fmt::format("{} -c 'import torch, numpy' >/dev/null 2>&1", kTorchPython).c_str())) != 0)
    GTEST_SKIP() << "SKIPPED LOUDLY: " << kTorchPython << " cannot import torch and numpy; install python3-torch";
  TempDir tmp;
  constexpr int64_t In = 5, Hidden = 7, Out = 3;
  Generator gen(42);
  const TensorMap state = {{"0.weight", randn({Hidden, In}, {}, &gen)}, {"0.bias", randn({Hidden}, {}, &gen)},
                           {"2.weight", randn({Out, Hidden}, {}, &gen)}, {"2.bias", randn({Out}, {}, &gen)}};
  const std::string path = tmp.path("model.safetensors");
  save_safetensors(path, state, {{"format", "pt"}});

  const std::string script = std::string(DLT_SOURCE_DIR) + "/tests/train/torch_load_mlp.py";
  const std::string out_path = tmp.path("y.txt");
  ASSERT_EQ(exit_code(std::system(fmt::format("{} {} {} {} {} {} > {}", kTorchPython, script, path, In, Hidden,
                                              Out, out_path).c_str())),
            0);
  std::istringstream torch_out(data::testing::read_file(out_path));
  std::vector<double> torch_y;
  for (double v; torch_out >> v;) torch_y.push_back(v);

  // The same MLP in dlt: relu(x W0^T + b0) W2^T + b2.
  const Tensor x = div(arange(2 * In, DType::f32).reshape({2, In}), scalar_tensor(10, DType::f32));
  const Tensor h = relu(add(matmul(x, state.at("0.weight").t()), state.at("0.bias")));
  const Tensor y = add(matmul(h, state.at("2.weight").t()), state.at("2.bias"));
  std::vector<double> dlt_y;
  for (const float v : to_vector<float>(y)) dlt_y.push_back(v);
  EXPECT_EQ(dlt::testing::compare_close(torch_y, dlt_y, 1e-5, 1e-5), "");
}

}  // namespace
}  // namespace dlt::train
