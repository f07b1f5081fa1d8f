// The Slurm pipeline on a real (private, single-node) Slurm cluster: tests/slurm/cluster.sh
// starts munged, slurmctld and slurmd; pipelines/slurm/submit.sh submits sharded crops, the
// match grid and the merges as array jobs (the result must equal the single-process run), then
// weights and a two-rank distributed training started by srun.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <sstream>
#include <thread>

#include "test_util.h"

namespace fs = std::filesystem;

namespace epe {
namespace {

bool has(const std::string& s, const std::string& what) {
  return s.find(what) != std::string::npos;
}

int epe(const std::string& args, std::string* out) {
  return test::run_epe(args, out);
}

// Starts the cluster; stops it when the test ends, whatever happens in between.
struct Cluster {
  std::string dir, env;
  bool started = false;
  explicit Cluster(const std::string& d) : dir(d) {
    std::string out;
    started =
        test::run_command(std::string("bash ") + EPE_SOURCE_DIR + "/tests/slurm/cluster.sh start " + dir, &out) == 0;
    EXPECT_TRUE(started) << out;
    env = "SLURM_CONF=" + dir + "/slurm.conf ";
  }
  ~Cluster() {
    std::string out;
    test::run_command(std::string("bash ") + EPE_SOURCE_DIR + "/tests/slurm/cluster.sh stop " + dir, &out);
  }
};

TEST(Slurm, ShardedCropsAndMatchGridAsArrayJobsEqualTheSingleProcessRun) {
  std::string out;
  if (test::run_command("command -v slurmctld && command -v munged", &out) != 0)
    GTEST_SKIP() << "slurm-wlm and munge are not installed (cmake/bootstrap.sh installs them)";
  if (geteuid() != 0) GTEST_SKIP() << "the private cluster runs its daemons as root";
  test::TempDir dir;
  const std::string data = dir / "data", run = dir / "run", one = dir / "one";
  ASSERT_EQ(epe("demo-data --out " + data + " --images 4 --height 212 --width 262 --seed 3 --quiet", &out), 0) << out;
  Cluster cluster(dir / "cluster");
  ASSERT_TRUE(cluster.started);
  const std::string root = EPE_SOURCE_DIR;
  test::write_text(dir / "config.sh", "source " + root +
                                          "/pipelines/slurm/config.sh\n"
                                          "EPE=" EPE_BINARY "\nOUT=" +
                                          run + "\nSYNTHETIC=" + data +
                                          "/synthetic.csv\n"
                                          "REAL=" +
                                          data +
                                          "/real.csv\nSTAGES=\"crops match weights train\"\n"
                                          "CROPS_SHARDS=3\nMATCH_SRC_SHARDS=2\nMATCH_DST_SHARDS=4\n"
                                          "MATCH_ARGS=\"--min-cosine 0.3\"\n"
                                          "TRAIN_TASKS=2\nTRAIN_SBATCH=\"--cpus-per-task=1\"\n"
                                          "TRAIN_ARGS=\"--steps 4 --dist-timeout 60\"\n");
  ASSERT_EQ(test::run_command(cluster.env + "bash " + root + "/pipelines/slurm/submit.sh " + (dir / "config.sh"), &out),
            0)
      << out;
  EXPECT_TRUE(has(out, "8 jobs submitted")) << out;  // crops x 2, merges x 2, match, merge, weights, train
  // Wait (bounded) until the queue is empty.
  const auto t0 = std::chrono::steady_clock::now();
  for (;;) {
    ASSERT_EQ(test::run_command(cluster.env + "squeue -h", &out), 0) << out;
    if (out.find_first_not_of(" \n") == std::string::npos) break;
    ASSERT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(300)) << "jobs still queued:\n" << out;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  std::istringstream jobs(test::read_text(run + "/logs/jobs.txt"));
  std::string step, id, merge_id, train_id;
  int n = 0;
  while (jobs >> step >> id) {
    if (step == "match-merge") merge_id = id;
    if (step == "train") train_id = id;
    ASSERT_EQ(test::run_command(cluster.env + "scontrol show job " + id, &out), 0) << out;
    EXPECT_FALSE(has(out, "JobState=") && !has(out, "JobState=COMPLETED")) << step << ":\n" << out;
    for (std::size_t p = out.find("JobState="); p != std::string::npos; p = out.find("JobState=", p + 1))
      EXPECT_EQ(out.substr(p, 18), "JobState=COMPLETED") << step << " (logs in " << run << "/logs)";
    ++n;
  }
  EXPECT_EQ(n, 8);
  // The same steps in one process.
  fs::create_directories(one);
  for (const char* set : {"synthetic", "real"})
    ASSERT_EQ(epe(cat("crops --config ", root, "/pipelines/crops.ini --list ", data, "/", set, ".csv --name ", set,
                      " --out ", one, "/", set, ".h5 -q"),
                  &out),
              0)
        << out;
  ASSERT_EQ(epe("match --config " + root + "/pipelines/match.ini --min-cosine 0.3 --src " + one +
                    "/synthetic.h5 --dst " + one + "/real.h5 --out " + one + "/match.h5",
                &out),
            0)
      << out;
  // Crop stores and matches equal (the exports write features, boxes and pairs byte for byte).
  for (const char* set : {"synthetic", "real"}) {
    ASSERT_EQ(epe(cat("export ", run, "/crops/", set, ".h5 --out ", dir / "a", " --name ", set), &out), 0) << out;
    ASSERT_EQ(epe(cat("export ", one, "/", set, ".h5 --out ", dir / "b", " --name ", set), &out), 0) << out;
    for (const char* ext : {".npz", ".csv"})
      EXPECT_EQ(test::read_text(cat(dir / "a", "/crop_", set, ext)),
                test::read_text(cat(dir / "b", "/crop_", set, ext)))
          << set << ext;
  }
  ASSERT_EQ(epe("weights " + one + "/match.h5", &out), 0) << out;
  ASSERT_EQ(epe("export " + run + "/match/match.h5 --out " + (dir / "a") + " --name m", &out), 0) << out;
  ASSERT_EQ(epe("export " + one + "/match.h5 --out " + (dir / "b") + " --name m", &out), 0) << out;
  const std::string pairs = test::read_text(dir / "a/matched_crops_m.csv");
  EXPECT_EQ(pairs, test::read_text(dir / "b/matched_crops_m.csv"));
  EXPECT_EQ(test::read_text(dir / "a/crop_weights_m.npz"), test::read_text(dir / "b/crop_weights_m.npz"));
  EXPECT_GT(std::count(pairs.begin(), pairs.end(), '\n'), 10);
  // Per-task logs.
  EXPECT_TRUE(has(test::read_text(run + "/logs/match-merge-" + merge_id + ".log"), "merge: 8 parts")) << merge_id;
  // Training ran as two ranks started by srun, met over c10d and ended with the same parameters.
  const std::string train = test::read_text(run + "/logs/train-" + train_id + ".log");
  const std::string marker = "rank 0 parameters sha256 ";
  const std::size_t p = train.find(marker);
  ASSERT_NE(p, std::string::npos) << train;
  EXPECT_TRUE(has(train, "gloo, 2 ranks") && has(train, "(SLURM_PROCID/SLURM_NTASKS)")) << train;
  EXPECT_TRUE(has(train, "rank 1 of 2: steps 0..4, parameters sha256 " + train.substr(p + marker.size(), 64))) << train;
  EXPECT_TRUE(fs::exists(run + "/train/checkpoints/step_0000004.pt"));
}

}  // namespace
}  // namespace epe
