// End-to-end tests of the `epe` binary: exit codes, messages, nothing written on failure.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "test_util.h"

namespace fs = std::filesystem;

namespace epe {

namespace {
int epe(const std::string& args, std::string* out = nullptr) {
  return test::run_command(std::string(EPE_BINARY) + " " + args, out);
}
bool has(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}
}  // namespace

TEST(Cli, HelpListsEveryCommandAndVersionNamesTheLibraries) {
  std::string out;
  EXPECT_EQ(epe("--help", &out), 0);
  for (const char* c : {"demo-data", "check", "info", "crops", "export", "import", "bench", "layout", "metrics",
                        "lpips", "baseline", "train", "enhance", "export-model", "fake-gbuffers"})
    EXPECT_TRUE(has(out, c)) << out;
  EXPECT_EQ(epe("--version", &out), 0);
  for (const char* s : {"LibTorch", "FAISS", "OpenCV", "HDF5", "BLAS", "threads", "CUDA"})
    EXPECT_TRUE(has(out, s)) << out;
  EXPECT_EQ(epe("check --help", &out), 0);
  EXPECT_TRUE(has(out, "--kind")) << out;
  EXPECT_TRUE(has(out, "(=synthetic)")) << out;
}

TEST(Cli, UserErrorsExitWithOne) {
  std::string out;
  EXPECT_EQ(epe("no-such-command", &out), 1);
  EXPECT_TRUE(has(out, "unknown command")) << out;
  EXPECT_EQ(epe("", &out), 1);
  EXPECT_EQ(epe("check --list /nonexistent/list.csv --kind real", &out), 1);
  EXPECT_TRUE(has(out, "/nonexistent/list.csv")) << out;
  EXPECT_EQ(epe("check --list x.csv --kind fake", &out), 1);
  EXPECT_TRUE(has(out, "--kind")) << out;
  EXPECT_EQ(epe("demo-data --out /tmp/x --images zero", &out), 1);
  EXPECT_TRUE(has(out, "--images")) << out;
  EXPECT_EQ(epe("info", &out), 1);
}

TEST(Cli, DemoDataCheckInfoAndPlantedFaults) {
  test::TempDir dir;
  std::string out;
  const std::string demo = dir / "demo";
  ASSERT_EQ(epe("demo-data --out " + demo + " --images 5 --height 48 --width 64 --seed 3", &out), 0) << out;
  EXPECT_TRUE(has(out, "synthetic.csv")) << out;
  EXPECT_EQ(epe("check --list " + demo + "/synthetic.csv --kind synthetic", &out), 0) << out;
  EXPECT_EQ(epe("check " + demo + "/real.csv --kind real", &out), 0) << out;
  EXPECT_EQ(epe("info " + demo + "/synthetic/gbuffers/0000.h5", &out), 0) << out;
  EXPECT_TRUE(has(out, "G-buffers")) << out;
  EXPECT_TRUE(has(out, "48 x 64 x 8  float16")) << out;

  // Existing output without --force: exit 1, the folder is untouched.
  std::string before = test::read_text(demo + "/real.csv");
  EXPECT_EQ(epe("demo-data --out " + demo + " --images 2 --height 48 --width 64", &out), 1);
  EXPECT_TRUE(has(out, "--force")) << out;
  EXPECT_EQ(test::read_text(demo + "/real.csv"), before);

  // Planted faults, each named by its line.
  fs::remove(demo + "/real/images/0000.png");
  test::truncate_file(demo + "/real/images/0002.png", 50);
  std::string list = test::read_text(demo + "/real.csv");
  list.replace(list.rfind("real/images/0004.png,"), std::string("real/images/0004.png,").size(),
               "real/images/0004.png;");
  test::write_text(demo + "/real.csv", list);
  EXPECT_EQ(epe("check " + demo + "/real.csv --kind real", &out), 1) << out;
  EXPECT_TRUE(has(out, "real.csv:1: image")) << out;
  EXPECT_TRUE(has(out, "real.csv:3: image")) << out;
  EXPECT_TRUE(has(out, "real.csv:5: expected 2")) << out;
  EXPECT_TRUE(has(out, "2 of 5 rows ok")) << out;
}

TEST(Cli, InfoOnDamagedOrForeignFilesExitsWithOne) {
  test::TempDir dir;
  std::string out;
  test::write_text(dir / "text.h5", "hello");
  EXPECT_EQ(epe("info " + dir / "text.h5", &out), 1);
  EXPECT_TRUE(has(out, "not an HDF5 file")) << out;
  ASSERT_EQ(epe("demo-data --out " + dir / "d" + " --images 1 --height 64 --width 64", &out), 0) << out;
  std::string g = dir / "d/synthetic/gbuffers/0000.h5";
  test::truncate_file(g, 3000);
  EXPECT_EQ(epe("info " + g, &out), 1) << out;
  EXPECT_TRUE(has(out, g)) << out;
}

TEST(Cli, ConfigFileFeedsTheSameOptions) {
  test::TempDir dir;
  std::string out;
  test::write_text(dir / "demo.ini", "images = 2\nheight = 40\nwidth = 48\nseed = 9\n");
  ASSERT_EQ(epe("demo-data --config " + dir / "demo.ini" + " --out " + dir / "d", &out), 0) << out;
  EXPECT_TRUE(has(out, "2 synthetic + 2 real frames of 40x48 (seed 9)")) << out;
  // The folder records the options that decided its content, readable by --config.
  std::string rec = test::read_text(dir / "d/options.ini");
  EXPECT_TRUE(has(rec, "seed = 9\n")) << rec;
  EXPECT_FALSE(has(rec, "out =")) << rec;
  ASSERT_EQ(epe("demo-data --config " + dir / "d/options.ini" + " --out " + dir / "d2", &out), 0) << out;
  for (const char* f : {"synthetic.csv", "options.ini", "synthetic/images/0001.png", "synthetic/gbuffers/0001.h5",
                        "real/images/0000.png"})
    EXPECT_EQ(test::read_text(dir / "d/" + f), test::read_text(dir / "d2/" + f)) << f;
  test::write_text(dir / "bad.ini", "images = 2\nimagez = 3\n");
  EXPECT_EQ(epe("demo-data --config " + dir / "bad.ini" + " --out " + dir / "e", &out), 1);
  EXPECT_TRUE(has(out, "bad.ini:2:")) << out;
  EXPECT_FALSE(fs::exists(dir / "e"));
}

}  // namespace epe

namespace epe {

TEST(Cli, CropsExportImportEndToEnd) {
  test::TempDir dir;
  std::string out;
  const std::string demo = dir / "demo";
  ASSERT_EQ(epe("demo-data --out " + demo + " --images 2 --height 212 --width 230 --seed 1", &out), 0) << out;
  const std::string store = dir / "real.h5";
  ASSERT_EQ(epe("crops --list " + demo + "/real.csv --out " + store + " --mode grid --quiet", &out), 0) << out;
  // 2 frames x (1 + 1) x (2 + 1) grid positions.
  EXPECT_TRUE(has(out, "12 crops from 2 frames (grid mode)")) << out;
  EXPECT_TRUE(has(out, "RANDOM INITIALISATION")) << out;
  EXPECT_EQ(epe("info " + store, &out), 0) << out;
  EXPECT_TRUE(has(out, "crops store")) << out;
  EXPECT_TRUE(has(out, "/features  12 x 512  float16")) << out;
  EXPECT_TRUE(has(out, "random-init(seed=0)")) << out;

  // Existing output without --force: exit 1, the store is untouched.
  const std::string before = test::read_text(store);
  EXPECT_EQ(epe("crops --list " + demo + "/real.csv --out " + store, &out), 1);
  EXPECT_TRUE(has(out, "--force")) << out;
  EXPECT_EQ(test::read_text(store), before);

  // Export to the reference's files and import them back.
  ASSERT_EQ(epe("export " + store + " --format epe --out " + dir.path(), &out), 0) << out;
  EXPECT_TRUE(fs::exists(dir / "crop_real.csv"));
  EXPECT_TRUE(fs::exists(dir / "crop_real.npz"));
  ASSERT_EQ(epe("import --csv " + (dir / "crop_real.csv") + " --npz " + (dir / "crop_real.npz") +
                    " --image-size 212x230 --out " + (dir / "back.h5"),
                &out),
            0)
      << out;
  EXPECT_TRUE(has(out, "12 crops of 2 frames")) << out;
  EXPECT_EQ(epe("export " + (dir / "crop_real.csv") + " --out " + dir.path(), &out), 1);
  EXPECT_TRUE(has(out, "not an HDF5 file")) << out;
  // A missing output folder is created, as every other command does with its outputs.
  ASSERT_EQ(epe("export " + store + " --format epe --out " + (dir / "new/sub"), &out), 0) << out;
  EXPECT_TRUE(fs::exists(dir / "new/sub/crop_real.csv"));
  EXPECT_EQ(epe("export " + store + " --format epe --out " + (dir / "crop_real.csv"), &out), 1);
  EXPECT_TRUE(has(out, "is a file, expected a folder")) << out;
}

TEST(Cli, CropsBadInputExitsWithOneAndWritesNothing) {
  test::TempDir dir;
  std::string out;
  const std::string demo = dir / "demo";
  ASSERT_EQ(epe("demo-data --out " + demo + " --images 1 --height 100 --width 120", &out), 0) << out;
  // Frame smaller than the crop.
  EXPECT_EQ(epe("crops --list " + demo + "/real.csv --out " + (dir / "a.h5"), &out), 1);
  EXPECT_TRUE(has(out, "real.csv:1")) << out;
  EXPECT_TRUE(has(out, "--skip-small")) << out;
  EXPECT_FALSE(fs::exists(dir / "a.h5"));
  // Bad weights file.
  test::write_text(dir / "w.pth", std::string("\x80\x02\x8a\x0alegacy", 14));
  EXPECT_EQ(epe("crops --list " + demo + "/real.csv --out " + (dir / "b.h5") + " --vgg " + (dir / "w.pth"), &out), 1);
  EXPECT_TRUE(has(out, "legacy")) << out;
  EXPECT_FALSE(fs::exists(dir / "b.h5"));
  EXPECT_FALSE(fs::exists(dir / "b.h5.partial"));
  // Bad list and bad options.
  test::write_text(dir / "bad.csv", "a.png,b.png,c.png\n");
  EXPECT_EQ(epe("crops --list " + (dir / "bad.csv") + " --out " + (dir / "c.h5"), &out), 1);
  EXPECT_TRUE(has(out, "bad.csv:1")) << out;
  EXPECT_EQ(epe("crops --list " + (dir / "bad.csv") + " --out " + (dir / "c.h5") + " --mode tiles", &out), 1);
  EXPECT_TRUE(has(out, "--mode")) << out;
  EXPECT_FALSE(fs::exists(dir / "c.h5"));
}

TEST(Cli, ShardedCropsUnderASlurmArrayMergeIntoTheUnshardedStore) {
  test::TempDir dir;
  std::string out;
  const std::string demo = dir / "demo";
  ASSERT_EQ(epe("demo-data --out " + demo + " --images 3 --height 212 --width 230 --seed 2 --quiet", &out), 0) << out;
  const std::string crops = "crops --list " + demo + "/real.csv --mode grid --quiet --out ";
  ASSERT_EQ(epe(crops + (dir / "whole.h5"), &out), 0) << out;
  // Two tasks of an array submitted as --array=1-2, the way sbatch sets their environment.
  for (int task : {1, 2}) {
    const std::string env =
        "SLURM_ARRAY_TASK_ID=" + std::to_string(task) + " SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_COUNT=2 ";
    const std::string shard = dir / ("shard" + std::to_string(task) + ".h5");
    ASSERT_EQ(test::run_command(env + EPE_BINARY + " " + crops + shard + " --shard auto", &out), 0) << out;
    EXPECT_TRUE(has(out, "shard " + std::to_string(task - 1) + "/2 holds list rows")) << out;
    // A resubmitted task finds its shard complete and does nothing.
    ASSERT_EQ(test::run_command(env + EPE_BINARY + " " + crops + shard + " --shard auto", &out), 0) << out;
    EXPECT_TRUE(has(out, "already complete")) << out;
  }
  EXPECT_EQ(epe(crops + (dir / "x.h5") + " --shard auto", &out), 1);
  EXPECT_TRUE(has(out, "not a Slurm array job")) << out;
  EXPECT_EQ(epe(crops + (dir / "x.h5") + " --shard 2/2", &out), 1);
  EXPECT_TRUE(has(out, "option --shard")) << out;
  EXPECT_EQ(epe("merge crops " + (dir / "shard2.h5") + " --out " + (dir / "merged.h5"), &out), 1);
  EXPECT_TRUE(has(out, "shard 0/2 of 2 is missing")) << out;
  EXPECT_FALSE(fs::exists(dir / "merged.h5"));
  EXPECT_EQ(epe("merge masks " + (dir / "shard2.h5") + " --out " + (dir / "merged.h5"), &out), 1);
  EXPECT_TRUE(has(out, "option --kind: 'masks' is not one of crops | segment | match")) << out;
  ASSERT_EQ(
      epe("merge crops " + (dir / "shard2.h5") + " " + (dir / "shard1.h5") + " --out " + (dir / "merged.h5"), &out), 0)
      << out;
  // 3 frames x 2 x 3 grid positions.
  EXPECT_TRUE(has(out, "merge: 2 shards, 18 crops of 3 frames")) << out;
  // The merged features equal the unsharded run's (the export writes them byte for byte).
  ASSERT_EQ(epe("export " + (dir / "whole.h5") + " --out " + (dir / "a") + " --name x", &out), 0) << out;
  ASSERT_EQ(epe("export " + (dir / "merged.h5") + " --out " + (dir / "b") + " --name x", &out), 0) << out;
  EXPECT_EQ(test::read_text(dir / "a/crop_x.npz"), test::read_text(dir / "b/crop_x.npz"));
  EXPECT_EQ(test::read_text(dir / "a/crop_x.csv"), test::read_text(dir / "b/crop_x.csv"));
}

TEST(Cli, ShardedMatchUnderASlurmArrayMergesIntoTheUnshardedStore) {
  test::TempDir dir;
  std::string out;
  const std::string demo = dir / "demo";
  ASSERT_EQ(epe("demo-data --out " + demo + " --images 3 --height 212 --width 230 --seed 4 --quiet", &out), 0) << out;
  for (const char* set : {"synthetic", "real"})
    ASSERT_EQ(epe(cat("crops --list ", demo, "/", set, ".csv --out ", dir / set, ".h5 --mode grid -q"), &out), 0)
        << out;
  const std::string match =
      "match --src " + (dir / "synthetic.h5") + " --dst " + (dir / "real.h5") + " -k 4 --center --min-cosine -1 --out ";
  ASSERT_EQ(epe(match + (dir / "whole.h5"), &out), 0) << out;
  // A 2 x 3 grid: the target shard from a Slurm array (--array=0-2), the source shard given.
  std::string parts;
  for (int task = 0; task < 3; ++task)
    for (int j = 0; j < 2; ++j) {
      const std::string env = cat("SLURM_ARRAY_TASK_ID=", task, " SLURM_ARRAY_TASK_COUNT=3 ");
      const std::string part = dir / cat("part-", j, "-", task, ".h5");
      const std::string cmd = env + EPE_BINARY + " " + match + part + cat(" --src-shard ", j, "/2 --dst-shard auto");
      ASSERT_EQ(test::run_command(cmd, &out), 0) << out;
      EXPECT_TRUE(has(out, cat("source shard ", j, "/2 rows [", j * 9, ", ", (j + 1) * 9, "), target shard ", task,
                               "/3 rows [", task * 6, ", ", (task + 1) * 6, ")")))
          << out;
      EXPECT_TRUE(has(out, "memory: search at most")) << out;
      ASSERT_EQ(test::run_command(cmd, &out), 0) << out;  // resubmitted: nothing to do
      EXPECT_TRUE(has(out, "already complete")) << out;
      parts += " " + part;
    }
  // Inside an array job, both sides auto would take the same index: refused, naming both.
  EXPECT_EQ(test::run_command("SLURM_ARRAY_TASK_ID=0 SLURM_ARRAY_TASK_COUNT=3 " + std::string(EPE_BINARY) + " " +
                                  match + (dir / "x.h5") + " --src-shard auto --dst-shard auto",
                              &out),
            1);
  EXPECT_TRUE(has(out, "only one can be auto")) << out;
  EXPECT_FALSE(fs::exists(dir / "x.h5"));
  EXPECT_EQ(epe("merge match --out " + (dir / "merged.h5") + " " + (dir / "part-0-0.h5"), &out), 1);
  EXPECT_TRUE(has(out, "missing") && has(out, "1/2 x 2/3")) << out;
  EXPECT_FALSE(fs::exists(dir / "merged.h5"));
  ASSERT_EQ(epe("merge match --out " + (dir / "merged.h5") + parts, &out), 0) << out;
  EXPECT_TRUE(has(out, "merge: 6 parts, 18 source x 18 target crops, k = 4")) << out;
  // The kept pairs equal the unsharded run's (the export lists them with their boxes).
  ASSERT_EQ(epe("export " + (dir / "whole.h5") + " --out " + (dir / "a") + " --name x", &out), 0) << out;
  ASSERT_EQ(epe("export " + (dir / "merged.h5") + " --out " + (dir / "b") + " --name x", &out), 0) << out;
  const std::string csv = test::read_text(dir / "a/matched_crops_x.csv");
  EXPECT_EQ(csv, test::read_text(dir / "b/matched_crops_x.csv"));
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + 18 * 4);  // header + every pair kept
}

}  // namespace epe

namespace epe {

TEST(Cli, MatchWeightsShowExportEndToEnd) {
  test::TempDir dir;
  std::string out;
  const std::string demo = dir / "demo";
  ASSERT_EQ(epe("demo-data --out " + demo + " --images 2 --height 212 --width 230 --seed 2", &out), 0) << out;
  for (const char* set : {"synthetic", "real"})
    ASSERT_EQ(epe(cat("crops --list ", demo, "/", set, ".csv --out ", dir / set, ".h5 --mode grid -q"), &out), 0)
        << out;
  const std::string m = dir / "m.h5";
  const std::string pair = " --src " + (dir / "synthetic.h5") + " --dst " + (dir / "real.h5") + " --out " + m;
  // Bad input: exit 1, nothing written.
  EXPECT_EQ(epe("match" + pair + " -k 13", &out), 1);
  EXPECT_TRUE(has(out, "only 12 crops")) << out;
  EXPECT_EQ(epe("match" + pair + " --min-cosine 1.5", &out), 1);
  EXPECT_TRUE(has(out, "--min-cosine")) << out;
  EXPECT_EQ(epe("match --src " + (demo + "/synthetic.csv") + " --dst " + (dir / "real.h5") + " --out " + m, &out), 1);
  EXPECT_TRUE(has(out, "not an HDF5 file")) << out;
  EXPECT_EQ(epe("match" + pair + " --index IVF,Nonsense", &out), 1);
  EXPECT_TRUE(has(out, "IVF,Nonsense")) << out;
  EXPECT_FALSE(fs::exists(m));

  ASSERT_EQ(epe("match" + pair + " -k 3 --center --min-cosine -1 -q", &out), 0) << out;
  EXPECT_TRUE(has(out, "12 source x 12 target crops, k = 3")) << out;
  EXPECT_TRUE(has(out, "pairs kept")) << out;
  ASSERT_EQ(epe("weights " + m + " --density-png " + (dir / "density.png"), &out), 0) << out;
  EXPECT_TRUE(has(out, "1 frame size(s)")) << out;
  EXPECT_TRUE(fs::exists(dir / "density.png"));
  ASSERT_EQ(epe("show-matches " + m + " --out " + (dir / "show.png") + " --bands -1,0.5,1", &out), 0) << out;
  EXPECT_TRUE(fs::exists(dir / "show.png"));
  ASSERT_EQ(epe("export " + m + " --out " + dir.path(), &out), 0) << out;
  EXPECT_TRUE(has(test::read_text(dir / "matched_crops.csv"), "src_path,src_r0,src_r1,src_c0,src_c1,dst_path"));
  EXPECT_TRUE(fs::exists(dir / "crop_weights.npz"));
  EXPECT_EQ(epe("info " + m, &out), 0) << out;
  EXPECT_TRUE(has(out, "/pairs/weight")) << out;
}

}  // namespace epe

namespace epe {

TEST(Cli, DemoSegmenterSegmentAndCheck) {
  test::TempDir dir;
  std::string out;
  const std::string demo = dir / "demo";
  ASSERT_EQ(epe("demo-data --out " + demo + " --images 2 --height 60 --width 90 --seed 4", &out), 0) << out;
  ASSERT_EQ(epe("demo-segmenter --out " + (dir / "seg.pt"), &out), 0) << out;
  EXPECT_TRUE(has(out, "DEMO model")) << out;
  const std::string args = " --model " + (dir / "seg.pt") + " --base-size 60 --crop 49";
  ASSERT_EQ(epe("segment --list " + demo + "/real.csv --out " + (dir / "out") + args + " -q", &out), 0) << out;
  EXPECT_TRUE(has(out, "2 frames labelled")) << out;
  EXPECT_EQ(epe("check --list " + (dir / "out/real.csv") + " --kind real", &out), 0) << out;
  EXPECT_EQ(epe("segment --list " + demo + "/real.csv --out " + (dir / "out") + args, &out), 1);
  EXPECT_TRUE(has(out, "--resume")) << out;
  ASSERT_EQ(epe("segment --list " + demo + "/real.csv --out " + (dir / "out") + args + " --resume -q", &out), 0);
  EXPECT_TRUE(has(out, "0 frames labelled (2 kept from an earlier run)")) << out;
  // Two shards into one folder, then the merge writes the list; it equals the unsharded one
  // but for the folder name.
  for (const char* shard : {"1/2", "0/2"}) {
    ASSERT_EQ(epe("segment --list " + demo + "/real.csv --out " + (dir / "sh") + args + " -q --shard " + shard, &out),
              0)
        << out;
    EXPECT_TRUE(has(out, std::string("shard ") + shard + " (list rows [")) << out;
  }
  EXPECT_FALSE(fs::exists(dir / "sh/real.csv"));
  ASSERT_EQ(epe("merge segment " + (dir / "sh") + " --out " + (dir / "sh"), &out), 0) << out;
  EXPECT_TRUE(has(out, "merge: 2 shards, 2 frames labelled")) << out;
  std::string whole = test::read_text(dir / "out/real.csv");
  for (std::size_t p; (p = whole.find("/out/labels/")) != std::string::npos;) whole.replace(p, 12, "/sh/labels/");
  EXPECT_EQ(test::read_text(dir / "sh/real.csv"), whole);
  EXPECT_EQ(epe("check --list " + (dir / "sh/real.csv") + " --kind real", &out), 0) << out;
  // Not a TorchScript file / wrong class count: exit 1, nothing written.
  EXPECT_EQ(epe("segment --list " + demo + "/real.csv --out " + (dir / "bad") + " --model " + demo + "/real.csv", &out),
            1);
  EXPECT_TRUE(has(out, "not a TorchScript model")) << out;
  EXPECT_EQ(epe("segment --list " + demo + "/real.csv --out " + (dir / "bad") + args + " --classes 19", &out), 1);
  EXPECT_TRUE(has(out, "outputs 194 classes, expected 19")) << out;
  EXPECT_FALSE(fs::exists(dir / "bad"));
}

}  // namespace epe
