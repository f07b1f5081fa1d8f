#include "epe/demo/demo_data.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <opencv2/core.hpp>

#include "epe/core/error.h"
#include "epe/io/classes.h"
#include "epe/io/file_list.h"
#include "epe/io/gbuffers.h"
#include "epe/io/image.h"
#include "epe/io/labels.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace epe {

namespace {
DemoOptions small(const std::string& out, std::uint64_t seed) {
  DemoOptions o;
  o.out = out;
  o.images = 3;
  o.height = 64;
  o.width = 112;
  o.seed = seed;
  return o;
}

std::vector<std::string> files_under(const std::string& root) {
  std::vector<std::string> v;
  for (auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file()) v.push_back(fs::relative(e.path(), root).string());
  std::sort(v.begin(), v.end());
  return v;
}
}  // namespace

TEST(DemoData, SameSeedGivesByteIdenticalFilesOtherSeedDiffers) {
  test::TempDir dir;
  make_demo_data(small(dir / "a", 5));
  DemoOptions b = small(dir / "b", 5);
  b.threads = 1;  // thread count must not matter
  make_demo_data(b);
  make_demo_data(small(dir / "c", 6));
  auto fa = files_under(dir / "a");
  ASSERT_EQ(fa, files_under(dir / "b"));
  ASSERT_EQ(fa.size(), 3u * 6 + 2);  // 4 synthetic + 2 real files per frame, 2 lists
  int differing = 0;
  for (auto& f : fa) {
    EXPECT_EQ(test::read_text(dir / ("a/" + f)), test::read_text(dir / ("b/" + f))) << f;
    differing += test::read_text(dir / ("a/" + f)) != test::read_text(dir / ("c/" + f));
  }
  EXPECT_GE(differing, 3 * 6) << "another seed must change every frame";
}

TEST(DemoData, SyntheticTextureChangesOnlyTheSyntheticFramesAndIsInTheirAlbedo) {
  test::TempDir dir;
  make_demo_data(small(dir / "flat", 5));
  DemoOptions o = small(dir / "tex", 5);
  o.synthetic_texture = true;
  const DemoResult r = make_demo_data(o);
  for (const auto& f : files_under(dir / "flat")) {
    const bool same = test::read_text(dir / ("flat/" + f)) == test::read_text(dir / ("tex/" + f));
    // Real frames and every label map stay byte-identical; synthetic images and G-buffers change.
    if (f.rfind("real", 0) == 0 || f.find("labels") != std::string::npos || f.find(".csv") != std::string::npos) {
      EXPECT_TRUE(same) << f;
    } else if (f.find("images") != std::string::npos || f.find("gbuffers") != std::string::npos) {
      EXPECT_FALSE(same) << f;
    }
  }
  // The texture is in the albedo channels: within one flat-coloured road region the untextured
  // albedo is constant and the textured one varies by about ±25 %.
  const FileList syn = read_file_list(r.synthetic_list, DatasetKind::synthetic);
  const GBuffers flat = read_gbuffers(dir / "flat/synthetic/gbuffers/0000.h5");
  const GBuffers tex = read_gbuffers(syn.rows[0].gbuffers());
  const cv::Mat gt = read_label_map(syn.rows[0].gt_labels(), 255, true);
  double lo = 10, hi = 0, ratio_lo = 10, ratio_hi = 0;
  for (int y = 0; y < tex.height; ++y)
    for (int x = 0; x < tex.width; ++x) {
      if (gt.at<std::uint8_t>(y, x) != cs::road) continue;
      const double a = tex.at(y, x, 4), a0 = flat.at(y, x, 4);
      if (a0 > 0.5) continue;  // the centre line
      lo = std::min(lo, a), hi = std::max(hi, a);
      ratio_lo = std::min(ratio_lo, a / a0), ratio_hi = std::max(ratio_hi, a / a0);
    }
  EXPECT_GT(hi - lo, 0.05);
  // ±0.25 is the noise amplitude; bicubic interpolation of the noise grid overshoots it a little.
  EXPECT_GE(ratio_lo, 0.70);
  EXPECT_LE(ratio_hi, 1.30);
  EXPECT_LT(ratio_lo, 0.95);
  EXPECT_GT(ratio_hi, 1.05);
}

TEST(DemoData, FramesAreConsistentWithTheirLabelsAndGBuffers) {
  test::TempDir dir;
  DemoResult r = make_demo_data(small(dir / "d", 1));
  FileList syn = read_file_list(r.synthetic_list, DatasetKind::synthetic);
  ASSERT_EQ(syn.rows.size(), 3u);
  const auto& to_uni = cityscapes_to_universal();
  // The material channel follows the shipped table, the one epe train reads.
  const MaterialTable& mt = demo_material_table();
  ASSERT_EQ(mt.names.size(), 12u);
  EXPECT_EQ(mt.of_id[cs::sky], 0);
  EXPECT_EQ(mt.of_id[cs::sidewalk], 1);
  EXPECT_EQ(mt.of_id[cs::building], 10);
  EXPECT_EQ(mt.of_id[1], 9);   // ego vehicle
  EXPECT_EQ(mt.of_id[6], 11);  // ground: unlabeled
  EXPECT_EQ(mt.of_id[255], 11);
  EXPECT_EQ(mt.names[6], "infrastructure");
  for (auto& row : syn.rows) {
    cv::Mat img = read_image(row.image());
    cv::Mat gt = read_label_map(row.gt_labels(), 33);
    cv::Mat rob = read_label_map(row.robust_labels());
    GBuffers g = read_gbuffers(row.gbuffers());
    ASSERT_EQ(g.names, demo_gbuffer_channels());
    ASSERT_EQ(img.rows, g.height);
    for (int y = 0; y < gt.rows; ++y)
      for (int x = 0; x < gt.cols; ++x) {
        int id = gt.at<std::uint8_t>(y, x);
        ASSERT_EQ(rob.at<std::uint8_t>(y, x), to_uni[id]) << "robust label = mapped GT label";
        ASSERT_EQ(static_cast<int>(g.at(y, x, 7)), mt.of_id[id]) << "material channel";
        if (id == cs::sky) {  // sky is unshaded: image = albedo (to 8-bit precision)
          for (int k = 0; k < 3; ++k) ASSERT_NEAR(img.at<cv::Vec3f>(y, x)[k], g.at(y, x, 4 + k), 2.5e-3);
        }
      }
  }
}

TEST(DemoData, LayoutsDifferByDesign) {
  // Synthetic frames: horizon higher (0.40 H vs 0.52 H), more vegetation, grass verges.
  const int h = 96, w = 160, n = 12;
  double sky_row_syn = 0, sky_row_real = 0, veg_syn = 0, veg_real = 0, terrain_real = 0;
  for (int i = 0; i < n; ++i) {
    for (bool real : {false, true}) {
      DemoFrame f = render_demo_frame(real, i, h, w, 0);
      // lowest sky pixel in the centre column ~ horizon
      int lowest = 0;
      for (int y = 0; y < h; ++y)
        if (f.gt_labels.at<std::uint8_t>(y, w / 2) == cs::sky) lowest = y;
      double veg = cv::countNonZero(f.gt_labels == cs::vegetation) / double(h * w);
      (real ? sky_row_real : sky_row_syn) += lowest / double(h) / n;
      (real ? veg_real : veg_syn) += veg / n;
      if (real) terrain_real += cv::countNonZero(f.gt_labels == cs::terrain);
    }
  }
  EXPECT_LT(sky_row_syn + 0.08, sky_row_real);
  EXPECT_GT(veg_syn, 2 * veg_real);
  EXPECT_EQ(terrain_real, 0);
}

TEST(DemoData, RefusesAnExistingOutputWithoutForce) {
  test::TempDir dir;
  make_demo_data(small(dir / "d", 0));
  EXPECT_THROW(make_demo_data(small(dir / "d", 0)), UserError);
  DemoOptions f = small(dir / "d", 0);
  f.force = true;
  EXPECT_NO_THROW(make_demo_data(f));
  // --force replaces earlier demo data only, never an unrelated folder.
  std::filesystem::create_directories(dir / "mine");
  test::write_text(dir / "mine/precious.txt", "keep");
  DemoOptions g = small(dir / "mine", 0);
  g.force = true;
  EXPECT_THROW(make_demo_data(g), UserError);
  EXPECT_EQ(test::read_text(dir / "mine/precious.txt"), "keep");
  DemoOptions bad = small(dir / "e", 0);
  bad.height = 8;
  EXPECT_THROW(make_demo_data(bad), UserError);
  EXPECT_FALSE(fs::exists(dir / "e"));
}

}  // namespace epe
