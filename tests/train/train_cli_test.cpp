// `epe train`, `epe enhance` and `epe fake-gbuffers` from the command line on small demo data.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <opencv2/core.hpp>

#include "epe/io/file_list.h"
#include "epe/io/gbuffers.h"
#include "epe/io/image.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace epe::test {
namespace {


TEST(TrainCli, DryRunTrainResumeEnhanceAndFakeGBuffers) {
  TempDir dir;
  std::string out;
  const std::string demo = dir / "demo";
  ASSERT_EQ(run_epe("demo-data --out " + demo + " --images 3 --height 64 --width 96 --seed 7 --quiet", &out), 0) << out;
  const std::string data = " --synthetic " + demo + "/synthetic.csv --real " + demo + "/real.csv";
  // Dry run: parameter counts and the data summary, nothing written.
  ASSERT_EQ(run_epe("train --preset tiny --sampling independent --crop 32 --dry-run" + data, &out), 0) << out;
  EXPECT_TRUE(contains(out, "generator: ")) << out;
  EXPECT_TRUE(contains(out, "discriminator: ")) << out;
  EXPECT_TRUE(contains(out, "G-buffers: 8 channels: depth, normal.x")) << out;
  EXPECT_TRUE(contains(out, "independent sampling of 32x32 crops")) << out;
  EXPECT_TRUE(contains(out, "dry run: nothing trained")) << out;
  // The paper preset expects 32 G-buffer channels: a clear error before anything runs.
  EXPECT_EQ(run_epe("train --preset paper --gbuffer-channels 32 --sampling independent --crop 32 --dry-run" + data, &out), 1);
  EXPECT_TRUE(contains(out, "expects 32")) << out;
  // A short run from a config file, then --resume to more steps.
  write_text(dir / "t.ini", "preset = tiny\nsampling = independent\ncrop = 32\nsteps = 4\ncheckpoint-every = 2\n"
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
  ASSERT_EQ(run_epe("train --config " + dir / "t.ini" + data + " --out " + run + " --steps 6 --resume", &out), 0) << out;
  EXPECT_TRUE(contains(out, "resumed from")) << out;
  EXPECT_TRUE(contains(out, "train: steps 4..6")) << out;
  // Enhance every synthetic frame with the run's latest generator.
  ASSERT_EQ(run_epe("enhance --checkpoint " + run + " --list " + demo + "/synthetic.csv --out " + dir / "enh", &out), 0) << out;
  EXPECT_TRUE(contains(out, "enhance: 3 frames")) << out;
  EXPECT_TRUE(fs::exists(dir / "enh/images/000002.png"));
  EXPECT_EQ(read_file_list(dir / "enh/synthetic-enhanced.csv", DatasetKind::synthetic).rows.size(), 3u);
  EXPECT_EQ(run_epe("enhance --checkpoint " + dir / "nothing" + " --list " + demo + "/synthetic.csv --out " + dir / "e2", &out), 1);
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
    std::snprintf(want, sizeof want, "reference protocol (no padding, dataset mean %.4f %.4f %.4f std %.4f %.4f %.4f, bicubic)",
                  m[0], m[1], m[2], sd[0], sd[1], sd[2]);
    EXPECT_TRUE(contains(out, want)) << want << "\n" << out;
  }
  // The first wave's protocol gives other G-buffers.
  ASSERT_EQ(run_epe("fake-gbuffers --list " + demo + "/synthetic.csv --protocol epe --out " + dir / "fake-epe", &out), 0) << out;
  EXPECT_TRUE(contains(out, "epe protocol (zero padding, ImageNet statistics, bilinear)")) << out;
  EXPECT_NE(read_gbuffers(fl.rows[0].gbuffers()).data,
            read_gbuffers(read_file_list(dir / "fake-epe/synthetic-fake-gbuffers.csv", DatasetKind::synthetic).rows[0].gbuffers()).data);
  ASSERT_EQ(run_epe("train --preset tiny --sampling independent --crop 32 --dry-run --synthetic " + fake_list + " --real " +
                    demo + "/real.csv",
                &out),
            0)
      << out;
  EXPECT_TRUE(contains(out, "G-buffers: 32 channels: fake-vgg-relu2_2.0")) << out;
}

}  // namespace
}  // namespace epe::test
