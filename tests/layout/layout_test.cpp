// Layout analysis (epe layout): planted layouts with hand-computed numbers, error reports,
// and the sampling analysis on a planted match store.

#include "epe/layout/layout.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <opencv2/core.hpp>

#include "epe/core/rng.h"
#include "epe/crops/crop_store.h"
#include "epe/io/file_list.h"
#include "epe/io/image.h"
#include "epe/match/match.h"
#include "epe/match/weights.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace epe::test {
namespace {

cv::Mat labels_of(int h, int w, int fill) {
  return cv::Mat(h, w, CV_8UC1, cv::Scalar(fill));
}

// Writes frame/label PNG pairs and a 2-column list; returns the list path.
std::string write_set(const TempDir& dir, const std::string& name, const std::vector<cv::Mat>& labels) {
  fs::create_directories(dir / name);
  std::vector<std::vector<std::string>> rows;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const std::string img = dir / cat(name, "/frame", i, ".png"), lab = dir / cat(name, "/labels", i, ".png");
    write_png(img, cv::Mat(labels[i].size(), CV_8UC3, cv::Scalar(90, 120, 150)));
    write_png(lab, labels[i]);
    rows.push_back({img, lab});
  }
  const std::string list = dir / (name + ".csv");
  write_file_list(list, rows);
  return list;
}

LayoutStats layout_of(const std::string& list, int gh, int gw, int threads = 2) {
  return accumulate_layout(read_image_list(list), LabelKind::robust, gh, gw, threads);
}

TEST(Layout, SharesAndMapsEqualHandComputedValues) {
  TempDir dir;
  // Frame 0 (4x4): class 1 in the top-left 2x2 block, class 2 elsewhere except one unlabeled pixel.
  cv::Mat f0 = labels_of(4, 4, 2);
  f0(cv::Rect(0, 0, 2, 2)).setTo(1);
  f0.at<std::uint8_t>(3, 3) = 255;
  // Frame 1 (8x8, another size): class 1 in the bottom-right quarter, class 3 elsewhere.
  cv::Mat f1 = labels_of(8, 8, 3);
  f1(cv::Rect(4, 4, 4, 4)).setTo(1);
  const LayoutStats s = layout_of(write_set(dir, "a", {f0, f1}), 2, 2);
  EXPECT_EQ(s.frames, 2);
  EXPECT_EQ(s.class_pixels[1], 4 + 16);
  EXPECT_EQ(s.class_pixels[2], 11);
  EXPECT_EQ(s.class_pixels[3], 48);
  EXPECT_EQ(s.unlabeled_pixels, 1);
  EXPECT_EQ(s.labeled_pixels, 79);
  EXPECT_EQ(s.class_images[1], 2);
  EXPECT_EQ(s.class_images[2], 1);
  EXPECT_EQ(s.class_images[0], 0);
  EXPECT_DOUBLE_EQ(s.share(1), 20.0 / 79.0);
  EXPECT_DOUBLE_EQ(s.image_share(3), 0.5);
  // Class 1 covers cell (0,0) of frame 0 and cell (1,1) of frame 1 entirely: P = 1/2 each.
  const float* m1 = s.map(1);
  EXPECT_FLOAT_EQ(m1[0], 0.5f);
  EXPECT_FLOAT_EQ(m1[1], 0.f);
  EXPECT_FLOAT_EQ(m1[2], 0.f);
  EXPECT_FLOAT_EQ(m1[3], 0.5f);
  // Class 2 in frame 0 covers cells (0,1), (1,0) fully and 3/4 of (1,1): 1, 1, 0.75 over 2.75.
  const float* m2 = s.map(2);
  EXPECT_FLOAT_EQ(m2[0], 0.f);
  EXPECT_FLOAT_EQ(m2[1], static_cast<float>(1 / 2.75));
  EXPECT_FLOAT_EQ(m2[2], static_cast<float>(1 / 2.75));
  EXPECT_FLOAT_EQ(m2[3], static_cast<float>(0.75 / 2.75));
  // Classes never seen have an all-zero map; seen ones sum to 1.
  for (int c = 0; c < s.classes; ++c) {
    double sum = 0;
    for (int i = 0; i < 4; ++i) sum += s.map(c)[i];
    EXPECT_NEAR(sum, s.class_pixels[c] ? 1.0 : 0.0, 1e-6) << c;
  }
  EXPECT_EQ(s.frame_sizes, "4x4:1,8x8:1");
}

TEST(Layout, CellsOfFramesNotDivisibleByTheGridAreFractionsOfTheirArea) {
  TempDir dir;
  // 3x3 frame on a 2x2 grid: rows 0,1 -> cell 0 and row 2 -> cell 1 (floor(r*2/3)); same for
  // columns. Cell areas: (0,0) 4, (0,1) 2, (1,0) 2, (1,1) 1.
  cv::Mat f = labels_of(3, 3, 5);
  f.at<std::uint8_t>(0, 0) = 6;  // class 6: 1 of the 4 pixels of cell (0,0)
  f.at<std::uint8_t>(2, 2) = 6;  // and all of cell (1,1)
  const LayoutStats s = layout_of(write_set(dir, "a", {f}), 2, 2);
  // fractions 1/4 and 1 -> P = 0.2, 0.8
  EXPECT_FLOAT_EQ(s.map(6)[0], 0.2f);
  EXPECT_FLOAT_EQ(s.map(6)[3], 0.8f);
  // class 5: fractions 3/4, 1, 1, 0 -> over 2.75
  EXPECT_FLOAT_EQ(s.map(5)[0], static_cast<float>(0.75 / 2.75));
  EXPECT_FLOAT_EQ(s.map(5)[1], static_cast<float>(1 / 2.75));
  EXPECT_FLOAT_EQ(s.map(5)[2], static_cast<float>(1 / 2.75));
  EXPECT_FLOAT_EQ(s.map(5)[3], 0.f);
}

TEST(Layout, IdenticalDatasetsHaveNoMismatch) {
  TempDir dir;
  std::vector<cv::Mat> frames;
  Rng rng(7);
  for (int i = 0; i < 5; ++i) {
    cv::Mat f(40, 60, CV_8UC1);
    for (int r = 0; r < f.rows; ++r)
      for (int c = 0; c < f.cols; ++c) f.at<std::uint8_t>(r, c) = static_cast<std::uint8_t>((r / 10 + c / 15 + i) % 5);
    frames.push_back(f);
  }
  const std::string list = write_set(dir, "a", frames);
  // Different thread counts accumulate the same numbers.
  const LayoutStats a = layout_of(list, 8, 16, 1), b = layout_of(list, 8, 16, 3);
  EXPECT_EQ(a.location, b.location);
  const LayoutComparison c = compare_layouts(a, b);
  ASSERT_EQ(c.classes.size(), 5u);
  for (const auto& k : c.classes) {
    EXPECT_EQ(k.tv, 0.0);
    EXPECT_EQ(k.js, 0.0);
    EXPECT_EQ(k.share_a, k.share_b);
  }
  EXPECT_EQ(c.overall_tv, 0.0);
  EXPECT_EQ(c.overall_js, 0.0);
}

TEST(Layout, TopHalfAgainstBottomHalfIsTotalVariationOne) {
  TempDir dir;
  std::vector<cv::Mat> top, bottom;
  for (int i = 0; i < 3; ++i) {
    cv::Mat t = labels_of(64, 96, 10), b = labels_of(64, 96, 10);
    t(cv::Rect(10 * i, 0, 30, 32)).setTo(20);   // class 20 only in the top half of A
    b(cv::Rect(10 * i, 32, 30, 32)).setTo(20);  // and only in the bottom half of B
    top.push_back(t);
    bottom.push_back(b);
  }
  const LayoutStats a = layout_of(write_set(dir, "a", top), 16, 32), b = layout_of(write_set(dir, "b", bottom), 16, 32);
  const LayoutComparison c = compare_layouts(a, b);
  const ClassComparison* k20 = nullptr;
  for (const auto& k : c.classes)
    if (k.id == 20) k20 = &k;
  ASSERT_NE(k20, nullptr);
  EXPECT_NEAR(k20->tv, 1.0, 1e-12);  // exact up to double rounding of the renormalised maps
  EXPECT_NEAR(k20->js, 1.0, 1e-12);
  EXPECT_DOUBLE_EQ(k20->share_a, k20->share_b);
  EXPECT_DOUBLE_EQ(k20->share_a, 3 * 30 * 32 / (3.0 * 64 * 96));
  EXPECT_DOUBLE_EQ(k20->mismatch, k20->weight * k20->tv);
  // Class 10 fills the rest: weight x tv summed into the overall score.
  double overall = 0;
  for (const auto& k : c.classes) overall += 0.5 * (k.share_a + k.share_b) * k.tv;
  EXPECT_DOUBLE_EQ(c.overall_tv, overall);
  // A class in only one dataset counts as fully mismatched.
  top[0].at<std::uint8_t>(0, 0) = 30;
  const LayoutStats a2 = layout_of(write_set(dir, "a2", top), 16, 32);
  int seen = 0;
  for (const auto& k : compare_layouts(a2, b).classes) {
    if (k.id != 30) continue;
    EXPECT_EQ(k.tv, 1.0);
    EXPECT_EQ(k.js, 1.0);
    EXPECT_EQ(k.share_b, 0.0);
    ++seen;
  }
  EXPECT_EQ(seen, 1);
}

TEST(Layout, StoreRoundTripsAndRejectsOtherFiles) {
  TempDir dir;
  cv::Mat f = labels_of(20, 30, 4);
  f(cv::Rect(0, 0, 10, 5)).setTo(7);
  LayoutStats s = layout_of(write_set(dir, "a", {f, f}), 4, 6);
  s.name = "a";
  write_layout_store(dir / "a.h5", s, "cmd", "");
  const LayoutStats r = read_layout_store(dir / "a.h5");
  EXPECT_EQ(r.name, "a");
  EXPECT_EQ(r.class_pixels, s.class_pixels);
  EXPECT_EQ(r.class_images, s.class_images);
  EXPECT_EQ(r.location, s.location);
  EXPECT_EQ(r.class_names[7], s.class_names[7]);
  EXPECT_EQ(r.frames, 2);
  EXPECT_EQ(r.grid_h, 4);
  write_text(dir / "x.h5", "not hdf5");
  EXPECT_NE(user_error_message([&] { read_layout_store(dir / "x.h5"); }).find("x.h5"), std::string::npos);
  truncate_file(dir / "a.h5", 300);
  EXPECT_NE(user_error_message([&] { read_layout_store(dir / "a.h5"); }).find("a.h5"), std::string::npos);
}

TEST(Layout, WrongSizeAndInvalidIdsNameTheFileAndLine) {
  TempDir dir;
  const std::string list = write_set(dir, "a", {labels_of(10, 10, 1), labels_of(10, 10, 2), labels_of(10, 10, 3)});
  // Row 3: label map of another size than its image.
  write_png(dir / "a/labels2.png", labels_of(10, 12, 3));
  std::string msg = user_error_message([&] { layout_of(list, 2, 2); });
  EXPECT_NE(msg.find("a.csv:3:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("labels2.png"), std::string::npos) << msg;
  EXPECT_NE(msg.find("10x12"), std::string::npos) << msg;
  // Row 2: id 200 is not an MSeg class.
  write_png(dir / "a/labels2.png", labels_of(10, 10, 3));
  cv::Mat bad = labels_of(10, 10, 2);
  bad.at<std::uint8_t>(4, 5) = 200;
  write_png(dir / "a/labels1.png", bad);
  msg = user_error_message([&] { layout_of(list, 2, 2); });
  EXPECT_NE(msg.find("a.csv:2:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("label id 200"), std::string::npos) << msg;
  // --labels gt on a real list.
  msg = user_error_message([&] { accumulate_layout(read_image_list(list), LabelKind::gt, 2, 2, 1); });
  EXPECT_NE(msg.find("a.csv:1:"), std::string::npos) << msg;
}

TEST(Layout, DistancesOfSimpleDistributions) {
  const float p[4] = {0.5f, 0.5f, 0, 0}, q[4] = {0, 0.5f, 0.5f, 0};
  EXPECT_DOUBLE_EQ(total_variation(p, q, 4), 0.5);
  // JS = 1/2 [0.5 log2(0.5/0.25) + 0.5 log2(1)] * 2 = 0.5
  EXPECT_NEAR(js_divergence(p, q, 4), 0.5, 1e-12);
  EXPECT_DOUBLE_EQ(js_divergence(std::vector<double>{2, 0}, std::vector<double>{0, 5}), 1.0);
  EXPECT_DOUBLE_EQ(js_divergence(std::vector<double>{1, 3}, std::vector<double>{2, 6}), 0.0);
}

// Source and target frames f are filled with class f; crop i lies on frame i % 3 of both
// sets and has feature e_(i % 3), so every kept match pairs crops of the same class.
TEST(LayoutSampling, MatchedPairsAgreeAndRandomPairsAgreeByChance) {
  TempDir dir;
  const int frames = 3, n = 30, d = 4;
  std::vector<cv::Mat> labels;
  for (int f = 0; f < frames; ++f) labels.push_back(labels_of(240, 300, 11 + f));
  const std::string la = write_set(dir, "syn", labels), lb = write_set(dir, "real", labels);
  for (const char* side : {"syn", "real"}) {
    CropStoreMeta m;
    m.name = side;
    m.dim = d;
    CropStoreWriter wr(dir / cat(side, ".h5"), m, "test", "");
    for (int f = 0; f < frames; ++f) wr.add_image(dir / cat(side, "/frame", f, ".png"), 240, 300);
    std::vector<CropBox> boxes;
    std::vector<float> feat(std::size_t(n) * d, 0.f);
    for (int i = 0; i < n; ++i) {
      boxes.push_back({i % frames, i % 20, i % 20 + 200, 3 * i, 3 * i + 200});
      feat[std::size_t(i) * d + i % frames] = 1.f;
    }
    wr.add_crops(boxes.data(), feat.data(), n);
    wr.commit(frames, 0);
    wr.finish();
  }
  MatchOptions mo;
  mo.src = dir / "syn.h5";
  mo.dst = dir / "real.h5";
  mo.out = dir / "m.h5";
  mo.k = 2;
  compute_matches(mo);
  SamplingOptions so;
  so.matches = dir / "m.h5";
  so.pairs = 500;
  so.grid = 8;
  so.seed = 5;
  const FileList a = read_image_list(la), b = read_image_list(lb);
  std::vector<SamplingRow> rows = sampling_analysis(so, a, b, LabelKind::robust);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].strategy, "random");
  // random: agreement 1 exactly when both crops come from the same frame index
  Rng rng(so.seed, 1);
  int same = 0;
  for (int i = 0; i < so.pairs; ++i) {
    const auto s = rng.uniform_int(std::uint64_t(n)), t = rng.uniform_int(std::uint64_t(n));
    same += s % frames == t % frames;
  }
  EXPECT_DOUBLE_EQ(rows[0].agreement, double(same) / so.pairs);
  EXPECT_GT(rows[0].agreement_sem, 0.0);
  EXPECT_DOUBLE_EQ(rows[1].agreement, 1.0);
  EXPECT_EQ(rows[1].class_js, 0.0);
  EXPECT_EQ(rows[1].pairs, 500);
  EXPECT_FALSE(rows[2].available);  // no weights yet
  EXPECT_NE(rows[2].note.find("epe weights"), std::string::npos);
  WeightsOptions wo;
  wo.store = dir / "m.h5";
  compute_weights(wo);
  rows = sampling_analysis(so, a, b, LabelKind::robust);
  EXPECT_TRUE(rows[2].available);
  EXPECT_DOUBLE_EQ(rows[2].agreement, 1.0);
  // Lists given the other way round: the crop store frames are not in them.
  const std::string msg = user_error_message([&] {
    FileList other = a;
    other.rows.pop_back();
    sampling_analysis(so, other, b, LabelKind::robust);
  });
  EXPECT_NE(msg.find("frame2.png"), std::string::npos) << msg;
}

}  // namespace
}  // namespace epe::test
