#include "dlt/data/token_dataset.h"

#include <algorithm>
#include <cstring>

#include "dlt/data/random.h"

namespace dlt::data {

TokenDataset::TokenDataset(const std::string& path, const std::string& key, TokenWindows windows,
                           int64_t cache_bytes)
    : file_(h5::open_file(path)), cache_(std::make_shared<BlockCache>(cache_bytes)),
      stream_(file_, key, cache_), windows_(windows) {
  const int64_t T = windows.block_size;
  DLT_CHECK(stream_.info().shape.size() == 1, "{}: '{}' must be a 1-D token stream, not shape {}",
            path, key, shape_str(stream_.info().shape));
  DLT_CHECK(stream_.dtype() == DType::u8 || stream_.dtype() == DType::i32 ||
                stream_.dtype() == DType::i64,
            "{}: '{}' holds {}, but token ids must be integers (uint8, int32 or int64)", path, key,
            stream_.info().type_name);
  DLT_CHECK(T >= 1, "{}: block size must be positive, got {}", path, T);
  DLT_CHECK(stream_.rows() > T, "{}: '{}' has {} tokens, too few for one window of {} + 1", path,
            key, stream_.rows(), T);
  DLT_CHECK(!windows.random_offsets || bytes() <= cache_bytes,
            "{}: random windows need '{}' in memory ({} MiB) but the cache holds {} MiB; use "
            "sequential windows (with a chunked shuffle) or a larger cache",
            path, key, bytes() >> 20, cache_bytes >> 20);
  fields_ = {{"x", DType::i64, {T}}, {"y", DType::i64, {T}}};
}

std::string TokenDataset::describe() const {
  return fmt::format("{} [{}]", file_->path, stream_.key());
}

int64_t TokenDataset::chunk_size() const {
  return std::max<int64_t>(1, stream_.block_rows() / windows_.block_size);
}

int64_t TokenDataset::offset(int64_t i, int64_t epoch) const {
  const int64_t T = windows_.block_size;
  if (!windows_.random_offsets) return i * T;
  const auto w = random_words(windows_.seed, Stream::token_offset, epoch, uint64_t(i));
  return int64_t(uniform_below(w[0], w[1], uint64_t(stream_.rows() - T)));  // last: L - T - 1
}

void TokenDataset::read(std::span<const int64_t> indices, int64_t epoch,
                        std::span<std::byte* const> out) const {
  DLT_ASSERT(out.size() == 2);
  const int64_t T = windows_.block_size;
  std::vector<std::byte> window(size_t((T + 1) * stream_.row_bytes()));
  auto* x = reinterpret_cast<int64_t*>(out[0]);
  auto* y = reinterpret_cast<int64_t*>(out[1]);
  const auto split = [&]<class S>() {  // window (T + 1) -> x (T), y (T), widened to int64
    const S* tokens = reinterpret_cast<const S*>(window.data());
    std::copy(tokens, tokens + T, x);
    std::copy(tokens + 1, tokens + T + 1, y);
  };
  for (const int64_t i : indices) {
    DLT_CHECK(i >= 0 && i < size(), "{}: window {} is out of range [0, {})", describe(), i, size());
    stream_.copy_rows(offset(i, epoch), T + 1, window.data());
    visit_stored(stream_.dtype(), split);
    x += T;
    y += T;
  }
}

}  // namespace dlt::data
