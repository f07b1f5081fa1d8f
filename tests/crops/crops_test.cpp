#include "epe/crops/crops.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <set>

#include "crops_test_util.h"
#include "epe/core/rng.h"
#include "epe/crops/crop_store.h"
#include "epe/crops/embed.h"
#include "epe/io/file_list.h"
#include "epe/io/h5.h"
#include "epe/io/image.h"
#include "epe/io/npz.h"
#include "epe/nn/vgg16.h"
#include "test_util.h"
#include "vgg_fixture.h"

namespace fs = std::filesystem;

namespace epe::test {
namespace {

double rel_error(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>() /
         std::max(1e-30, b.to(torch::kDouble).abs().max().item<double>());
}

at::Tensor store_features(const CropStore& s) {
  std::vector<float> f = s.features(0, s.size());
  return torch::from_blob(f.data(), {s.size(), s.dim()}, torch::kFloat).clone();
}

TEST(Crops, RandomModeEqualsTorchvisionOnTheSameBoxes) {
  TempDir dir;
  write_png(dir / "frame.png", fixture_frame_u8(1000, 200, 210));
  write_fixture_weights_zip(dir / "vgg16.pt");
  CropsOptions o = quiet_options(write_list(dir, "list.csv", {dir / "frame.png"}), dir / "crops.h5");
  o.crops_per_image = 24;
  o.vgg = dir / "vgg16.pt";
  o.seed = 3;
  CropsResult r = compute_crops(o);
  EXPECT_EQ(r.crops, 24);
  EXPECT_FALSE(r.random_weights);
  CropStore s(dir / "crops.h5");
  ASSERT_EQ(s.size(), 24);
  EXPECT_EQ(s.meta().weights.rfind("vgg16.pt sha256:", 0), 0u);
  at::Tensor ours = store_features(s);
  NpyArray ref_a = read_npz_array(fixture_dir() + "/reference.npz", "crops_all");
  std::vector<float> ref_v = ref_a.to_float();
  at::Tensor ref = torch::from_blob(ref_v.data(), {75, 512}, torch::kFloat);
  std::set<int> corners;
  for (int i = 0; i < s.size(); ++i) {
    const CropBox& b = s.boxes()[i];
    ASSERT_EQ(b.r1 - b.r0, 196);
    ASSERT_EQ(b.c1 - b.c0, 196);
    ASSERT_LE(b.r0, 4);
    ASSERT_LE(b.c0, 14);
    corners.insert(b.r0 * 15 + b.c0);
    EXPECT_LE(rel_error(ours[i], ref[b.r0 * 15 + b.c0]), 2e-3) << "crop " << i << " at " << b.r0 << "," << b.c0;
  }
  EXPECT_GT(corners.size(), 10u);  // the corners really vary
}

TEST(Crops, GridEqualsPerCropEmbeddingOnSeveralFrameSizes) {
  nn::Vgg16Options vo;
  vo.padding = nn::Padding::none;
  vo.seed = 11;
  nn::Vgg16 net(vo);
  torch::NoGradGuard g;
  for (auto [h, w, crop] :
       std::vector<std::array<int, 3>>{{196, 196, 196}, {229, 262, 196}, {260, 213, 196}, {245, 240, 212}}) {
    at::Tensor frame = nn::normalize(fixture_image(h * 1000 + w, h, w), nn::Normalization::imagenet());
    at::Tensor grid = embed_grid(net, frame, crop);
    const int rows = (h - crop) / 16 + 1, cols = (w - crop) / 16 + 1;
    ASSERT_EQ(grid.size(1), rows);
    ASSERT_EQ(grid.size(2), cols);
    for (int i = 0; i < rows; ++i)
      for (int j = 0; j < cols; ++j) {
        at::Tensor crop_t = frame.slice(2, 16 * i, 16 * i + crop).slice(3, 16 * j, 16 * j + crop);
        at::Tensor single = embed_crops(net, crop_t)[0];
        EXPECT_LE(rel_error(grid[0][i][j], single), 1e-5)
            << h << "x" << w << " crop " << crop << " at " << i << "," << j;
      }
  }
}

TEST(Crops, GridStoreHoldsEveryPositionWithItsBox) {
  TempDir dir;
  std::vector<std::string> frames = {write_frame(dir, "a.png", 229, 262, 1), write_frame(dir, "b.png", 196, 300, 2)};
  CropsOptions o = quiet_options(write_list(dir, "list.csv", frames), dir / "grid.h5");
  o.mode = CropMode::grid;
  CropsResult r = compute_crops(o);
  // a: 3 x 5 positions, b: 1 x 7.
  EXPECT_EQ(r.crops, 15 + 7);
  CropStore s(dir / "grid.h5");
  ASSERT_EQ(s.size(), 22);
  EXPECT_EQ(s.meta().mode, "grid");
  EXPECT_EQ(s.image_sizes()[0], (std::array<std::int32_t, 2>{229, 262}));
  EXPECT_EQ(s.boxes()[6], (CropBox{0, 16, 212, 16, 212}));
  EXPECT_EQ(s.boxes()[15], (CropBox{1, 0, 196, 0, 196}));
  EXPECT_EQ(s.boxes()[21], (CropBox{1, 0, 196, 96, 292}));
  // The stored (float16) features equal per-crop embeddings of the same boxes.
  nn::Vgg16Options vo;
  vo.padding = nn::Padding::none;
  nn::Vgg16 net(vo);
  torch::NoGradGuard g;
  at::Tensor feats = store_features(s);
  for (int i : {0, 6, 14, 15, 21}) {
    const CropBox& b = s.boxes()[i];
    cv::Mat img = read_image(s.image_paths()[b.image]);
    at::Tensor x = torch::from_blob(img.data, {img.rows, img.cols, 3}, torch::kFloat).permute({2, 0, 1}).unsqueeze(0);
    x = nn::normalize(x, nn::Normalization::imagenet()).slice(2, b.r0, b.r1).slice(3, b.c0, b.c1);
    EXPECT_LE(rel_error(feats[i], embed_crops(net, x)[0]), 2e-3) << "crop " << i;
  }
}

TEST(Crops, GridStepAndMaxPerImageThinTheGridDeterministically) {
  TempDir dir;
  std::vector<std::string> frames = {write_frame(dir, "a.png", 276, 324, 1)};  // 6 x 9 positions
  const std::string list = write_list(dir, "list.csv", frames);
  CropsOptions o = quiet_options(list, dir / "step.h5");
  o.mode = CropMode::grid;
  o.grid_step = 2;
  EXPECT_EQ(compute_crops(o).crops, 3 * 5);
  CropStore step(dir / "step.h5");
  for (const CropBox& b : step.boxes()) {
    EXPECT_EQ(b.r0 % 32, 0);
    EXPECT_EQ(b.c0 % 32, 0);
  }
  o.grid_step = 1;
  o.max_per_image = 10;
  o.out = dir / "max1.h5";
  EXPECT_EQ(compute_crops(o).crops, 10);
  o.out = dir / "max2.h5";
  compute_crops(o);
  EXPECT_EQ(CropStore(dir / "max1.h5").boxes(), CropStore(dir / "max2.h5").boxes());
  o.seed = 1;
  o.out = dir / "max3.h5";
  compute_crops(o);
  EXPECT_NE(CropStore(dir / "max1.h5").boxes(), CropStore(dir / "max3.h5").boxes());
}

TEST(Crops, SmallFramesFailOrAreSkipped) {
  TempDir dir;
  std::vector<std::string> frames = {write_frame(dir, "a.png", 200, 200, 1), write_frame(dir, "small.png", 150, 400, 2),
                                     write_frame(dir, "c.png", 220, 230, 3)};
  const std::string list = write_list(dir, "list.csv", frames);
  CropsOptions o = quiet_options(list, dir / "out.h5");
  o.crops_per_image = 2;
  std::string msg = user_error_message([&] { compute_crops(o); });
  EXPECT_NE(msg.find("list.csv:2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("small.png"), std::string::npos) << msg;
  EXPECT_NE(msg.find("--skip-small"), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(dir / "out.h5"));
  o.skip_small = true;
  o.force = true;  // replaces the .partial the failed run left
  CropsResult r = compute_crops(o);
  EXPECT_EQ(r.frames, 2);
  EXPECT_EQ(r.frames_skipped, 1);
  EXPECT_EQ(r.crops, 4);
  CropStore s(dir / "out.h5");
  ASSERT_EQ(s.image_paths().size(), 2u);
  EXPECT_EQ(s.boxes()[3].image, 1);
  EXPECT_EQ(fs::path(s.image_paths()[1]).filename(), "c.png");
  EXPECT_FALSE(fs::exists(dir / "out.h5.partial"));
}

TEST(Crops, RefusesToOverwriteAndLeavesNothingOnBadInput) {
  TempDir dir;
  const std::string list = write_list(dir, "list.csv", {write_frame(dir, "a.png", 200, 200, 1)});
  write_text(dir / "out.h5", "keep");
  CropsOptions o = quiet_options(list, dir / "out.h5");
  EXPECT_NE(user_error_message([&] { compute_crops(o); }).find("--force"), std::string::npos);
  EXPECT_EQ(read_text(dir / "out.h5"), "keep");
  // Bad weights: nothing written at all.
  write_text(dir / "bad.pt", "not weights");
  o.out = dir / "new.h5";
  o.vgg = dir / "bad.pt";
  EXPECT_NE(user_error_message([&] { compute_crops(o); }).find("bad.pt"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir / "new.h5"));
  EXPECT_FALSE(fs::exists(dir / "new.h5.partial"));
  // A list naming a missing frame.
  o.vgg.clear();
  o.list = write_list(dir, "bad.csv", {dir / "missing.png"});
  EXPECT_NE(user_error_message([&] { compute_crops(o); }).find("missing.png"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir / "new.h5"));
  // Invalid options.
  o.mode = CropMode::grid;
  o.crop_size = 200;
  EXPECT_NE(user_error_message([&] { o.check(); }).find("--crop-size"), std::string::npos);
}

TEST(Crops, ResumeContinuesAnInterruptedRunAndGivesTheSameStore) {
  TempDir dir;
  std::vector<std::string> frames;
  for (int i = 0; i < 5; ++i) frames.push_back(write_frame(dir, cat("f", i, ".png"), 200 + 8 * i, 210, i));
  const std::string list = write_list(dir, "list.csv", frames);
  CropsOptions o = quiet_options(list, dir / "full.h5");
  o.crops_per_image = 3;
  o.batch = 3;  // one frame per commit
  o.options_ini = "mode = random\n";
  compute_crops(o);

  // Damage frame 3, run, fail; repair it and resume.
  const std::string good = read_text(frames[3]);
  truncate_file(frames[3], 100);
  o.out = dir / "resumed.h5";
  EXPECT_NE(user_error_message([&] { compute_crops(o); }).find("f3.png"), std::string::npos);
  ASSERT_TRUE(fs::exists(dir / "resumed.h5.partial"));
  EXPECT_FALSE(fs::exists(dir / "resumed.h5"));
  // Without --resume (or --force) the partial store is not silently replaced.
  EXPECT_NE(user_error_message([&] { compute_crops(o); }).find("--resume"), std::string::npos);
  write_text(frames[3], good);
  // Options must match the interrupted run's.
  CropsOptions other = o;
  other.resume = true;
  other.options_ini = "mode = grid\n";
  EXPECT_NE(user_error_message([&] { compute_crops(other); }).find("options differ"), std::string::npos);
  o.resume = true;
  CropsResult r = compute_crops(o);
  EXPECT_EQ(r.frames_resumed, 3);
  EXPECT_EQ(r.crops_this_run, 6);
  EXPECT_EQ(r.crops, 15);
  EXPECT_FALSE(fs::exists(dir / "resumed.h5.partial"));

  CropStore a(dir / "full.h5"), b(dir / "resumed.h5");
  EXPECT_EQ(a.boxes(), b.boxes());
  EXPECT_EQ(a.image_paths(), b.image_paths());
  EXPECT_EQ(a.features_f16(0, a.size()), b.features_f16(0, b.size()));
  EXPECT_EQ(a.features_sha256(), b.features_sha256());
}

TEST(Crops, DatasetNormUsesMeansOfPerFrameStatistics) {
  TempDir dir;
  cv::Mat flat(10, 20, CV_8UC3, cv::Scalar(51, 102, 255));  // R G B = 0.2 0.4 1.0
  cv::Mat halves(10, 20, CV_8UC3, cv::Scalar(0, 0, 0));
  halves(cv::Rect(0, 0, 20, 5)).setTo(cv::Scalar(255, 255, 255));
  write_png(dir / "flat.png", flat);
  write_png(dir / "halves.png", halves);
  ChannelStats s = dataset_channel_stats({dir / "flat.png", dir / "halves.png"}, 1000, 0, 1);
  EXPECT_EQ(s.frames, 2);
  const double half_std = 0.5 * std::sqrt(200.0 / 199.0);  // unbiased std of 100 zeros and 100 ones
  EXPECT_NEAR(s.mean[0], (0.2 + 0.5) / 2, 1e-7);
  EXPECT_NEAR(s.mean[2], (1.0 + 0.5) / 2, 1e-7);
  EXPECT_NEAR(s.std[1], half_std / 2, 1e-7);
  // At most max_frames, chosen by the seed.
  EXPECT_EQ(dataset_channel_stats({dir / "flat.png", dir / "halves.png"}, 1, 0, 1).frames, 1);

  // The store records the statistics it normalised with.
  CropsOptions o = quiet_options(write_list(dir, "l.csv", {write_frame(dir, "a.png", 200, 200, 1)}), dir / "n.h5");
  o.norm = CropNorm::dataset;
  o.crops_per_image = 1;
  CropsResult r = compute_crops(o);
  CropStore st(dir / "n.h5");
  EXPECT_EQ(st.meta().norm, "dataset");
  EXPECT_EQ(st.meta().norm_mean, r.mean);
  EXPECT_GT(r.mean[0], 0.1);
  EXPECT_NE(r.mean[0], 0.485);
}

TEST(CropStore, RejectsForeignAndUnfinishedFiles) {
  TempDir dir;
  {
    H5::H5File f = h5::create_file(dir / "other.h5");
    h5::write_store_header(f, "match", 1, "", "");
  }
  EXPECT_NE(user_error_message([&] { CropStore s(dir / "other.h5"); }).find("'match' store"), std::string::npos);
  {
    CropStoreMeta m;
    CropStoreWriter w(dir / "partial.h5", m, "cmd", "");
  }
  EXPECT_NE(user_error_message([&] { CropStore s(dir / "partial.h5"); }).find("--resume"), std::string::npos);
  write_text(dir / "text.h5", "no");
  EXPECT_NE(user_error_message([&] { CropStore s(dir / "text.h5"); }).find("not an HDF5 file"), std::string::npos);
}

}  // namespace
}  // namespace epe::test
