// `epe metrics`, `epe lpips`, `epe baseline` and `epe merge features` end to end on small demo
// data: the feature cache, feature shards, colour transfer, semantic consistency and errors.

#include <gtest/gtest.h>
#include <torch/script.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <opencv2/imgproc.hpp>

#include "epe/core/rng.h"
#include "epe/io/image.h"
#include "epe/metrics/color_transfer.h"
#include "epe/metrics/features.h"
#include "epe/metrics/metrics.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace epe::test {
namespace {

// A TorchScript "Inception" with NVlabs' signature: forward(img, return_features) -> [N, 8]
// features (or [N, 2] logits), input in 0..255.
void write_tiny_inception(const std::string& path) {
  torch::jit::Module m("TinyInception");
  m.register_parameter("w",
                       torch::tensor({{1.0, 0.0, 0.0},
                                      {0.0, 1.0, 0.0},
                                      {0.0, 0.0, 1.0},
                                      {0.5, 0.5, 0.0},
                                      {0.0, 0.5, 0.5},
                                      {0.5, 0.0, 0.5},
                                      {-1.0, 1.0, 0.0},
                                      {0.3, 0.3, 0.3}},
                                     torch::kFloat32),
                       false);
  m.define(R"(
    def forward(self, img, return_features: bool = False):
        f = torch.matmul(img.mean([2, 3]) / 255.0, self.w.t())
        f = torch.cat([f[:, :4], f[:, 4:] * img.std([2, 3]).mean(1, keepdim=True) / 64.0], 1)
        if return_features:
            return f
        return f[:, :2]
  )");
  m.save(path);
}

TEST(MetricsCli, ColourTransferMetricsCacheLpipsAndErrors) {
  TempDir dir;
  std::string out;
  const std::string demo = dir / "demo";
  ASSERT_EQ(run_epe("demo-data --out " + demo + " --images 6 --height 120 --width 200 --seed 4 --quiet", &out), 0)
      << out;
  // Colour transfer: a list with the synthetic rows' labels and the new frames.
  ASSERT_EQ(run_epe("baseline color-transfer --list " + demo + "/synthetic.csv --reference " + demo +
                        "/real.csv --out " + dir / "ct",
                    &out),
            0)
      << out;
  EXPECT_TRUE(contains(out, "color-transfer: 6 frames")) << out;
  const std::string ct = dir / "ct/synthetic-color-transfer.csv";
  ASSERT_TRUE(fs::exists(ct));
  EXPECT_TRUE(contains(read_text(ct), "images/000005.png,")) << read_text(ct);
  EXPECT_TRUE(contains(read_text(ct), "robust_labels/0005.png")) << read_text(ct);
  const LabStats real = lab_stats(demo + "/real.csv", 1), moved = lab_stats(ct, 1),
                 syn = lab_stats(demo + "/synthetic.csv", 1);
  EXPECT_LT(std::abs(moved.mean[0] - real.mean[0]), 0.25 * std::abs(syn.mean[0] - real.mean[0]) + 1.0);

  write_tiny_inception(dir / "inception.pt");
  const std::string common =
      " --real " + demo + "/real.csv --fake " + demo + "/synthetic.csv --fake " + ct +
      " --names input,ct --inception " + dir / "inception.pt" +
      " --kvd-size 64x96 --skvd-protocol epe --skvd-frame 120x200 --skvd-crops-per-frame 3 --kid-subsets 10"
      " --cache " +
      dir / "cache";
  ASSERT_EQ(run_epe("metrics --metrics fid,kid,kvd,skvd --out " + dir / "m1" + common, &out), 0) << out;
  EXPECT_TRUE(contains(out, "feature cache: 0 hit, 6 computed")) << out;
  EXPECT_TRUE(contains(out, "WARNING: VGG-16 has RANDOM weights")) << out;
  const std::string json = read_text(dir / "m1/metrics.json");
  for (const char* set : {"input", "ct"})
    for (const char* key : {"fid", "kid_mean", "kid_std", "kvd_mean", "kvd_std", "skvd_mean", "skvd_std", "skvd_pairs"})
      EXPECT_TRUE(std::isfinite(json_number(json, set, key))) << set << " " << key << "\n" << json;
  EXPECT_GE(json_number(json, "input", "fid"), 0.0);
  EXPECT_GT(json_number(json, "input", "skvd_pairs"), 1.0);
  EXPECT_TRUE(contains(json, "\"crop_side\": 54")) << json;  // floor(sqrt(120 * 200 / 8))
  const std::string md = read_text(dir / "m1/metrics.md");
  EXPECT_TRUE(contains(md, "| input | 6 |")) << md;
  EXPECT_TRUE(contains(md, "ct: KVD")) << md;
  EXPECT_TRUE(contains(md, "sKVD by dominant class")) << md;
  // Second run: every feature set comes from the cache, with the same numbers.
  ASSERT_EQ(run_epe("metrics --metrics fid,kid,kvd,skvd --out " + dir / "m2" + common, &out), 0) << out;
  EXPECT_TRUE(contains(out, "feature cache: 6 hit, 0 computed")) << out;
  const std::string json2 = read_text(dir / "m2/metrics.json");
  for (const char* key : {"fid", "kid_mean", "kvd_mean", "skvd_mean"})
    EXPECT_EQ(json_number(json, "ct", key), json_number(json2, "ct", key)) << key;
  // Precision/recall/density/coverage on the cached features of either extractor.
  ASSERT_EQ(run_epe("metrics --metrics prdc --prdc-k 2 --out " + dir / "p1" + common, &out), 0) << out;
  EXPECT_TRUE(contains(out, "feature cache: 3 hit, 0 computed")) << out;
  EXPECT_TRUE(contains(out, "precision")) << out;
  ASSERT_EQ(run_epe("metrics --metrics kvd,prdc --prdc-features vgg --prdc-k 2 --out " + dir / "p2" + common, &out), 0)
      << out;
  const std::string pj = read_text(dir / "p2/metrics.json");
  for (const char* set : {"input", "ct"})
    for (const char* key : {"precision", "recall", "density", "coverage"}) {
      const double v = json_number(pj, set, key);
      EXPECT_TRUE(v >= 0.0 && (v <= 1.0 || std::string(key) == "density")) << set << " " << key << " " << v;
    }
  EXPECT_EQ(json_number(pj, "ct", "kvd_mean"), json_number(json, "ct", "kvd_mean"));
  EXPECT_TRUE(contains(read_text(dir / "p2/metrics.md"), "| precision | recall | density | coverage |"))
      << read_text(dir / "p2/metrics.md");
  EXPECT_EQ(run_epe("metrics --metrics prdc --prdc-k 6 --out " + dir / "p3" + common, &out), 1);
  EXPECT_TRUE(contains(out, "more than 6 samples")) << out;
  // Existing output without --force.
  EXPECT_EQ(run_epe("metrics --metrics kvd --out " + dir / "m1" + common, &out), 1);
  EXPECT_TRUE(contains(out, "--force")) << out;
  // FID without an Inception; sKVD on a folder (no labels); an unknown metric.
  EXPECT_EQ(run_epe("metrics --real " + demo + "/real.csv --fake " + ct + " --metrics fid --out " + dir / "e", &out),
            1);
  EXPECT_TRUE(contains(out, "--inception")) << out;
  EXPECT_EQ(run_epe("metrics --real " + demo + "/real/images --fake " + ct +
                        " --metrics skvd --skvd-frame 120x200 --out " + dir / "e",
                    &out),
            1);
  EXPECT_TRUE(contains(out, "robust labels")) << out;
  EXPECT_EQ(
      run_epe("metrics --real " + demo + "/real.csv --fake " + ct + " --metrics fid,bogus --out " + dir / "e", &out),
      1);
  EXPECT_TRUE(contains(out, "bogus")) << out;
  EXPECT_EQ(
      run_epe("metrics --real " + demo + "/real.csv --fake " + ct + " --metrics kvd --kid-subsets 0 --out " + dir / "e",
              &out),
      1);
  EXPECT_TRUE(contains(out, "--kid-subsets")) << out;
  EXPECT_EQ(run_epe("baseline color-transfer --list " + demo + "/synthetic.csv --reference " + dir / "none.csv" +
                        " --out " + dir / "e",
                    &out),
            1);
  EXPECT_TRUE(contains(out, "none.csv")) << out;
  EXPECT_FALSE(fs::exists(dir / "e"));

  // LPIPS: an image against itself is 0; two lists row by row; mismatched lists are an error.
  const std::string img0 = demo + "/synthetic/images/0000.png";
  ASSERT_EQ(run_epe("lpips " + img0 + " " + img0, &out), 0) << out;
  EXPECT_TRUE(contains(out, "0.000000")) << out;
  ASSERT_EQ(run_epe("lpips " + demo + "/synthetic.csv " + ct + " --out " + dir / "lp.csv", &out), 0) << out;
  EXPECT_TRUE(contains(out, "lpips: 6 pairs")) << out;
  const std::string lp = read_text(dir / "lp.csv");
  EXPECT_EQ(std::count(lp.begin(), lp.end(), '\n'), 7);
  write_text(dir / "ct/short.csv", read_text(ct).substr(0, read_text(ct).find('\n') + 1));
  EXPECT_EQ(run_epe("lpips " + demo + "/synthetic.csv " + dir / "ct/short.csv", &out), 1);
  EXPECT_TRUE(contains(out, "row by row")) << out;
  // Images of different sizes.
  write_png(dir / "small.png", cv::Mat(20, 30, CV_32FC3, cv::Scalar(0.5, 0.5, 0.5)));
  EXPECT_EQ(run_epe("lpips " + img0 + " " + dir / "small.png", &out), 1);
  EXPECT_TRUE(contains(out, "of the same size")) << out;
}

TEST(MetricsCli, ShardedFeatureExtractionMergesIntoACacheThatGivesTheUnshardedNumbers) {
  TempDir dir;
  std::string out;
  const std::string demo = dir / "demo";
  ASSERT_EQ(run_epe("demo-data --out " + demo + " --images 7 --height 120 --width 200 --seed 5 --quiet", &out), 0)
      << out;
  write_tiny_inception(dir / "inception.pt");
  const std::string common = " --real " + demo + "/real.csv --fake " + demo +
                             "/synthetic.csv --names input --inception " + dir / "inception.pt" +
                             " --kvd-size 64x96 --kid-subsets 10 --batch 3 --metrics fid,kid,kvd";
  ASSERT_EQ(run_epe("metrics --out " + dir / "m0" + common, &out), 0) << out;
  // Shard 0 by index, shard 1 from a Slurm array's environment, both into one folder.
  ASSERT_EQ(run_epe("metrics --shard 0/2 --out " + dir / "shards" + common, &out), 0) << out;
  EXPECT_TRUE(contains(out, "metrics: shard 0/2 of 4 feature set(s)")) << out;
  EXPECT_TRUE(contains(out, "rows [0, 3) of 7 of " + demo + "/real.csv")) << out;
  EXPECT_TRUE(contains(out, "WARNING: VGG-16 has RANDOM weights")) << out;
  ASSERT_EQ(run_command("SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_TASK_COUNT=2 " + std::string(EPE_BINARY) +
                            " metrics --shard auto --out " + dir / "shards" + common,
                        &out),
            0)
      << out;
  EXPECT_TRUE(contains(out, "metrics: shard 1/2")) << out;
  EXPECT_TRUE(contains(out, "rows [3, 7) of 7")) << out;
  ASSERT_EQ(run_epe("metrics --shard 0/2 --out " + dir / "shards" + common, &out), 0) << out;
  EXPECT_TRUE(contains(out, "(already complete)")) << out;
  ASSERT_EQ(run_epe("merge features --out " + dir / "cache " + dir / "shards", &out), 0) << out;
  EXPECT_TRUE(contains(out, "merge: 8 shards into 4 feature stores (28 rows)")) << out;
  // The unsharded run reads every set from the merged cache and gives the same numbers.
  ASSERT_EQ(run_epe("metrics --out " + dir / "m1 --cache " + dir / "cache" + common, &out), 0) << out;
  EXPECT_TRUE(contains(out, "feature cache: 4 hit, 0 computed")) << out;
  const std::string j0 = read_text(dir / "m0/metrics.json"), j1 = read_text(dir / "m1/metrics.json");
  for (const char* key : {"fid", "kid_mean", "kid_std", "kvd_mean", "kvd_std"})
    EXPECT_EQ(json_number(j0, "input", key), json_number(j1, "input", key)) << key;
  // Errors.
  EXPECT_EQ(run_epe("metrics --shard 0/2 --cache " + dir / "cache --out " + dir / "s2" + common, &out), 1);
  EXPECT_TRUE(contains(out, "options --shard and --cache")) << out;
  EXPECT_EQ(run_epe("metrics --shard 0/2 --out " + dir / "s2 --real " + demo + "/real.csv --fake " + demo +
                        "/synthetic.csv --metrics skvd",
                    &out),
            1);
  EXPECT_TRUE(contains(out, "need no whole-frame features")) << out;
  EXPECT_EQ(run_epe("metrics --shard 2/2 --out " + dir / "s2" + common, &out), 1);
  EXPECT_TRUE(contains(out, "--shard")) << out;
  EXPECT_EQ(run_epe("merge features --out " + dir / "cache2 " + dir / "shards/does-not-exist.h5", &out), 1);
  EXPECT_TRUE(contains(out, "does-not-exist.h5' does not exist")) << out;
}

TEST(Semantic, CliScoresEachSetAgainstItsInputFrames) {
  TempDir dir;
  std::string out;
  const std::string demo = dir / "demo";
  ASSERT_EQ(run_epe("demo-data --out " + demo + " --images 4 --height 96 --width 160 --seed 2 --quiet", &out), 0)
      << out;
  ASSERT_EQ(run_epe("baseline color-transfer --list " + demo + "/synthetic.csv --reference " + demo +
                        "/real.csv --out " + dir / "ct" + " --quiet",
                    &out),
            0)
      << out;
  ASSERT_EQ(run_epe("demo-segmenter --out " + dir / "seg.pt", &out), 0) << out;
  const std::string common = " --real " + demo + "/real.csv --fake " + demo + "/synthetic.csv --fake " +
                             dir / "ct/synthetic-color-transfer.csv --names input,ct --metrics semantic --model " +
                             dir / "seg.pt" + " --seg-base-size 96 --seg-crop 97 --cache " + dir / "cache";
  ASSERT_EQ(run_epe("metrics --out " + dir / "m" + common, &out), 0) << out;
  EXPECT_TRUE(contains(out, "mIoU vs input")) << out;
  const std::string json = read_text(dir / "m/metrics.json");
  // The input set against itself is exactly 1; the colour-transferred frames change labels.
  EXPECT_EQ(json_number(json, "semantic_vs_input", "miou"), 1.0) << json;
  EXPECT_EQ(json_number(json, "semantic_vs_input", "pixel_accuracy"), 1.0) << json;
  const std::size_t ct = json.find("\"ct\":");
  ASSERT_NE(ct, std::string::npos);
  const double ct_miou = json_number(json.substr(ct), "semantic_vs_input", "miou");
  EXPECT_GT(ct_miou, 0.0);
  EXPECT_LT(ct_miou, 1.0);
  // GT labels (Cityscapes ids) through cityscapes-34_to_universal: the demo segmenter is not exact.
  const double gt_miou = json_number(json, "semantic_vs_gt", "miou");
  EXPECT_GT(gt_miou, 0.0);
  EXPECT_LE(gt_miou, 1.0);
  const std::string md = read_text(dir / "m/metrics.md");
  EXPECT_TRUE(contains(md, "**semantic**: segmenter seg.pt sha256:")) << md;
  EXPECT_TRUE(contains(md, "Semantic consistency: IoU per class")) << md;
  // Second run: the label maps come from the cache, with the same numbers.
  ASSERT_EQ(run_epe("metrics --out " + dir / "m2" + common, &out), 0) << out;
  EXPECT_TRUE(contains(out, "feature cache: 2 hit, 0 computed")) << out;
  EXPECT_EQ(json_number(read_text(dir / "m2/metrics.json").substr(read_text(dir / "m2/metrics.json").find("\"ct\":")),
                        "semantic_vs_input", "miou"),
            ct_miou);
  // A fake set with other rows than its source; no model.
  write_text(demo + "/short.csv",
             read_text(demo + "/synthetic.csv").substr(0, read_text(demo + "/synthetic.csv").find('\n') + 1));
  EXPECT_EQ(run_epe("metrics --out " + dir / "e" + common + " --semantic-source " + demo + "/short.csv", &out), 1);
  EXPECT_TRUE(contains(out, "row k of a fake set must be made from source row k")) << out;
  EXPECT_EQ(run_epe("metrics --real " + demo + "/real.csv --fake " + demo + "/synthetic.csv --metrics semantic --out " +
                        dir / "e",
                    &out),
            1);
  EXPECT_TRUE(contains(out, "--model")) << out;
  EXPECT_FALSE(fs::exists(dir / "e"));
}

}  // namespace
}  // namespace epe::test
