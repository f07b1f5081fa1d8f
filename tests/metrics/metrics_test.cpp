// sKVD on planted crops, colour transfer statistics, feature extraction with its cache, and
// semantic consistency. The commands end to end: tests/e2e/metrics_cli_test.cpp.

#include "epe/metrics/metrics.h"

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
#include "test_util.h"

namespace fs = std::filesystem;

namespace epe::test {
namespace {

TEST(Skvd, PairsByLabelAgreementAndGroupsByDominantClass) {
  SkvdOptions o;
  o.protocol = SkvdProtocol::epe;  // fake crops look for real ones
  o.grid = 2;                      // 4 cells
  o.threshold = 0.5;
  SkvdCrops real, fake;
  const int d = 3;
  auto add = [d](SkvdCrops& c, std::vector<std::uint8_t> grid, std::vector<float> f) {
    c.grids.insert(c.grids.end(), grid.begin(), grid.end());
    c.features.data.insert(c.features.data.end(), f.begin(), f.end());
    c.features.d = d;
    c.frame.push_back(static_cast<std::int32_t>(c.features.n));
    ++c.features.n;
  };
  add(real, {1, 1, 2, 2}, {1, 0, 0});
  add(real, {3, 3, 3, 3}, {0, 1, 0});
  add(real, {1, 1, 1, 2}, {0, 0, 1});
  add(fake, {1, 1, 2, 2}, {1, 0.1f, 0});     // -> real 0 (4 equal)
  add(fake, {3, 3, 3, 9}, {0, 1, 0.2f});     // -> real 1 (3 of 4 > 0.5)
  add(fake, {1, 1, 1, 1}, {0.3f, 0, 1});     // -> real 2 (3 of 4)
  add(fake, {9, 9, 3, 9}, {1, 1, 1});        // best real 1 with 1 of 4: dropped
  add(fake, {2, 1, 2, 1}, {0.5f, 0.5f, 0});  // best real 0 with 2 of 4 = 0.5: not > 0.5, dropped
  const SkvdResult r = skvd(real, fake, o, 0);
  EXPECT_EQ(r.candidates, 5);
  EXPECT_EQ(r.pairs, 3);
  EXPECT_NEAR(r.mean, mmd2_rows(fake.features, {0, 1, 2}, real.features, {0, 1, 2}), 1e-15);
  EXPECT_EQ(r.std, 0.0);
  // Dominant classes of the kept fake crops: 1 (ties 1/2 -> smaller id), 3, 1.
  ASSERT_EQ(r.classes.size(), 2u);
  EXPECT_EQ(r.classes[0].id, 1);
  EXPECT_EQ(r.classes[0].pairs, 2);
  EXPECT_NEAR(r.classes[0].value, mmd2_rows(fake.features, {0, 2}, real.features, {0, 2}), 1e-15);
  EXPECT_EQ(r.classes[1].id, 3);
  EXPECT_TRUE(std::isnan(r.classes[1].value));
  // Fewer than 2 kept pairs is an error that says why.
  o.threshold = 0.9;
  EXPECT_NE(user_error_message([&] { skvd(real, fake, o, 0); }).find("only 1 of 5"), std::string::npos);
}

TEST(ColorTransfer, MatchesTheTargetLabStatistics) {
  Rng rng(4);
  cv::Mat img(40, 50, CV_32FC3);
  for (int r = 0; r < img.rows; ++r)
    for (int c = 0; c < img.cols; ++c)
      img.at<cv::Vec3f>(r, c) = cv::Vec3f(0.3f + 0.2f * float(rng.uniform()), 0.4f + 0.1f * float(rng.uniform()),
                                          0.5f + 0.2f * float(rng.uniform()));
  LabStats t;
  t.mean = {45.0, 4.0, -6.0};
  t.std = {6.0, 3.0, 4.0};
  const cv::Mat out = reinhard_transfer(img, t);
  cv::Mat lab;
  cv::cvtColor(out, lab, cv::COLOR_RGB2Lab);
  cv::Scalar mean, sd;
  cv::meanStdDev(lab, mean, sd);
  for (int k = 0; k < 3; ++k) {
    // No clipping at these statistics; the float Lab -> RGB -> Lab round trip costs ~0.1.
    EXPECT_NEAR(mean[k], t.mean[k], 0.2) << k;
    EXPECT_NEAR(sd[k], t.std[k], 0.2) << k;
  }
}

TEST(Features, CacheKeyFollowsTheImagesAndTheExtractor) {
  TempDir dir;
  fs::create_directories(dir / "imgs");
  for (int i = 0; i < 3; ++i) {
    cv::Mat m(40, 60, CV_32FC3, cv::Scalar(0.1 * i, 0.5, 0.9 - 0.2 * i));
    write_png(dir / cat("imgs/", i, ".png"), m);
  }
  ImageSet set = read_image_set(dir / "imgs");
  ASSERT_EQ(set.images.size(), 3u);
  ExtractorOptions o;
  o.vgg_size = "32x32";
  o.vgg_tap = "relu2_2";
  auto ex = make_vgg_extractor(o);
  bool hit = true;
  const FeatureMatrix a = cached_features(*ex, set, dir / "cache", &hit);
  EXPECT_FALSE(hit);
  EXPECT_EQ(a.n, 3);
  EXPECT_EQ(a.d, 128);
  const FeatureMatrix b = cached_features(*ex, set, dir / "cache", &hit);
  EXPECT_TRUE(hit);
  EXPECT_EQ(a.data, b.data);
  // Another tap: another key.
  o.vgg_tap = "relu1_2";
  auto ex2 = make_vgg_extractor(o);
  cached_features(*ex2, set, dir / "cache", &hit);
  EXPECT_FALSE(hit);
  // A changed image: another checksum.
  write_png(dir / "imgs/1.png", cv::Mat(40, 60, CV_32FC3, cv::Scalar(0.7, 0.2, 0.1)));
  fs::last_write_time(dir / "imgs/1.png", fs::last_write_time(dir / "imgs/1.png") + std::chrono::seconds(5));
  const ImageSet changed = read_image_set(dir / "imgs");
  EXPECT_NE(changed.checksum, set.checksum);
  const FeatureMatrix c = cached_features(*ex, changed, dir / "cache", &hit);
  EXPECT_FALSE(hit);
  EXPECT_NE(c.data, a.data);
}

}  // namespace
}  // namespace epe::test

namespace epe::test {
namespace {

TEST(Semantic, ConfusionGivesHandComputedIoUs) {
  // Reference 2x4: [1 1 2 2; 1 255 3 3]; prediction [1 2 2 2; 1 1 3 4].
  const cv::Mat ref = (cv::Mat_<std::uint8_t>(2, 4) << 1, 1, 2, 2, 1, 255, 3, 3);
  const cv::Mat pred = (cv::Mat_<std::uint8_t>(2, 4) << 1, 2, 2, 2, 1, 1, 3, 4);
  Confusion c;
  c.add(ref, pred);
  const Confusion::Score s = c.score();
  // Pixel (1,1) is unlabeled in the reference: not counted. Class 1: TP 2, FN 1 -> 2/3;
  // class 2: TP 2, FP 1 -> 2/3; class 3: TP 1, FN 1 -> 1/2; class 4: FP 1 -> 0.
  ASSERT_EQ(s.classes.size(), 4u);
  EXPECT_EQ(s.pixels, 7);
  EXPECT_DOUBLE_EQ(s.classes[0].iou, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(s.classes[1].iou, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(s.classes[2].iou, 0.5);
  EXPECT_EQ(s.classes[3].id, 4);
  EXPECT_EQ(s.classes[3].iou, 0.0);
  EXPECT_DOUBLE_EQ(s.miou, (2.0 / 3 + 2.0 / 3 + 0.5 + 0.0) / 4);
  EXPECT_DOUBLE_EQ(s.pixel_accuracy, 5.0 / 7.0);
  // A map against itself: every IoU and the accuracy are exactly 1.
  Confusion same;
  same.add(pred, pred);
  EXPECT_EQ(same.score().miou, 1.0);
  EXPECT_EQ(same.score().pixel_accuracy, 1.0);
}

}  // namespace
}  // namespace epe::test
