// `epe train`, `epe enhance` and `epe fake-gbuffers` from the command line on small demo data.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <opencv2/core.hpp>
#include <thread>

#include "epe/io/file_list.h"
#include "epe/io/gbuffers.h"
#include "epe/io/image.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace epe::test {
namespace {

// Two ranks of `epe train --distributed` on this machine (the rendezvous torchrun would set).
struct Ranks {
  std::string dir, port = std::to_string(free_tcp_port());
  std::string env(int rank) const {
    return cat("RANK=", rank, " WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=", port, " ");
  }
  // Starts rank `rank` in the background: its output in DIR/rank<r>.txt, its exit code in .rc, the
  // pid of epe itself in .pid (the subshell's own output goes nowhere, so run_command does not wait).
  void start(int rank, const std::string& args) const {
    const std::string base = cat(dir, "/rank", rank);
    ASSERT_EQ(run_command(cat("(", env(rank), EPE_BINARY, " ", args, " > ", base, ".txt 2>&1 & echo $! > ", base,
                              ".pid; wait $!; echo $? > ", base, ".rc.tmp; mv ", base, ".rc.tmp ", base,
                              ".rc) < /dev/null > /dev/null 2>&1 &")),
              0);
  }
  // Waits (at most `seconds`) for rank `rank` to exit; its exit code, or -1 on timeout.
  int wait(int rank, int seconds) const {
    const std::string rc = cat(dir, "/rank", rank, ".rc");
    for (int i = 0; i < seconds * 10 && !fs::exists(rc); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return fs::exists(rc) ? std::stoi(read_text(rc)) : -1;
  }
  std::string output(int rank) const { return read_text(cat(dir, "/rank", rank, ".txt")); }
};

std::string sha_after(const std::string& text, const std::string& marker) {
  const std::size_t p = text.find(marker);
  return p == std::string::npos ? "" : text.substr(p + marker.size(), 64);
}

int log_rows(const std::string& run) {
  const std::string log = read_text(run + "/log.csv");
  return static_cast<int>(std::count(log.begin(), log.end(), '\n')) - 1;
}

TEST(TrainCli, DistributedRanksTrainAsOneAndResumeWithAnotherWorldSize) {
  TempDir dir;
  std::string out;
  const std::string demo = dir / "demo", run = dir / "run";
  ASSERT_EQ(run_epe("demo-data --out " + demo + " --images 3 --height 64 --width 96 --seed 7 --quiet", &out), 0) << out;
  write_text(dir / "t.ini",
             "preset = tiny\nsampling = independent\ncrop = 32\nsteps = 4\ncheckpoint-every = 2\n"
             "sample-every = 0\nlog-every = 1\n");
  const std::string args = "train --config " + dir / "t.ini" + " --synthetic " + demo + "/synthetic.csv --real " +
                           demo + "/real.csv --out " + run + " --distributed --dist-timeout 60";
  Ranks ranks{dir.path()};
  ranks.start(1, args);
  ranks.start(0, args);
  ASSERT_EQ(ranks.wait(0, 240), 0) << ranks.output(0);
  ASSERT_EQ(ranks.wait(1, 30), 0) << ranks.output(1);
  const std::string r0 = ranks.output(0), r1 = ranks.output(1);
  EXPECT_TRUE(contains(r0, "distributed: gloo, 2 ranks, rendezvous 127.0.0.1:" + ranks.port)) << r0;
  EXPECT_TRUE(contains(r0, "train: steps 0..4")) << r0;
  // Both ranks end with the same parameters (averaged gradients, same decisions); rank 1 writes nothing.
  const std::string sha = sha_after(r0, "rank 0 parameters sha256 ");
  EXPECT_EQ(sha.size(), 64u) << r0;
  EXPECT_EQ(sha_after(r1, "rank 1 of 2: steps 0..4, parameters sha256 "), sha) << r1;
  EXPECT_FALSE(contains(r1, "step 1/4")) << r1;
  EXPECT_EQ(log_rows(run), 4);
  EXPECT_TRUE(fs::exists(run + "/checkpoints/step_0000004.pt"));
  // Resume the two-rank run in one process, then with two ranks again: the log continues.
  const std::string single = "train --config " + dir / "t.ini" + " --synthetic " + demo + "/synthetic.csv --real " +
                             demo + "/real.csv --out " + run + " --resume";
  ASSERT_EQ(run_epe(single + " --steps 6", &out), 0) << out;
  EXPECT_TRUE(contains(out, "train: steps 4..6")) << out;
  EXPECT_EQ(log_rows(run), 6);
  Ranks again{dir / "again"};
  fs::create_directories(again.dir);
  again.start(1, args + " --resume --steps 8");
  again.start(0, args + " --resume --steps 8");
  ASSERT_EQ(again.wait(0, 240), 0) << again.output(0);
  ASSERT_EQ(again.wait(1, 30), 0) << again.output(1);
  EXPECT_TRUE(contains(again.output(0), "train: steps 6..8")) << again.output(0);
  EXPECT_EQ(log_rows(run), 8);
}

TEST(TrainCli, ARankThatDiesStopsTheOthersWithAClearErrorAndTheCheckpointsStayIntact) {
  TempDir dir;
  std::string out;
  const std::string demo = dir / "demo", run = dir / "run";
  ASSERT_EQ(run_epe("demo-data --out " + demo + " --images 3 --height 64 --width 96 --seed 7 --quiet", &out), 0) << out;
  write_text(dir / "t.ini",
             "preset = tiny\nsampling = independent\ncrop = 32\nsteps = 400\ncheckpoint-every = 2\n"
             "sample-every = 0\nlog-every = 1\n");
  const std::string data = " --synthetic " + demo + "/synthetic.csv --real " + demo + "/real.csv --out " + run;
  Ranks ranks{dir.path()};
  ranks.start(1, "train --config " + dir / "t.ini" + data + " --distributed --dist-timeout 30");
  ranks.start(0, "train --config " + dir / "t.ini" + data + " --distributed --dist-timeout 30");
  // Once rank 0 is training, rank 1 dies.
  for (int i = 0; i < 2400 && !contains(ranks.output(0), "step 3/400"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_TRUE(contains(ranks.output(0), "step 3/400")) << ranks.output(0);
  ASSERT_EQ(run_command("kill -9 $(cat " + dir / "rank1.pid" + ")"), 0);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(ranks.wait(0, 90), 1) << ranks.output(0);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(60));
  EXPECT_TRUE(contains(ranks.output(0), "distributed training: rank 0 of 2")) << ranks.output(0);
  EXPECT_TRUE(contains(ranks.output(0), "resume with --resume")) << ranks.output(0);
  // The latest checkpoint is whole: one process resumes from it.
  ASSERT_EQ(run_epe("train --config " + dir / "t.ini" + data + " --resume --steps 12", &out), 0) << out;
  EXPECT_TRUE(contains(out, "resumed from")) << out;
  EXPECT_TRUE(contains(out, "..12 in")) << out;
}

TEST(TrainCli, ShardedEnhanceAndFakeGBuffersMergeIntoTheUnshardedFolders) {
  TempDir dir;
  std::string out;
  const std::string demo = dir / "demo", run = dir / "run";
  ASSERT_EQ(run_epe("demo-data --out " + demo + " --images 5 --height 64 --width 96 --seed 3 --quiet", &out), 0) << out;
  ASSERT_EQ(run_epe("train --preset tiny --sampling independent --crop 32 --steps 2 --sample-every 0 --synthetic " +
                        demo + "/synthetic.csv --real " + demo + "/real.csv --out " + run,
                    &out),
            0)
      << out;
  const std::string enhance = "enhance --checkpoint " + run + " --list " + demo + "/synthetic.csv --out ";
  ASSERT_EQ(run_epe(enhance + dir / "whole", &out), 0) << out;
  ASSERT_EQ(run_epe(enhance + dir / "s0" + " --shard 0/2", &out), 0) << out;
  EXPECT_TRUE(contains(out, "enhance: shard 0/2 (list rows [0, 2))")) << out;
  const std::string auto1 = "SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_TASK_COUNT=2 " EPE_BINARY " ";
  ASSERT_EQ(run_command(auto1 + enhance + dir / "s1" + " --shard auto", &out), 0) << out;
  EXPECT_TRUE(contains(out, "rows [2, 5)")) << out;
  ASSERT_EQ(run_command(auto1 + enhance + dir / "s1" + " --shard auto", &out), 0) << out;  // resubmitted
  EXPECT_TRUE(contains(out, "already complete")) << out;
  EXPECT_FALSE(fs::exists(dir / "s1/images/000000.png"));  // a shard holds its own rows only
  EXPECT_TRUE(fs::exists(dir / "s1/images/000004.png"));
  // Errors: nothing written.
  EXPECT_EQ(run_epe("merge enhance --out " + dir / "m" + " " + dir / "s1", &out), 1);
  EXPECT_TRUE(contains(out, "shard 0/2 of 5 is missing") || contains(out, "missing")) << out;
  ASSERT_EQ(run_epe(enhance + dir / "t1" + " --shard 1/2 --tile 48 --overlap 8", &out), 0) << out;
  EXPECT_EQ(run_epe("merge enhance --out " + dir / "m " + dir / "s0 " + dir / "t1", &out), 1);
  EXPECT_TRUE(contains(out, "made differently") && contains(out, "tile")) << out;
  EXPECT_EQ(run_epe(enhance + dir / "s0" + " --shard 1/2", &out), 1);  // not this shard's folder
  EXPECT_TRUE(contains(out, "it is shard 0/2") && contains(out, "--force")) << out;
  EXPECT_EQ(run_epe("merge fake-gbuffers --out " + dir / "m " + dir / "s0 " + dir / "s1", &out), 1);
  EXPECT_TRUE(contains(out, "not of epe fake-gbuffers")) << out;
  EXPECT_FALSE(fs::exists(dir / "m"));
  // The merge: the folder one unsharded run writes (the same list text, the same image bytes).
  ASSERT_EQ(run_epe("merge enhance --out " + dir / "m " + dir / "s1 " + dir / "s0", &out), 0) << out;
  EXPECT_TRUE(contains(out, "merge: 2 shards, 5 rows, 5 files")) << out;
  EXPECT_EQ(read_text(dir / "m/synthetic-enhanced.csv"), read_text(dir / "whole/synthetic-enhanced.csv"));
  for (int i = 0; i < 5; ++i) {
    const std::string f = cat("/images/00000", i, ".png");
    EXPECT_EQ(read_text(dir / "m" + f), read_text(dir / "whole" + f)) << f;
  }
  EXPECT_FALSE(fs::exists(dir / "m/shard.ini"));
  // fake-gbuffers: the reference statistics come from the whole list in every shard.
  const std::string fake = "fake-gbuffers --list " + demo + "/synthetic.csv --channels 8 --out ";
  ASSERT_EQ(run_epe(fake + dir / "fw", &out), 0) << out;
  std::string shards;
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(run_epe(fake + dir / cat("f", i) + cat(" --shard ", i, "/3"), &out), 0) << out;
    shards += " " + dir / cat("f", i);
  }
  ASSERT_EQ(run_epe("merge fake-gbuffers --out " + dir / "fm" + shards, &out), 0) << out;
  EXPECT_EQ(read_text(dir / "fm/synthetic-fake-gbuffers.csv"), read_text(dir / "fw/synthetic-fake-gbuffers.csv"));
  for (int i = 0; i < 5; ++i) {
    const GBuffers a = read_gbuffers(dir / cat("fm/gbuffers/00000", i, ".h5"));
    const GBuffers b = read_gbuffers(dir / cat("fw/gbuffers/00000", i, ".h5"));
    EXPECT_EQ(a.data, b.data) << i;
    EXPECT_EQ(a.names, b.names) << i;
  }
}

// One demo set (3 frames of 64x96) shared by the tests below; each writes into its own folder.
class TrainCliDemo : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new TempDir;
    std::string out;
    ASSERT_EQ(
        run_epe("demo-data --out " + *root_ / "demo" + " --images 3 --height 64 --width 96 --seed 7 --quiet", &out), 0)
        << out;
  }
  static void TearDownTestSuite() {
    delete root_;
    root_ = nullptr;
  }
  static TempDir* root_;
  const std::string demo = *root_ / "demo";
  const std::string data = " --synthetic " + demo + "/synthetic.csv --real " + demo + "/real.csv";
  TempDir dir;
  std::string out;
};
TempDir* TrainCliDemo::root_ = nullptr;

TEST_F(TrainCliDemo, DryRunReportsTheNetworksAndTheData) {
  // Dry run: parameter counts and the data summary, nothing written.
  ASSERT_EQ(run_epe("train --preset tiny --sampling independent --crop 32 --dry-run" + data, &out), 0) << out;
  EXPECT_TRUE(contains(out, "generator: ")) << out;
  EXPECT_TRUE(contains(out, "discriminator: ")) << out;
  EXPECT_TRUE(contains(out, "G-buffers: 8 channels: depth, normal.x")) << out;
  EXPECT_TRUE(contains(out, "independent sampling of 32x32 crops")) << out;
  EXPECT_TRUE(contains(out, "dry run: nothing trained")) << out;
  // The paper preset expects 32 G-buffer channels: a clear error before anything runs.
  EXPECT_EQ(
      run_epe("train --preset paper --gbuffer-channels 32 --sampling independent --crop 32 --dry-run" + data, &out), 1);
  EXPECT_TRUE(contains(out, "expects 32")) << out;
}

TEST_F(TrainCliDemo, TrainValidateResumeEnhanceAndExport) {
  // A short run from a config file, then --resume to more steps.
  write_text(dir / "t.ini",
             "preset = tiny\nsampling = independent\ncrop = 32\nsteps = 4\ncheckpoint-every = 2\n"
             "sample-every = 2\nlog-every = 1\n");
  const std::string run = dir / "run";
  ASSERT_EQ(run_epe("train --config " + dir / "t.ini" + data + " --out " + run + " --validate " + demo +
                        "/synthetic.csv --validate-every 3",
                    &out),
            0)
      << out;
  EXPECT_TRUE(contains(out, "train: steps 0..4")) << out;
  EXPECT_TRUE(contains(out, "validation: 3 frames enhanced")) << out;
  // Validation at step 3 enhances step 3's generator: a checkpoint is written for it.
  EXPECT_TRUE(fs::exists(run + "/validation/step_0000003/images/000002.png"));
  EXPECT_TRUE(fs::exists(run + "/checkpoints/step_0000003.pt"));
  EXPECT_TRUE(contains(out, "step 1/4 gen: gan ")) << out;
  EXPECT_TRUE(fs::exists(run + "/checkpoints/step_0000004.pt"));
  EXPECT_TRUE(fs::exists(run + "/samples/step_0000002.png"));
  {
    // 32x32 crops x3 enlarged 10x (to about two 480-pixel frames), above 2 whole 64x96 frames,
    // input | enhanced: 960 x (320 + 2 x 64).
    const cv::Mat sample = read_image(run + "/samples/step_0000002.png");
    EXPECT_EQ(sample.cols, 960);
    EXPECT_EQ(sample.rows, 448);
  }
  EXPECT_EQ(test::read_text(run + "/checkpoints/latest"), "step_0000004.pt\n");
  EXPECT_EQ(run_epe("train --config " + dir / "t.ini" + data + " --out " + run, &out), 1);  // exists: refused
  EXPECT_TRUE(contains(out, "--resume")) << out;
  ASSERT_EQ(run_epe("train --config " + dir / "t.ini" + data + " --out " + run + " --steps 6 --resume", &out), 0)
      << out;
  EXPECT_TRUE(contains(out, "resumed from")) << out;
  EXPECT_TRUE(contains(out, "train: steps 4..6")) << out;
  // Enhance every synthetic frame with the run's latest generator.
  ASSERT_EQ(run_epe("enhance --checkpoint " + run + " --list " + demo + "/synthetic.csv --out " + dir / "enh", &out), 0)
      << out;
  EXPECT_TRUE(contains(out, "enhance: 3 frames")) << out;
  EXPECT_TRUE(fs::exists(dir / "enh/images/000002.png"));
  EXPECT_EQ(read_file_list(dir / "enh/synthetic-enhanced.csv", DatasetKind::synthetic).rows.size(), 3u);
  EXPECT_EQ(
      run_epe("enhance --checkpoint " + dir / "nothing" + " --list " + demo + "/synthetic.csv --out " + dir / "e2",
              &out),
      1);
  EXPECT_TRUE(contains(out, "does not exist")) << out;
  // TorchScript export: loads without epe and equals enhance's output on a frame of the traced size.
  ASSERT_EQ(run_epe("export-model --checkpoint " + run + " --out " + dir / "g.pt" + " --size 64x96", &out), 0) << out;
  EXPECT_TRUE(contains(out, "frames 64x96, 8 G-buffer channels, 12 classes")) << out;
  EXPECT_EQ(run_epe("export-model --checkpoint " + run + " --out " + dir / "g.pt", &out), 1);
  EXPECT_TRUE(contains(out, "--force")) << out;
  EXPECT_EQ(run_epe("export-model --checkpoint " + demo + "/synthetic.csv --out " + dir / "g2.pt", &out), 1);
  EXPECT_TRUE(contains(out, "is not an epe checkpoint")) << out;
  EXPECT_FALSE(fs::exists(dir / "g2.pt"));
  EXPECT_EQ(run_epe("enhance --checkpoint " + run + " --list " + demo + "/synthetic.csv --tile 10 --overlap 8 --out " +
                        dir / "e3",
                    &out),
            1);
  EXPECT_TRUE(contains(out, "--tile")) << out;
}

TEST_F(TrainCliDemo, FakeGBuffersFollowTheReferenceProtocolAndTrain) {
  EXPECT_EQ(run_epe("fake-gbuffers --list " + demo + "/synthetic.csv --channels 5 --out " + dir / "f2", &out), 1);
  EXPECT_TRUE(contains(out, "must divide 128")) << out;
  EXPECT_FALSE(fs::exists(dir / "f2"));

  // Stand-in G-buffers: 32 channels named as fakes, usable for training.
  ASSERT_EQ(run_epe("fake-gbuffers --list " + demo + "/synthetic.csv --out " + dir / "fake", &out), 0) << out;
  const std::string fake_list = dir / "fake/synthetic-fake-gbuffers.csv";
  const FileList fl = read_file_list(fake_list, DatasetKind::synthetic);
  ASSERT_EQ(fl.rows.size(), 3u);
  const GBufferHeader h = probe_gbuffers(fl.rows[0].gbuffers());
  EXPECT_EQ(h.channels, 32);
  EXPECT_EQ(h.names[5], "fake-vgg-relu2_2.5");
  EXPECT_EQ(h.height, 64);
  // The reference's protocol (the default): the dataset's statistics, the mean over frames of each
  // frame's channel means and unbiased stds, computed here with OpenCV.
  {
    double m[3] = {0, 0, 0}, sd[3] = {0, 0, 0};
    for (const ListRow& row : read_file_list(demo + "/synthetic.csv", DatasetKind::synthetic).rows) {
      const cv::Mat img = read_image(row.image());
      cv::Scalar mu, st;
      cv::meanStdDev(img, mu, st);
      const double n = double(img.total());
      for (int c = 0; c < 3; ++c) {
        m[c] += mu[c] / 3;
        sd[c] += st[c] * std::sqrt(n / (n - 1)) / 3;
      }
    }
    char want[160];
    std::snprintf(want, sizeof want,
                  "reference protocol (no padding, dataset mean %.4f %.4f %.4f std %.4f %.4f %.4f, bicubic)", m[0],
                  m[1], m[2], sd[0], sd[1], sd[2]);
    EXPECT_TRUE(contains(out, want)) << want << "\n" << out;
  }
  // The first wave's protocol gives other G-buffers.
  ASSERT_EQ(run_epe("fake-gbuffers --list " + demo + "/synthetic.csv --protocol epe --out " + dir / "fake-epe", &out),
            0)
      << out;
  EXPECT_TRUE(contains(out, "epe protocol (zero padding, ImageNet statistics, bilinear)")) << out;
  EXPECT_NE(read_gbuffers(fl.rows[0].gbuffers()).data,
            read_gbuffers(
                read_file_list(dir / "fake-epe/synthetic-fake-gbuffers.csv", DatasetKind::synthetic).rows[0].gbuffers())
                .data);
  ASSERT_EQ(run_epe("train --preset tiny --sampling independent --crop 32 --dry-run --synthetic " + fake_list +
                        " --real " + demo + "/real.csv",
                    &out),
            0)
      << out;
  EXPECT_TRUE(contains(out, "G-buffers: 32 channels: fake-vgg-relu2_2.0")) << out;
}

}  // namespace
}  // namespace epe::test
