// dlt generate end to end: a GPT and a Llama learn a repeating sentence
// through `dlt train`, and greedy generation continues it past the model's
// block_size (the KV cache restarts from its last half); seeded sampling
// repeats; several samples print side by side; bad input exits 2 with one
// line naming the option, character, sizes or config.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/cli/run_dlt.h"
#include "tests/data/fixtures.h"
#include "tests/test_util.h"

namespace dlt::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr const char* kSentence = "the cat sat on the mat. ";

// A run of `config` on the repeating text with a 32-token context, small
// enough to learn the sentence in 150 steps.
struct RepeatRun {
  TempDir tmp;
  std::string config, sets;

  explicit RepeatRun(const std::string& config_name, const std::string& extra = "") {
    std::string text;
    for (int i = 0; i < 2000; ++i) text += kSentence;
    data::testing::write_file(tmp.path("rep.txt"), text);
    const CliResult imp = run_dlt(fmt::format("data import text {} --vocab chars --out {}",
                                              tmp.path("rep.txt"), tmp.path("rep.h5")));
    EXPECT_EQ(imp.status, 0) << imp.output;
    config = fmt::format("{}/configs/{}.yaml", DLT_SOURCE_DIR, config_name);
    sets = fmt::format(
        "--set data.file={} --set model.vocab_size=11 --set data.block_size=32 "
        "--set model.block_size=32 --set model.embed_dim=32 --set model.layers=2 "
        "--set model.heads=2 --set model.dropout=0 {}",
        tmp.path("rep.h5"), extra);
  }
  CliResult train() const {
    return run_dlt(fmt::format(
        "train {} --run-dir {} {} --set data.batch_size=16 --set train.steps=150 "
        "--set schedule.warmup_steps=10 --set train.log_every=50 --set train.eval_every=150 "
        "--set checkpoint.every=150 --set optim.lr=0.003",
        config, tmp.path("run"), sets));
  }
  CliResult generate(const std::string& args) const {
    return run_dlt(fmt::format("generate {} --checkpoint {} {} {}", config, tmp.path("run"), sets,
                               args));
  }
};

// 100 new characters: past block_size 32, so the cache restarts twice.
void expect_it_continues_the_sentence(const RepeatRun& run) {
  const CliResult r = run.generate("--prompt 'the cat' --tokens 100 --temperature 0");
  ASSERT_EQ(r.status, 0) << r.output;
  std::string expected = "the cat";
  while (expected.size() < 107) expected += std::string(kSentence).substr((expected.size()) % 24, 1);
  EXPECT_EQ(r.output, expected + "\n");
}

TEST(CliGenerate, AGptContinuesWhatItLearned) {
  const RepeatRun run("kjv_gpt");
  const CliResult t = run.train();
  ASSERT_EQ(t.status, 0) << t.output;
  expect_it_continues_the_sentence(run);
}

TEST(CliGenerate, ALlamaWithGroupedHeadsContinuesWhatItLearned) {
  const RepeatRun run("kjv_llama", "--set model.kv_heads=1 --set model.multiple_of=16");
  const CliResult t = run.train();
  ASSERT_EQ(t.status, 0) << t.output;
  expect_it_continues_the_sentence(run);

  // Seeded draws repeat; another seed draws otherwise (at temperature 2 the
  // learned sentence no longer dominates).
  const std::string sample = "--prompt 'the' --tokens 60 --temperature 2 --top-k 8 --top-p 0.95";
  const CliResult a = run.generate(sample + " --seed 5"), b = run.generate(sample + " --seed 5"),
                  c = run.generate(sample + " --seed 6");
  ASSERT_EQ(a.status, 0) << a.output;
  EXPECT_EQ(a.output, b.output);
  EXPECT_NE(a.output, c.output);
  EXPECT_THAT(a.output, StartsWith("the"));
  EXPECT_EQ(a.output.size(), 3u + 60u + 1u);  // one character per token

  const CliResult several = run.generate("--prompt 'the' --tokens 10 --samples 3 --seed 2");
  ASSERT_EQ(several.status, 0) << several.output;
  for (const char* header : {"--- sample 1\nthe", "--- sample 2\nthe", "--- sample 3\nthe"})
    EXPECT_THAT(several.output, HasSubstr(header));

  // Bad input: one line naming the problem, exit 2.
  const auto expect_error_line = [](const CliResult& r, std::initializer_list<std::string> pieces) {
    EXPECT_EQ(r.status, 2) << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
    for (const std::string& p : pieces) EXPECT_THAT(r.output, HasSubstr(p));
  };
  expect_error_line(run.generate("--prompt 'THE'"), {"U+0054", "'T'", "rep.h5"});
  expect_error_line(run.generate("--prompt the --top-p 0"), {"--top-p"});
  expect_error_line(run.generate("--prompt the --temperature -1"), {"--temperature"});
  expect_error_line(run.generate("--prompt ''"), {"--prompt must not be empty"});
  expect_error_line(run.generate("--prompt the --set model.vocab_size=5"),
                    {"predicts 5 token ids", "vocabulary of 11"});
  expect_error_line(run_dlt(fmt::format("generate {}/configs/fashion_mlp.yaml --checkpoint {} "
                                        "--prompt x",
                                        DLT_SOURCE_DIR, run.tmp.path("run"))),
                    {"fashion_mlp.yaml", "language model"});
}

}  // namespace
}  // namespace dlt::testing
