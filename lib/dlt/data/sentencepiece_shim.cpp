#include "dlt/data/sentencepiece_shim.h"

#include <dlfcn.h>

#include <filesystem>

#include "dlt/core/error.h"

namespace dlt::data {

namespace {

constexpr const char* kShimName = "libdlt_sentencepiece.so";

// Folders to look in, most specific first.
std::vector<std::filesystem::path> shim_folders() {
  std::vector<std::filesystem::path> folders;
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&sentencepiece_shim), &info) && info.dli_fname) {
    // The dlt binary, dlt_tests or libdlt.so: beside it, its parent (tests/
    // of a build folder) and the installed layout's library folder.
    const auto here = std::filesystem::weakly_canonical(info.dli_fname).parent_path();
    folders.insert(folders.end(), {here, here.parent_path(), here.parent_path() / DLT_INSTALL_LIBDIR});
  }
  folders.emplace_back(DLT_BUILD_DIR);
  folders.emplace_back(DLT_INSTALL_FULL_LIBDIR);
  return folders;
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define DLT_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define DLT_SANITIZED 1
#endif
#endif

const SentencePieceShim* open_shim() {
#ifdef DLT_SANITIZED
  throw Error(sentencepiece_unavailable());
#else
  std::vector<std::string> tried;
  for (const auto& folder : shim_folders()) {
    const auto path = folder / kShimName;
    if (!std::filesystem::exists(path)) {
      tried.push_back(path.string());
      continue;
    }
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
    DLT_CHECK(handle, "cannot open {}: {}", path.string(), dlerror());
    using Entry = const SentencePieceShim* (*)();
    auto entry = reinterpret_cast<Entry>(dlsym(handle, "dlt_sentencepiece_shim"));
    DLT_CHECK(entry, "{}: no dlt_sentencepiece_shim symbol", path.string());
    return entry();
  }
  throw Error(fmt::format("SentencePiece support ({}) is not installed; looked in {}", kShimName,
                          fmt::join(tried, ", ")));
#endif
}

}  // namespace

std::string sentencepiece_unavailable() {
#ifdef DLT_SANITIZED
  // The sanitizers' runtimes refuse RTLD_DEEPBIND, and without it the two
  // protobuf copies would bind each other's functions.
  return "SentencePiece tokenizers are not available in sanitizer builds (they need "
         "dlopen(RTLD_DEEPBIND), which the sanitizer runtime refuses)";
#else
  return {};
#endif
}

const SentencePieceShim& sentencepiece_shim() {
  static const SentencePieceShim* shim = open_shim();
  return *shim;
}

}  // namespace dlt::data
