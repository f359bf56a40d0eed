// The pieces of lib/dlt/dist that need no second rank: the launch
// environment, the reducer's buckets and ZeRO-1 on one rank (the
// multi-rank runs are in test_dist_train.cpp).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "dlt/dist/launch_env.h"
#include "dlt/dist/reducer.h"
#include "tests/dist/zero_check.h"
#include "dlt/ops/ops.h"
#include "tests/test_util.h"

namespace dlt::dist {
namespace {

using ::testing::HasSubstr;

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars](std::string_view name) -> std::optional<std::string> {
    const auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::string error_of(const std::map<std::string, std::string>& vars) {
  try {
    detect_launch_env(env_of(vars));
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(LaunchEnv, NothingSetIsOneProcess) {
  const LaunchEnv e = detect_launch_env(env_of({}));
  EXPECT_EQ(e.launcher, Launcher::single);
  EXPECT_EQ(e.world_size, 1);
  EXPECT_FALSE(e.slurm);
}

TEST(LaunchEnv, MpirunGivesRanksAndNodeLayout) {
  const LaunchEnv e = detect_launch_env(env_of({{"OMPI_COMM_WORLD_SIZE", "4"}, {"OMPI_COMM_WORLD_RANK", "3"},
                                                {"OMPI_COMM_WORLD_LOCAL_RANK", "1"},
                                                {"OMPI_COMM_WORLD_LOCAL_SIZE", "2"},
                                                {"OMPI_COMM_WORLD_NODE_RANK", "1"}}));
  EXPECT_EQ(e.launcher, Launcher::mpi);
  EXPECT_EQ(e.world_size, 4);
  EXPECT_EQ(e.rank, 3);
  EXPECT_EQ(e.local_rank, 1);
  EXPECT_EQ(e.local_world_size, 2);
  EXPECT_EQ(e.node_rank, 1);
}

TEST(LaunchEnv, SrunWithPmixIsAnMpiLaunchInsideAJob) {
  const LaunchEnv e = detect_launch_env(env_of({{"PMIX_RANK", "1"}, {"SLURM_STEP_ID", "0"},
                                                {"SLURM_STEP_NUM_TASKS", "2"}, {"SLURM_PROCID", "1"},
                                                {"SLURM_LOCALID", "1"}, {"SLURM_JOB_ID", "42"},
                                                {"SLURM_RESTART_COUNT", "1"},
                                                {"SLURM_JOB_NODELIST", "node[01-02]"}}));
  EXPECT_EQ(e.launcher, Launcher::mpi);
  EXPECT_EQ(e.world_size, 2);
  EXPECT_EQ(e.rank, 1);
  ASSERT_TRUE(e.slurm);
  EXPECT_EQ(e.slurm->job_id, "42");
  EXPECT_EQ(e.slurm->requeue_id, "42");
  EXPECT_EQ(e.slurm->restart_count, 1);
  EXPECT_EQ(e.slurm->hosts, (std::vector<std::string>{"node01", "node02"}));
}

TEST(LaunchEnv, ArrayJobsRequeueTheirOwnTask) {
  const LaunchEnv e = detect_launch_env(env_of({{"SLURM_JOB_ID", "57"}, {"SLURM_ARRAY_JOB_ID", "50"},
                                                {"SLURM_ARRAY_TASK_ID", "7"}}));
  ASSERT_TRUE(e.slurm);
  EXPECT_EQ(e.slurm->requeue_id, "50_7");
  EXPECT_EQ(e.launcher, Launcher::single);  // a batch script outside any srun step
}

TEST(LaunchEnv, SlurmTasksWithoutMpiAreTheSingletonTrap) {
  const std::string e = error_of({{"SLURM_STEP_ID", "0"}, {"SLURM_STEP_NUM_TASKS", "2"}, {"SLURM_PROCID", "1"},
                                  {"SLURM_JOB_ID", "9"}});
  EXPECT_THAT(e, HasSubstr("Slurm started 2 tasks"));
  EXPECT_THAT(e, HasSubstr("srun --mpi=pmix"));
  // One task is fine: srun -n 1 dlt train ...
  EXPECT_EQ(detect_launch_env(env_of({{"SLURM_STEP_ID", "0"}, {"SLURM_STEP_NUM_TASKS", "1"}})).world_size, 1);
}

TEST(LaunchEnv, TorchrunVariablesNameTheLauncherToUse) {
  const std::string e = error_of({{"WORLD_SIZE", "2"}, {"RANK", "0"}});
  EXPECT_THAT(e, HasSubstr("RANK/WORLD_SIZE name a world of 2"));
  EXPECT_THAT(e, HasSubstr("mpirun -n 2"));
  EXPECT_EQ(detect_launch_env(env_of({{"WORLD_SIZE", "1"}, {"RANK", "0"}})).launcher, Launcher::torchrun);
}

TEST(LaunchEnv, BadNumbersAndRanksAreErrors) {
  EXPECT_THAT(error_of({{"OMPI_COMM_WORLD_SIZE", "two"}}), HasSubstr("OMPI_COMM_WORLD_SIZE=two is not a whole number"));
  EXPECT_THAT(error_of({{"OMPI_COMM_WORLD_SIZE", "2"}, {"OMPI_COMM_WORLD_RANK", "2"}}),
              HasSubstr("rank 2 of a world of 2"));
}

TEST(LaunchEnv, NodeListsExpandLikeScontrolShowHostnames) {
  EXPECT_EQ(expand_nodelist("gpu[01-03,07],cpu-a[1-2]"),
            (std::vector<std::string>{"gpu01", "gpu02", "gpu03", "gpu07", "cpu-a1", "cpu-a2"}));
  EXPECT_EQ(expand_nodelist("login"), (std::vector<std::string>{"login"}));
  EXPECT_EQ(expand_nodelist("n[8-10]x,m"), (std::vector<std::string>{"n8x", "n9x", "n10x", "m"}));
  EXPECT_THROW(expand_nodelist("n[1-"), Error);
  EXPECT_THROW(expand_nodelist("n[3-1]"), Error);
}

// Buckets in reverse parameter order: the first small, the rest up to the cap.
TEST(Reducer, BucketsFollowReverseParameterOrder) {
  const std::unique_ptr<ProcessGroup> group = make_local_group();
  std::vector<Tensor> params;
  for (const int64_t n : {300000, 10, 200000, 70000})  // f32: 1.14 MiB, 40 B, 0.76 MiB, 0.27 MiB
    params.push_back(zeros({n}, TensorOptions(DType::f32).requires_grad()));
  const Reducer r(*group, params, {.bucket_mb = 1, .first_bucket_mb = 0.5});
  std::vector<std::vector<size_t>> layout;
  for (const Bucket& b : r.buckets()) {
    layout.emplace_back();
    for (const BucketEntry& e : b.entries) layout.back().push_back(e.param);
  }
  // 3 alone (0.27 MiB, the next would pass 0.5 MiB); 2 + 1 (0.76 MiB); 0 alone (over the cap by itself).
  EXPECT_EQ(layout, (std::vector<std::vector<size_t>>{{3}, {2, 1}, {0}}));
}

// One rank: the reducer's sum is the gradient itself, and unused
// parameters get zeros.
TEST(Reducer, OneRankLeavesGradientsAsTheyAreAndZerosUnusedOnes) {
  const std::unique_ptr<ProcessGroup> group = make_local_group();
  Tensor w = randn({4, 3}).requires_grad_(), unused = zeros({5}, TensorOptions(DType::f32).requires_grad());
  Reducer r(*group, {w, unused}, {});
  r.prepare(true);
  const Tensor x = randn({2, 4});
  matmul(x, w).sum().backward();
  const Tensor expected = w.grad().clone();
  r.finish();
  EXPECT_EQ(dlt::testing::to_vector<float>(w.grad()), dlt::testing::to_vector<float>(expected));
  ASSERT_TRUE(unused.grad().defined());
  EXPECT_EQ(unused.grad().abs().sum().item<double>(), 0.0);
  EXPECT_EQ(r.launched(), int64_t(r.buckets().size()));
}

TEST(ShardedOptimizer, OneRankEqualsAPlainOptimizerStep) {
  const std::unique_ptr<ProcessGroup> group = make_local_group();
  testing::expect_zero_one_matches_plain_adamw(*group, *group, Device::cpu());
}

}  // namespace
}  // namespace dlt::dist
