// `epe lists` layouts on small replicas of each dataset's folder tree and file naming.

#include "epe/io/list_builder.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <opencv2/core.hpp>

#include "epe/io/file_list.h"
#include "epe/io/image.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace epe {
namespace {

// A tiny PNG (or a file with the given extension) at root/rel, folders created.
void touch(const std::string& root, const std::string& rel) {
  const fs::path p = fs::path(root) / rel;
  fs::create_directories(p.parent_path());
  if (p.extension() == ".png")
    write_png(p.string(), cv::Mat(4, 6, CV_8UC1, cv::Scalar(7)));
  else
    test::write_text(p.string(), "x");
}

ListsResult build(const std::string& layout, const std::string& root, const std::string& out,
                  void (*tweak)(ListsOptions&) = nullptr) {
  ListsOptions o;
  o.layout = parse_choice(list_layouts(), layout, "LAYOUT");
  o.root = root;
  o.out = out;
  if (tweak) tweak(o);
  return build_list(o);
}

std::string name(const std::string& p) {
  return fs::path(p).filename().string();
}

TEST(Lists, CityscapesPairsLeftImg8bitWithGtFineLabelIds) {
  test::TempDir d;
  const std::string r = d / "cityscapes";
  for (const char* f : {"leftImg8bit/train/aachen/aachen_000000_000019_leftImg8bit.png",
                        "leftImg8bit/train/aachen/aachen_000001_000019_leftImg8bit.png",
                        "leftImg8bit/train/bochum/bochum_000000_000313_leftImg8bit.png",
                        "leftImg8bit/val/frankfurt/frankfurt_000000_000294_leftImg8bit.png",
                        "gtFine/train/aachen/aachen_000000_000019_gtFine_labelIds.png",
                        "gtFine/train/aachen/aachen_000000_000019_gtFine_labelTrainIds.png",
                        "gtFine/train/aachen/aachen_000000_000019_gtFine_color.png",
                        "gtFine/train/aachen/aachen_000000_000019_gtFine_instanceIds.png",
                        "gtFine/train/bochum/bochum_000000_000313_gtFine_labelIds.png",
                        "gtFine/train/bochum/bochum_000009_000313_gtFine_labelIds.png"})
    touch(r, f);
  ListsResult res = build("cityscapes", r, d / "cs.csv");
  EXPECT_EQ(res.kind, DatasetKind::real);
  EXPECT_EQ(res.images, 3);  // the val frame is not in the train split
  EXPECT_EQ(res.rows, 3);
  EXPECT_EQ(res.paired, 2);
  EXPECT_EQ(res.robust, 2);
  ASSERT_EQ(res.unpaired_images.size(), 1u);
  EXPECT_EQ(name(res.unpaired_images[0]), "aachen_000001_000019_leftImg8bit.png");
  ASSERT_EQ(res.unpaired_labels.size(), 1u);
  EXPECT_EQ(name(res.unpaired_labels[0]), "bochum_000009_000313_gtFine_labelIds.png");
  FileList l = read_file_list(d / "cs.csv", DatasetKind::real);
  ASSERT_EQ(l.rows.size(), 3u);
  EXPECT_EQ(name(l.rows[0].image()), "aachen_000000_000019_leftImg8bit.png");
  EXPECT_EQ(name(l.rows[0].robust_labels()), "aachen_000000_000019_gtFine_labelIds.png");
  EXPECT_EQ(l.rows[1].robust_labels(), "");
  EXPECT_EQ(name(l.rows[2].robust_labels()), "bochum_000000_000313_gtFine_labelIds.png");
  EXPECT_EQ(fs::path(l.format.robust.remap).filename(), "cityscapes-34_to_universal.tsv");
  // trainIds named explicitly, other split.
  res = build("cityscapes", r, d / "cs19.csv", [](ListsOptions& o) { o.ids = CityscapesIds::train_ids; });
  l = read_file_list(d / "cs19.csv", DatasetKind::real);
  EXPECT_EQ(name(l.rows[0].robust_labels()), "aachen_000000_000019_gtFine_labelTrainIds.png");
  EXPECT_EQ(fs::path(l.format.robust.remap).filename(), "cityscapes-19_to_universal.tsv");
  res = build("cityscapes", r, d / "val.csv", [](ListsOptions& o) { o.split = "val"; });
  EXPECT_EQ(res.rows, 1);
  EXPECT_EQ(res.robust, 0);  // no gtFine/val: left for epe segment
  // A split that is not there names what was expected and what was found.
  const std::string msg =
      test::user_error_message([&] { build("cityscapes", r, d / "t.csv", [](ListsOptions& o) { o.split = "test"; }); });
  EXPECT_NE(msg.find("leftImg8bit/test"), std::string::npos) << msg;
  EXPECT_NE(msg.find("found gtFine/ leftImg8bit/"), std::string::npos) << msg;
}

TEST(Lists, PfdAndGta5PairImagesWithPaletteLabels) {
  test::TempDir d;
  for (const char* layout : {"pfd", "gta5"}) {
    const std::string r = d / layout;
    for (const char* f : {"images/00001.png", "images/00002.png", "images/00003.png", "labels/00001.png",
                          "labels/00002.png", "labels/00004.png", "labels/00001_labelTrainIds.png"})
      touch(r, f);
    ListsResult res = build(layout, r, r + "/list.csv");
    EXPECT_EQ(res.kind, DatasetKind::synthetic);
    EXPECT_EQ(res.rows, 2) << layout;
    ASSERT_EQ(res.unpaired_images.size(), 1u);
    EXPECT_EQ(name(res.unpaired_images[0]), "00003.png");
    ASSERT_EQ(res.unpaired_labels.size(), 1u);
    EXPECT_EQ(name(res.unpaired_labels[0]), "00004.png");
    // Inside the root: relative paths, exactly as written.
    const std::string text = test::read_text(r + "/list.csv");
    EXPECT_NE(text.find("images/00001.png,labels/00001.png,,labels/00001.png\n"), std::string::npos) << text;
    EXPECT_NE(text.find("# epe: materials = cityscapes-34_to_material\n"), std::string::npos) << text;
    EXPECT_NE(text.find("# epe: robust_remap = cityscapes-34_to_universal\n"), std::string::npos) << text;
    EXPECT_NE(text.find(std::string("# epe: layout = ") + layout + "\n"), std::string::npos) << text;
    FileList l = read_file_list(r + "/list.csv", DatasetKind::synthetic);
    EXPECT_EQ(l.rows[1].gt_labels(), (fs::path(r) / "labels/00002.png").string());
  }
}

TEST(Lists, ViperPairsPerSequenceFolders) {
  test::TempDir d;
  const std::string r = d / "viper";
  for (const char* f : {"train/img/001/001_00000.jpg", "train/img/001/001_00001.jpg", "train/img/002/002_00010.png",
                        "train/cls/001/001_00000.png", "train/cls/002/002_00010.png", "val/img/003/003_00000.jpg"})
    touch(r, f);
  ListsResult res = build("viper", r, d / "viper.csv");
  EXPECT_EQ(res.rows, 2);
  EXPECT_EQ(res.robust, 0);
  ASSERT_EQ(res.unpaired_images.size(), 1u);
  EXPECT_EQ(name(res.unpaired_images[0]), "001_00001.jpg");
  FileList l = read_file_list(d / "viper.csv", DatasetKind::synthetic);
  EXPECT_EQ(name(l.rows[0].image()), "001_00000.jpg");
  EXPECT_EQ(l.rows[0].gt_labels(), (fs::path(r) / "train/cls/001/001_00000.png").string());
  EXPECT_EQ(fs::path(l.format.gt.colors).filename(), "viper_colors.tsv");
  EXPECT_EQ(fs::path(l.format.materials).filename(), "viper_to_material.tsv");
  // One split's folder as the root works too.
  EXPECT_EQ(build("viper", r + "/train", d / "split.csv").rows, 2);
  // --robust gt has no mapping for VIPER: a clear error.
  const std::string msg = test::user_error_message(
      [&] { build("viper", r, d / "v2.csv", [](ListsOptions& o) { o.robust = RobustColumn::gt; }); });
  EXPECT_NE(msg.find("no shipped mapping from VIPER"), std::string::npos) << msg;
}

TEST(Lists, VistasImagesWithV12Labels) {
  test::TempDir d;
  const std::string r = d / "vistas";
  for (const char* f :
       {"training/images/--jRsD9anHdGxv4ZOCQktA.jpg", "training/images/0a1B2c3D4e5F6g7H8i9J0k.jpg",
        "training/v1.2/labels/--jRsD9anHdGxv4ZOCQktA.png", "training/v2.0/labels/--jRsD9anHdGxv4ZOCQktA.png"})
    touch(r, f);
  ListsResult res = build("vistas", r, d / "vistas.csv");
  EXPECT_EQ(res.rows, 2);
  EXPECT_EQ(res.robust, 1);
  ASSERT_EQ(res.unpaired_images.size(), 1u);
  EXPECT_EQ(name(res.unpaired_images[0]), "0a1B2c3D4e5F6g7H8i9J0k.jpg");
  FileList l = read_file_list(d / "vistas.csv", DatasetKind::real);
  EXPECT_EQ(l.rows[0].robust_labels(), (fs::path(r) / "training/v1.2/labels/--jRsD9anHdGxv4ZOCQktA.png").string());
  EXPECT_EQ(fs::path(l.format.robust.remap).filename(), "mapillary-public65_to_universal.tsv");
  EXPECT_EQ(fs::path(l.format.robust.colors).filename(), "vistas-v1.2_colors.tsv");
  EXPECT_EQ(build("vistas", r + "/training", d / "split.csv").robust, 1);  // one split's folder as the root
}

TEST(Lists, CarlaPairsFrameIdsAcrossPaddings) {
  test::TempDir d;
  const std::string r = d / "capture";
  for (const char* f :
       {"CarlaDataset/Frames/FinalColor-0000062.png", "CarlaDataset/Frames/FinalColor-0000063.png",
        "CarlaDataset/Frames/FinalColor-0000064.png",
        "CarlaDataset/SemanticSegmentation/SemanticSegmentation-0000062.png",
        "CarlaDataset/SemanticSegmentation/SemanticSegmentation-0000063.png",
        "CarlaDataset/GBuffers/GBuffer-000062/SceneColor-000062.png",
        "CarlaDataset/GBuffersCompressed/GBuffer-0000063.npz", "CarlaDataset/RobustImages/FinalColor-0000062.png"})
    touch(r, f);
  ListsResult res = build("carla", r, d / "carla.csv");
  EXPECT_EQ(res.rows, 2);
  EXPECT_EQ(res.gbuffers, 2);
  EXPECT_EQ(res.robust, 1);
  ASSERT_EQ(res.unpaired_images.size(), 1u);
  EXPECT_EQ(name(res.unpaired_images[0]), "FinalColor-0000064.png");
  FileList l = read_file_list(d / "carla.csv", DatasetKind::synthetic);
  EXPECT_EQ(name(l.rows[0].gbuffers()), "GBuffer-000062");  // the per-buffer folder
  EXPECT_EQ(name(l.rows[1].gbuffers()), "GBuffer-0000063.npz");
  EXPECT_EQ(name(l.rows[0].robust_labels()), "FinalColor-0000062.png");
  EXPECT_EQ(name(l.rows[1].gt_labels()), "SemanticSegmentation-0000063.png");
  EXPECT_EQ(l.format.gt.channel, 0);  // raw capture: the tag in R
  EXPECT_EQ(fs::path(l.format.materials).filename(), "carla_to_material.tsv");
  build("carla", r + "/CarlaDataset", d / "pal.csv", [](ListsOptions& o) { o.carla_labels = CarlaLabels::palette; });
  l = read_file_list(d / "pal.csv", DatasetKind::synthetic);
  EXPECT_EQ(l.format.gt.channel, -1);
  EXPECT_EQ(fs::path(l.format.gt.colors).filename(), "carla_colors.tsv");
}

TEST(Lists, FolderMatchesByStemLimitsAndSamples) {
  test::TempDir d;
  const std::string r = d / "mine";
  for (int i = 0; i < 10; ++i) touch(r, "photos/" + std::to_string(100 + i) + ".jpg");
  touch(r, "photos/sub/x.png");
  touch(r, "labels/101.png");
  touch(r, "labels/sub/x.png");
  ListsResult res = build("folder", r, r + "/lists/all.csv", [](ListsOptions& o) {
    o.images = "photos";
    o.labels = "labels";
  });
  EXPECT_EQ(res.rows, 11);
  EXPECT_EQ(res.robust, 2);
  // The list lies inside the root: paths relative to it, with ../ where needed.
  const std::string text = test::read_text(r + "/lists/all.csv");
  EXPECT_NE(text.find("../photos/101.jpg,../labels/101.png\n"), std::string::npos) << text;
  EXPECT_NE(text.find("../photos/sub/x.png,../labels/sub/x.png\n"), std::string::npos) << text;
  FileList l = read_file_list(r + "/lists/all.csv", DatasetKind::real);
  EXPECT_EQ(l.rows[1].robust_labels(), (fs::path(r) / "labels/101.png").string());
  // Outside the root: absolute paths.
  test::TempDir elsewhere;
  build("folder", r, elsewhere / "abs.csv", [](ListsOptions& o) { o.images = "photos"; });
  EXPECT_NE(test::read_text(elsewhere / "abs.csv").find(fs::absolute(r).string() + "/photos/100.jpg,\n"),
            std::string::npos)
      << test::read_text(elsewhere / "abs.csv");
  // --limit keeps the first rows, --sample a seeded subset in list order.
  res = build("folder", r, d / "lim.csv", [](ListsOptions& o) {
    o.images = "photos";
    o.limit = 3;
  });
  EXPECT_EQ(res.rows, 3);
  int run = 0;
  auto sampled = [&](std::uint64_t seed) {
    ListsOptions o;
    o.layout = ListLayout::folder;
    o.root = r;
    o.images = "photos";
    o.out = d / ("s" + std::to_string(seed) + "_" + std::to_string(run++) + ".csv");
    o.sample = 4;
    o.seed = seed;
    build_list(o);
    std::string rows;  // the rows without the directives (which name nothing seed-dependent)
    for (const ListRow& row : read_file_list(o.out, DatasetKind::real).rows) rows += row.image() + "\n";
    return rows;
  };
  const std::string s1 = sampled(1), s1b = sampled(1), s2 = sampled(2);
  EXPECT_EQ(s1, s1b);
  EXPECT_NE(s1, s2);
  EXPECT_EQ(read_file_list(d / "s1_0.csv", DatasetKind::real).rows.size(), 4u);
  // The list is never replaced without --force; a root without images is an error.
  EXPECT_NE(test::user_error_message([&] { build("folder", r, d / "lim.csv"); }).find("--force"), std::string::npos);
  fs::create_directories(d / "empty");
  EXPECT_NE(test::user_error_message([&] { build("folder", d / "empty", d / "e.csv"); }).find("no images"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(d / "e.csv"));
}

TEST(Lists, BadOptionsNameTheOption) {
  test::TempDir d;
  touch(d.path(), "images/a.png");
  auto msg = [&](void (*tweak)(ListsOptions&)) {
    return test::user_error_message([&] { build("folder", d.path(), d / "x.csv", tweak); });
  };
  EXPECT_NE(msg([](ListsOptions& o) { o.limit = 2, o.sample = 1; }).find("--limit and --sample"), std::string::npos);
  {  // an enum option's value outside its names stops at the binding
    ListsOptions o;
    OptionSet s("epe lists", "test");
    add_options(s, o);
    EXPECT_EQ(test::user_error_message([&] {
                s.parse({"folder", "--root", "r", "--out", "o", "--robust", "mseg"});
              }),
              "option --robust: 'mseg' is not one of auto | gt | none");
  }
  EXPECT_NE(msg([](ListsOptions& o) { o.images = "nope"; }).find("option --images"), std::string::npos);
  EXPECT_NE(msg([](ListsOptions& o) { o.kind = DatasetKind::synthetic; }).find("needs GT label maps: give --labels"),
            std::string::npos);
  EXPECT_NE(msg([](ListsOptions& o) { o.label_colors = "no-such-table"; }).find("--label-colors 'no-such-table'"),
            std::string::npos);
  // Folder options are refused for layouts that know their folders.
  const std::string m =
      test::user_error_message([&] { build("pfd", d.path(), d / "y.csv", [](ListsOptions& o) { o.labels = "lab"; }); });
  EXPECT_NE(m.find("are for the folder layout"), std::string::npos) << m;
  EXPECT_FALSE(fs::exists(d / "x.csv"));
  EXPECT_FALSE(fs::exists(d / "y.csv"));
}

}  // namespace
}  // namespace epe
