// dlt data: import data sets into HDF5, inspect HDF5 files, and measure the
// loader. The work happens in lib/dlt/data; this file parses and prints.
#include <fmt/core.h>

#include <memory>

#include "cli/commands.h"
#include "dlt/data/array_dataset.h"
#include "dlt/data/bench.h"
#include "dlt/data/import/importers.h"
#include "dlt/data/inspect.h"
#include "dlt/data/token_dataset.h"

namespace dlt::cli {
namespace {

using namespace dlt::data;

void add_layout_options(CLI::App* cmd, Layout& layout) {
  cmd->add_option("--chunk-rows", layout.chunk_rows,
                  "Store in chunks of this many samples (0: contiguous, fastest to read)");
  cmd->add_option("--compress", layout.compress,
                  "gzip level 1-9 (0: none; compression needs chunks, ~1 MiB unless --chunk-rows)")
      ->check(CLI::Range(0, 9));
}

void report_import(const std::string& out) {
  fmt::print("wrote {}", inspect(out, {.attributes = false, .values = 0}));
}

void add_import(CLI::App& data) {
  auto* import = data.add_subcommand("import", "Convert a data set into an HDF5 file.\n"
                                               "Example: dlt data import fashion-mnist");
  import->require_subcommand(1);

  {
    struct Args {
      std::string src = kFashionMnistDir, out = "data/fashion-mnist.h5";
      Layout layout;
    };
    auto a = std::make_shared<Args>();
    auto* cmd = import->add_subcommand(
        "fashion-mnist", "Fashion-MNIST's gzipped IDX files -> train/{images,labels}, "
                         "test/{images,labels}.\n"
                         "Example: dlt data import fashion-mnist --out data/fashion-mnist.h5");
    cmd->add_option("--src", a->src, "Folder with the *-idx?-ubyte.gz files")->capture_default_str();
    cmd->add_option("--out", a->out, "HDF5 file to write")->capture_default_str();
    add_layout_options(cmd, a->layout);
    cmd->callback([a] {
      import_fashion_mnist(a->src, a->out, a->layout);
      report_import(a->out);
    });
  }
  {
    struct Args {
      std::string input, out, vocab = "bytes";
      TextImport options;
    };
    auto a = std::make_shared<Args>();
    auto* cmd = import->add_subcommand(
        "text", "Text -> train/tokens and val/tokens for language models.\n"
                "Example: bible -f 'Gen1:1-Rev22:21' | dlt data import text - --out data/kjv.h5\n"
                "Example: dlt data import text book.txt --vocab sentencepiece --vocab-size 4096 "
                "--out data/book.h5");
    cmd->add_option("file", a->input, "Text file, or - for stdin")->required();
    cmd->add_option("--out", a->out, "HDF5 file to write")->required();
    cmd->add_option("--val-fraction", a->options.val_fraction,
                    "Fraction of the text, from its end, kept for validation")
        ->capture_default_str();
    cmd->add_option("--vocab,--tokenizer", a->vocab,
                    "bytes (256 tokens), chars (the characters used) or sentencepiece (subwords "
                    "trained on the train part; needs --vocab-size)")
        ->check(CLI::IsMember({"bytes", "chars", "sentencepiece"}))
        ->capture_default_str();
    cmd->add_option("--vocab-size", a->options.vocab_size,
                    "sentencepiece: token ids in all, 256 byte tokens and <unk> included (e.g. 4096)");
    cmd->add_option("--model-type", a->options.model_type, "sentencepiece: bpe or unigram")
        ->check(CLI::IsMember({"bpe", "unigram"}))
        ->capture_default_str();
    add_layout_options(cmd, a->options.layout);
    cmd->callback([a, cmd] {
      a->options.vocab = parse_vocab(a->vocab);
      const bool subwords = a->options.vocab == Vocab::sentencepiece;
      for (const char* option : {"--vocab-size", "--model-type"})
        DLT_CHECK(subwords || cmd->count(option) == 0,
                  "{} is an option of --vocab sentencepiece, not of --vocab {}", option, a->vocab);
      DLT_CHECK(!subwords || cmd->count("--vocab-size") > 0,
                "--vocab sentencepiece needs --vocab-size (e.g. 4096)");
      import_text(a->input, a->out, a->options);
      report_import(a->out);
    });
  }
  {
    struct Args {
      std::string input, out, label;
      Layout layout;
    };
    auto a = std::make_shared<Args>();
    auto* cmd = import->add_subcommand(
        "csv", "A numeric CSV table with a header row -> features (N, F) and labels (N).\n"
               "Example: dlt data import csv iris.csv --label species --out data/iris.h5");
    cmd->add_option("file", a->input, "CSV file")->required();
    cmd->add_option("--label", a->label, "The column that holds the labels")->required();
    cmd->add_option("--out", a->out, "HDF5 file to write")->required();
    add_layout_options(cmd, a->layout);
    cmd->callback([a] {
      import_csv(a->input, a->out, a->label, a->layout);
      report_import(a->out);
    });
  }
  {
    struct Args {
      std::string dir, out, size, on_error = "fail";
      ImageImport options;
    };
    auto a = std::make_shared<Args>();
    auto* cmd = import->add_subcommand(
        "images", "A folder of PNG/JPEG images, one subfolder per class -> train/{images,labels}, "
                  "val/{images,labels}; images uint8 (N, C, H, W).\n"
                  "Example: dlt data import images photos/ --out data/photos.h5 --size 64x64");
    cmd->add_option("dir", a->dir, "Folder with one subfolder of .png/.jpg/.jpeg files per class")
        ->required();
    cmd->add_option("--out", a->out, "HDF5 file to write")->required();
    cmd->add_option("--size", a->size,
                    "Resize every image to HxW (area averaging to shrink, bilinear to enlarge); "
                    "without it all images must have one size");
    cmd->add_option("--channels", a->options.channels, "1 (gray) or 3 (RGB)")
        ->check(CLI::IsMember({1, 3}))
        ->capture_default_str();
    cmd->add_option("--val-fraction", a->options.val_fraction,
                    "Fraction of each class drawn for validation")
        ->capture_default_str();
    cmd->add_option("--seed", a->options.seed, "Seed of the validation draw and the stored order")
        ->capture_default_str();
    cmd->add_option("--on-error", a->on_error,
                    "An unreadable image or empty class folder: fail (write nothing) or skip it")
        ->check(CLI::IsMember({"fail", "skip"}))
        ->capture_default_str();
    add_layout_options(cmd, a->options.layout);
    cmd->callback([a] {
      if (!a->size.empty()) parse_image_size(a->size, a->options);
      a->options.on_error = parse_on_error(a->on_error);
      const ImageImportReport r = import_images(a->dir, a->out, a->options);
      for (const SkippedImage& s : r.skipped) fmt::print(stderr, "skipped {}: {}\n", s.path, s.reason);
      if (!r.skipped.empty()) fmt::print(stderr, "skipped {} in all\n", r.skipped.size());
      fmt::print("{} classes: {} training and {} validation images\n", r.classes, r.train, r.val);
      report_import(a->out);
    });
  }
}

void add_inspect(CLI::App& data) {
  struct Args {
    std::string file;
    int values = 8;
    bool no_attributes = false;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = data.add_subcommand(
      "inspect", "Show an HDF5 file's groups and datasets: shapes, dtypes, chunking, "
                 "compression, attributes and the first values.\n"
                 "Example: dlt data inspect data/fashion-mnist.h5");
  cmd->add_option("file", a->file, "HDF5 file")->required();
  cmd->add_option("--values", a->values, "First values shown per dataset (0: none)")
      ->check(CLI::Range(0, 1000))
      ->capture_default_str();
  cmd->add_flag("--no-attributes", a->no_attributes, "Leave out attributes");
  cmd->callback([a] {
    fmt::print("{}", inspect(a->file, {.attributes = !a->no_attributes, .values = a->values}));
  });
}

void add_bench(CLI::App& data) {
  struct Args {
    std::string file, keys = "train/images,train/labels", tokens, shuffle = "full";
    int64_t block_size = 256, cache_mb = kDefaultCacheBytes >> 20;
    bool random_offsets = false, json = false;
    LoaderOptions loader;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = data.add_subcommand(
      "bench", "Run the loader over a file and report samples/s and MB/s.\n"
               "Example: dlt data bench data/fashion-mnist.h5 --batch 128 --workers 2 --to-float");
  cmd->add_option("file", a->file, "HDF5 file")->required();
  cmd->add_option("--keys", a->keys, "Datasets of the samples' fields, comma-separated")
      ->capture_default_str();
  cmd->add_option("--tokens", a->tokens, "Instead of --keys: a token stream, read in windows");
  cmd->add_option("--block-size", a->block_size, "Tokens per window (with --tokens)")
      ->capture_default_str();
  cmd->add_flag("--random-offsets", a->random_offsets, "Windows at random offsets (with --tokens)");
  cmd->add_option("--batch", a->loader.batch_size, "Batch size")->capture_default_str();
  cmd->add_option("--workers", a->loader.workers, "Worker threads")->capture_default_str();
  cmd->add_option("--prefetch", a->loader.prefetch, "Batches in flight (0: 2 per worker)");
  cmd->add_option("--epochs", a->loader.epochs, "Epochs to run")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  cmd->add_option("--shuffle", a->shuffle, "none, full or chunked")
      ->check(CLI::IsMember({"none", "full", "chunked"}))
      ->capture_default_str();
  cmd->add_option("--window-chunks", a->loader.sampler.window_chunks,
                  "Chunks mixed together by the chunked shuffle")
      ->capture_default_str();
  cmd->add_option("--seed", a->loader.sampler.seed, "Seed of shuffles and augmentation");
  cmd->add_flag("--drop-last", a->loader.sampler.drop_last, "Drop each epoch's short last batch");
  cmd->add_option("--cache-mb", a->cache_mb, "Memory for blocks read from the file, MiB")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  cmd->add_flag("--to-float", a->loader.transform.to_float, "Convert x to float32 (uint8 / 255)");
  cmd->add_option("--mean", a->loader.transform.mean, "Normalise x: mean per channel")
      ->delimiter(',');
  cmd->add_option("--std", a->loader.transform.std, "Normalise x: std per channel")->delimiter(',');
  cmd->add_option("--crop-padding", a->loader.transform.crop_padding,
                  "Random crop of x after zero padding by this many pixels")
      ->check(CLI::Range(0, 1024));
  cmd->add_flag("--hflip", a->loader.transform.hflip, "Random horizontal flips of x");
  cmd->add_flag("--json", a->json, "Print one JSON line instead of text");
  cmd->callback([a] {
    a->loader.sampler.shuffle = parse_shuffle(a->shuffle);
    const int64_t cache = a->cache_mb << 20;
    std::shared_ptr<const Dataset> ds;
    if (!a->tokens.empty()) {
      ds = std::make_shared<TokenDataset>(
          a->file, a->tokens,
          TokenWindows{a->block_size, a->random_offsets, a->loader.sampler.seed}, cache);
    } else {
      std::vector<std::string> keys;
      for (size_t start = 0, comma; start <= a->keys.size(); start = comma + 1) {
        comma = std::min(a->keys.find(',', start), a->keys.size());
        keys.push_back(a->keys.substr(start, comma - start));
      }
      ds = std::make_shared<ArrayDataset>(a->file, keys, cache);
    }
    const BenchResult r = bench_loader(ds, a->loader);
    const double mb = 1e6;
    if (a->json) {
      fmt::print("{{\"samples_per_s\": {:.1f}, \"stored_mb_per_s\": {:.1f}, \"batch_mb_per_s\": "
                 "{:.1f}, \"samples\": {}, \"batches\": {}, \"seconds\": {:.4f}, "
                 "\"peak_rss_mb\": {:.1f}}}\n",
                 r.samples / r.seconds, r.stored_bytes / mb / r.seconds,
                 r.batch_bytes / mb / r.seconds, r.samples, r.batches, r.seconds,
                 r.peak_rss_bytes / mb);
      return;
    }
    fmt::print("{}: {} samples, batch {}, {} workers, shuffle {}\n", ds->describe(), ds->size(),
               a->loader.batch_size, a->loader.workers, a->shuffle);
    fmt::print("{} batches, {} samples in {:.3f} s: {:.0f} samples/s, {:.1f} MB/s stored, "
               "{:.1f} MB/s of batches; peak RSS {:.0f} MB\n",
               r.batches, r.samples, r.seconds, r.samples / r.seconds,
               r.stored_bytes / mb / r.seconds, r.batch_bytes / mb / r.seconds,
               r.peak_rss_bytes / mb);
  });
}

}  // namespace

void add_data_command(CLI::App& app) {
  auto* data = app.add_subcommand("data", "Import, inspect and benchmark HDF5 data sets.\n"
                                          "Example: dlt data inspect data/fashion-mnist.h5");
  data->require_subcommand(1);
  add_import(*data);
  add_inspect(*data);
  add_bench(*data);
  add_token_commands(*data);
}

}  // namespace dlt::cli
