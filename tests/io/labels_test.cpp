#include "epe/io/labels.h"

#include <gtest/gtest.h>

#include <cstring>
#include <opencv2/core.hpp>

#include "epe/core/error.h"
#include "epe/io/file_list.h"
#include "epe/io/image.h"
#include "epe/io/npz.h"
#include "test_util.h"

namespace epe {
namespace {

const std::string kDir = std::string(EPE_FIXTURES_DIR) + "/labels/";

// ids.npz[key] as a CV_8UC1 map (the ids make_label_fixture.py wrote into the PNGs).
cv::Mat expected(const std::string& key) {
  NpyArray a = read_npz_array(kDir + "ids.npz", key);
  EXPECT_EQ(a.dtype, "|u1");
  cv::Mat m(static_cast<int>(a.shape[0]), static_cast<int>(a.shape[1]), CV_8UC1);
  std::memcpy(m.data, a.data.data(), a.data.size());
  return m;
}

bool same(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && cv::countNonZero(a != b) == 0;
}

}  // namespace

TEST(Labels, ValidMapIsRead) {
  test::TempDir dir;
  cv::Mat l(4, 5, CV_8UC1, cv::Scalar(193));
  l.at<std::uint8_t>(1, 1) = 255;
  l.at<std::uint8_t>(2, 2) = 0;
  write_png(dir / "l.png", l);
  cv::Mat r = read_label_map(dir / "l.png");
  EXPECT_EQ(cv::countNonZero(r != l), 0);
}

TEST(Labels, OutOfRangeIdIsReportedWithItsPixel) {
  test::TempDir dir;
  cv::Mat l(4, 5, CV_8UC1, cv::Scalar(3));
  l.at<std::uint8_t>(2, 4) = 200;
  write_png(dir / "l.png", l);
  try {
    read_label_map(dir / "l.png");
    FAIL();
  } catch (const UserError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("label id 200 at (row 2, col 4)"), std::string::npos) << m;
  }
  EXPECT_NO_THROW(read_label_map(dir / "l.png", 254));
}

TEST(Labels, SizeMustEqualTheImages) {
  cv::Mat l(4, 5, CV_8UC1, cv::Scalar(0));
  EXPECT_NO_THROW(check_same_size(l, "l.png", 4, 5, "i.png"));
  try {
    check_same_size(l, "l.png", 8, 10, "i.png");
    FAIL();
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("4x5"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("8x10"), std::string::npos) << e.what();
  }
}

TEST(Labels, PalettePngGivesItsIndices) {
  // PIL mode P (Playing for Data / GTA5, Vistas v1.2): the index is the id, the palette is ignored.
  EXPECT_TRUE(same(read_label_map(kDir + "palette.png", 255), expected("ids")));
  cv::Mat mod16 = expected("ids");
  for (auto it = mod16.begin<std::uint8_t>(); it != mod16.end<std::uint8_t>(); ++it) *it %= 16;
  EXPECT_TRUE(same(read_label_map(kDir + "palette4.png", 255), mod16));  // 4-bit palette
}

TEST(Labels, SixteenBitGrayMustFitTheLabelRange) {
  EXPECT_TRUE(same(read_label_map(kDir + "gray16.png", 255), expected("ids")));
  const std::string msg = test::user_error_message([] { read_label_map(kDir + "gray16_big.png", 255); });
  EXPECT_NE(msg.find("gray16_big.png"), std::string::npos) << msg;
  EXPECT_NE(msg.find("16-bit PNG with id 4000 at (row 2, col 5)"), std::string::npos) << msg;
}

TEST(Labels, ColourMapsGoThroughTheColourTable) {
  LabelFormat f;
  f.colors = "viper_colors";  // shipped: data/labels/viper_colors.tsv
  EXPECT_TRUE(same(read_label_map(kDir + "viper_rgb.png", 255, true, f), expected("viper")));
  const std::string msg = test::user_error_message([&] { read_label_map(kDir + "viper_unknown.png", 255, true, f); });
  EXPECT_NE(msg.find("viper_unknown.png"), std::string::npos) << msg;
  EXPECT_NE(msg.find("colour (1, 2, 3) at (row 4, col 6)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("not in the colour table"), std::string::npos) << msg;
  // Without a table a colour map is an error that says what was found.
  const std::string none = test::user_error_message([] { read_label_map(kDir + "viper_rgb.png", 255); });
  EXPECT_NE(none.find("colour-coded RGB PNG"), std::string::npos) << none;
  EXPECT_NE(none.find("no colour table"), std::string::npos) << none;
}

TEST(Labels, AmbiguousColoursAreNamed) {
  // VIPER gives van (25) and train (29) the same colour.
  test::TempDir dir;
  const ColorTable& t = ColorTable::load("viper_colors");
  EXPECT_EQ(t.find((0u << 16) | (80u << 8) | 100u), -2);
  EXPECT_EQ(t.names.at(25), "van");
  cv::Mat m(2, 3, CV_32FC3, cv::Scalar(0.f, 80.f / 255.f, 100.f / 255.f));
  write_png(dir / "amb.png", m);
  LabelFormat f;
  f.colors = "viper_colors";
  const std::string msg = test::user_error_message([&] { read_label_map(dir / "amb.png", 255, true, f); });
  EXPECT_NE(msg.find("more than one class"), std::string::npos) << msg;
}

TEST(Labels, IdInOneChannel) {
  LabelFormat f;
  f.channel = 0;  // CARLA's raw semantic camera: the tag in R
  EXPECT_TRUE(same(read_label_map(kDir + "carla_raw.png", 28, false, f), expected("carla")));
}

TEST(Labels, GrayStoredAsRgbIsGray) {
  EXPECT_TRUE(same(read_label_map(kDir + "gray_as_rgb.png", 255), expected("ids")));
}

TEST(Labels, RemapTableMapsEveryId) {
  // Cityscapes labelIds -> MSeg universal ids through the shipped table.
  LabelFormat f;
  f.remap = "cityscapes-34_to_universal";
  const cv::Mat u = read_label_map(kDir + "palette.png", kUniversalClasses - 1, true, f);
  const cv::Mat ids = expected("ids");
  const std::vector<int>& lut = load_id_table(resolve_label_table("cityscapes-34_to_universal", "t"));
  EXPECT_EQ(lut[7], 98);    // road
  EXPECT_EQ(lut[23], 142);  // sky
  EXPECT_EQ(lut[0], 255);
  for (int r = 0; r < ids.rows; ++r)
    for (int c = 0; c < ids.cols; ++c) ASSERT_EQ(u.at<std::uint8_t>(r, c), lut[ids.at<std::uint8_t>(r, c)]);
}

TEST(Labels, UnreadableEncodingsNameWhatWasFound) {
  test::TempDir dir;
  std::string msg = test::user_error_message([&] { read_label_map(kDir + "gray_alpha.png"); });
  EXPECT_NE(msg.find("gray_alpha.png"), std::string::npos) << msg;
  EXPECT_NE(msg.find("gray+alpha PNG"), std::string::npos) << msg;
  test::write_text(dir / "cut.png",
                   test::read_text(kDir + "palette.png").substr(0, 100) + std::string("IEND\xae\x42\x60\x82", 8));
  msg = test::user_error_message([&] { read_label_map(dir / "cut.png"); });
  EXPECT_NE(msg.find("cut.png"), std::string::npos) << msg;
  EXPECT_NE(msg.find("cannot be decoded"), std::string::npos) << msg;
}

TEST(Labels, TableNamesResolveOrAreListed) {
  EXPECT_NE(resolve_label_table("viper_colors", "t").find("data/labels/viper_colors.tsv"), std::string::npos);
  EXPECT_NE(resolve_label_table("viper", "t").find("viper"), std::string::npos);
  const std::string msg = test::user_error_message([] { resolve_label_table("nope", "colour table"); });
  EXPECT_NE(msg.find("colour table 'nope'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("viper_colors"), std::string::npos) << msg;
}

TEST(Labels, ListDirectivesCarryTheFormat) {
  test::TempDir dir;
  test::write_text(dir / "t.tsv", "id\tname\tr\tg\tb\n3\tthree\t10\t20\t30\n");
  test::write_text(dir / "l.csv",
                   "# epe: layout = viper\n# epe: gt_colors = t.tsv\n# epe: robust_remap = cityscapes-34_to_universal\n"
                   "# epe: gt_channel = g\n# epe: materials = viper_to_material\n"
                   "a.png,,g.h5,b.png\n");
  FileList l = read_file_list(dir / "l.csv", DatasetKind::synthetic);
  EXPECT_EQ(l.format.gt.colors, dir / "t.tsv");
  EXPECT_EQ(l.format.gt.channel, 1);
  EXPECT_NE(l.format.robust.remap.find("mseg/cityscapes-34_to_universal.tsv"), std::string::npos);
  EXPECT_NE(l.format.materials.find("labels/viper_to_material.tsv"), std::string::npos);
  // Written back (into another folder): shipped tables by name, others relative to the new list.
  test::TempDir other;
  write_file_list(other / "m.csv", {{"x.png", "", "g.h5", "y.png"}}, l.format);
  const std::string text = test::read_text(other / "m.csv");
  EXPECT_NE(text.find("# epe: layout = viper\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# epe: robust_remap = cityscapes-34_to_universal\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# epe: gt_channel = g\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# epe: materials = viper_to_material\n"), std::string::npos) << text;
  FileList back = read_file_list(other / "m.csv", DatasetKind::synthetic);
  EXPECT_EQ(back.format.gt.colors, l.format.gt.colors);
  EXPECT_EQ(back.format.materials, l.format.materials);
  // Unknown keys and bad values name the line.
  test::write_text(dir / "bad.csv", "a.png,\n# epe: gt_colours = t.tsv\n");
  std::string msg = test::user_error_message([&] { read_file_list(dir / "bad.csv", DatasetKind::real); });
  EXPECT_NE(msg.find("bad.csv:2: unknown directive 'gt_colours'"), std::string::npos) << msg;
  test::write_text(dir / "bad2.csv", "# epe: gt_channel = alpha\na.png,\n");
  msg = test::user_error_message([&] { read_file_list(dir / "bad2.csv", DatasetKind::real); });
  EXPECT_NE(msg.find("bad2.csv:1:"), std::string::npos) << msg;
}

}  // namespace epe
