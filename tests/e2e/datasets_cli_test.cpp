// Real dataset layouts through the CLI, as a new user would run them: `epe lists` on replicas of
// Playing for Data and CARLA2Real trees (PIL-written palette labels, CARLA's raw semantic maps,
// per-buffer G-buffer PNGs), then `epe gbuffers pack`, `epe check`, `epe segment`, `epe layout`
// and `epe train --dry-run` on the lists they make.

#include <gtest/gtest.h>

#include <filesystem>
#include <opencv2/core.hpp>

#include "epe/core/half.h"
#include "epe/io/file_list.h"
#include "epe/io/gbuffers.h"
#include "epe/io/image.h"
#include "epe/io/npz.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace epe::test {
namespace {

constexpr int H = 48, W = 64;  // the size of tests/fixtures/labels/palette.png

cv::Mat random_rgb(int seed, int channels = 3) {
  cv::Mat m(H, W, CV_8UC(channels));
  cv::RNG rng(seed);
  rng.fill(m, cv::RNG::UNIFORM, 0, 256);
  return m;
}

// A Playing-for-Data tree: images/NNNNN.png, labels/NNNNN.png (PIL palette maps, Cityscapes ids).
void make_pfd(const fs::path& root, int frames) {
  fs::create_directories(root / "images");
  fs::create_directories(root / "labels");
  for (int i = 1; i <= frames; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "%05d.png", i);
    write_png((root / "images" / name).string(), random_rgb(i));
    fs::copy_file(std::string(EPE_FIXTURES_DIR) + "/labels/palette.png", root / "labels" / name);
  }
}

TEST(DatasetsCli, PfdPaletteLabelsThroughListsCheckSegmentLayoutAndTrain) {
  TempDir d;
  std::string out;
  const fs::path pfd = fs::path(d.path()) / "pfd";
  make_pfd(pfd, 3);
  fs::remove(pfd / "labels/00003.png");  // a missing partner file
  ASSERT_EQ(run_epe("lists pfd --root " + pfd.string() + " --out " + (d / "pfd.csv") + " --robust none", &out), 0)
      << out;
  EXPECT_TRUE(contains(out, "lists: 2 rows (synthetic list)")) << out;
  EXPECT_TRUE(contains(out, "1 image(s) without a label map:")) << out;
  EXPECT_TRUE(contains(out, "00003.png")) << out;
  // G-buffers and robust labels are still missing: check says so and what to run.
  EXPECT_EQ(run_epe("check --list " + (d / "pfd.csv") + " --kind synthetic", &out), 1);
  EXPECT_TRUE(contains(out, "missing G-buffers")) << out;
  EXPECT_TRUE(contains(out, "epe gbuffers pack")) << out;
  EXPECT_EQ(
      run_epe("check --list " + (d / "pfd.csv") + " --kind synthetic --allow-missing-labels --allow-missing-gbuffers",
              &out),
      0)
      << out;
  // Fake G-buffers, then robust labels from the demo segmenter: the GT directives travel along.
  ASSERT_EQ(run_epe("fake-gbuffers --list " + (d / "pfd.csv") + " --out " + (d / "fake") + " --channels 4 -q", &out), 0)
      << out;
  ASSERT_EQ(run_epe("demo-segmenter --out " + (d / "seg.pt"), &out), 0) << out;
  ASSERT_EQ(run_epe("segment --list " + (d / "fake/pfd-fake-gbuffers.csv") + " --model " + (d / "seg.pt") + " --out " +
                        (d / "seg") + " --base-size 48 --crop 49 -q",
                    &out),
            0)
      << out;
  const std::string syn = d / "seg/pfd-fake-gbuffers.csv";
  const FileList l = read_file_list(syn, DatasetKind::synthetic);
  EXPECT_NE(l.format.materials.find("cityscapes-34_to_material"), std::string::npos);
  EXPECT_TRUE(contains(read_text(syn), "# epe: layout = pfd")) << read_text(syn);
  EXPECT_EQ(run_epe("check --list " + syn + " --kind synthetic", &out), 0) << out;
  // Layout of the GT ids: the palette's indices are the classes (id 7 = road, 26 = car).
  ASSERT_EQ(run_epe("layout --list " + syn + " --list " + syn + " --labels gt --out " + (d / "layout") + " -q", &out),
            0)
      << out;
  const std::string cmp = read_text(d / "layout/comparison.json");
  EXPECT_TRUE(contains(cmp, "\"id\": 7")) << cmp.substr(0, 400);
  EXPECT_TRUE(contains(cmp, "\"id\": 26")) << cmp.substr(0, 400);
  // A real list from a plain folder of the same frames, segmented too; then a training dry run.
  ASSERT_EQ(run_epe("lists folder --root " + pfd.string() + " --images images --out " + (d / "real.csv"), &out), 0)
      << out;
  ASSERT_EQ(run_epe("segment --list " + (d / "real.csv") + " --model " + (d / "seg.pt") + " --out " + (d / "rseg") +
                        " --base-size 48 --crop 49 -q",
                    &out),
            0)
      << out;
  ASSERT_EQ(run_epe("train --preset tiny --sampling independent --crop 32 --dry-run --gbuffer-channels 4 --synthetic " +
                        syn + " --real " + (d / "rseg/real.csv"),
                    &out),
            0)
      << out;
  EXPECT_TRUE(contains(out, "G-buffers: 4 channels")) << out;
  EXPECT_TRUE(contains(out, "12 materials")) << out;
}

TEST(DatasetsCli, ColourCodedViperMapsThroughAFolderList) {
  TempDir d;
  std::string out;
  const fs::path root = fs::path(d.path()) / "viper-rgb";
  fs::create_directories(root / "img");
  fs::create_directories(root / "cls");
  write_png((root / "img/001_00000.png").string(), random_rgb(1));
  write_png((root / "img/001_00010.png").string(), random_rgb(2));
  fs::copy_file(std::string(EPE_FIXTURES_DIR) + "/labels/viper_rgb.png", root / "cls/001_00000.png");
  fs::copy_file(std::string(EPE_FIXTURES_DIR) + "/labels/viper_unknown.png", root / "cls/001_00010.png");
  ASSERT_EQ(run_epe("lists folder --kind synthetic --root " + root.string() + " --images img --labels cls " +
                        "--label-colors viper_colors --materials viper_to_material --out " + (d / "v.csv"),
                    &out),
            0)
      << out;
  EXPECT_TRUE(contains(out, "GT labels: colors=viper_colors")) << out;
  // The map with a colour no VIPER class has is named with the colour and the pixel.
  EXPECT_EQ(run_epe("check --list " + (d / "v.csv") +
                        " --kind synthetic --allow-missing-labels --allow-missing-gbuffers "
                        "--gt-max-id 31",
                    &out),
            1);
  EXPECT_TRUE(contains(out, "unreadable label map")) << out;
  EXPECT_TRUE(contains(out, "001_00010.png' has colour (1, 2, 3) at (row 4, col 6)")) << out;
  EXPECT_FALSE(contains(out, "001_00000.png'")) << out;
}

TEST(DatasetsCli, LegacyAndZipVggFilesGiveTheSameCropFeatures) {
  TempDir d;
  std::string out;
  ASSERT_EQ(run_epe("demo-data --out " + (d / "demo") + " --images 1 --height 212 --width 228 --seed 2 -q", &out), 0)
      << out;
  const std::string vgg = std::string(EPE_FIXTURES_DIR) + "/vgg/vgg16_strided_";
  for (const char* f : {"legacy", "zip"}) {
    ASSERT_EQ(run_epe("crops --list " + (d / "demo/real.csv") + " --mode grid -q --vgg " + vgg + f + ".pt --out " +
                          (d / (std::string(f) + ".h5")),
                      &out),
              0)
        << out;
    ASSERT_EQ(
        run_epe("export " + (d / (std::string(f) + ".h5")) + " --format epe --name " + f + " --out " + (d / "x"), &out),
        0)
        << out;
  }
  const NpyArray a = read_npz_array(d / "x/crop_legacy.npz", "crops"),
                 b = read_npz_array(d / "x/crop_zip.npz", "crops");
  EXPECT_EQ(a.shape, (std::vector<std::size_t>{6, 512}));
  EXPECT_EQ(a.data, b.data);  // bit-identical float16 features
  std::size_t nonzero = 0;
  for (auto v : a.data) nonzero += v != 0;
  EXPECT_GT(nonzero, a.data.size() / 4);
}

// A CARLA2Real capture: Frames/, SemanticSegmentation/ (raw: tag in R), RobustImages/ and
// GBuffers/GBuffer-<id>/<Name>-<id>.png (6-digit ids there, 7 elsewhere, as the capture writes).
void make_carla(const fs::path& root, int frames) {
  const fs::path c = root / "CarlaDataset";
  for (const char* sub : {"Frames", "SemanticSegmentation", "RobustImages"}) fs::create_directories(c / sub);
  for (int i = 0; i < frames; ++i) {
    char id7[16], id6[16];
    std::snprintf(id7, sizeof id7, "%07d", 60 + i);
    std::snprintf(id6, sizeof id6, "%06d", 60 + i);
    write_png((c / "Frames" / ("FinalColor-" + std::string(id7) + ".png")).string(), random_rgb(10 + i));
    cv::Mat sem = random_rgb(20 + i);  // R = tag 0..28, G and B noise
    for (int r = 0; r < H; ++r)
      for (int x = 0; x < W; ++x) sem.at<cv::Vec3b>(r, x)[0] = static_cast<std::uint8_t>((r + x + i) % 29);
    write_png((c / "SemanticSegmentation" / ("SemanticSegmentation-" + std::string(id7) + ".png")).string(), sem);
    write_png((c / "RobustImages" / ("FinalColor-" + std::string(id7) + ".png")).string(),
              cv::Mat(H, W, CV_8UC1, cv::Scalar(98 + i)));
    const fs::path g = c / "GBuffers" / ("GBuffer-" + std::string(id6));
    fs::create_directories(g);
    int k = 0;
    for (const char* buf : {"SceneColor", "SceneDepth", "GBufferA", "GBufferB", "GBufferC", "GBufferD", "Velocity",
                            "GBufferSSAO", "CustomStencil"}) {
      write_png((g / (std::string(buf) + "-" + id6 + ".png")).string(),
                cv::Mat(H, W, CV_8UC3, cv::Scalar(k + 1, k + 2, k + 3 + i)));  // R, G, B as stored
      ++k;
    }
  }
}

TEST(DatasetsCli, CarlaCaptureThroughListsPackCheckAndTrain) {
  TempDir d;
  std::string out;
  make_carla(d.path(), 2);
  ASSERT_EQ(run_epe("lists carla --root " + d.path() + " --out " + (d / "carla.csv"), &out), 0) << out;
  EXPECT_TRUE(contains(out, "lists: 2 rows (synthetic list)")) << out;
  EXPECT_TRUE(contains(out, "GT labels: ids channel=r")) << out;
  EXPECT_TRUE(contains(out, "epe gbuffers pack --spec carla2real")) << out;
  ASSERT_EQ(
      run_epe("gbuffers pack --list " + (d / "carla.csv") + " --spec carla2real --out " + (d / "packed") + " -q", &out),
      0)
      << out;
  EXPECT_TRUE(contains(out, "2 frames (2 packed, 0 kept), 18 channels (scene_color.r")) << out;
  const std::string syn = d / "packed/carla.csv";
  EXPECT_EQ(run_epe("check --list " + syn + " --kind synthetic --gt-max-id 28", &out), 0) << out;
  EXPECT_TRUE(contains(out, "18 channels")) << out;
  const std::string packed = read_file_list(syn, DatasetKind::synthetic).rows[1].gbuffers();
  ASSERT_EQ(run_epe("info " + packed, &out), 0) << out;
  EXPECT_TRUE(contains(out, "48 x 64 x 18")) << out;
  // Frame 1's buffers: buffer k of the capture holds R, G, B = k + 1, k + 2, k + 4 (scaled by 1/255).
  const GBuffers g = read_gbuffers(packed);
  auto stored = [](int v) { return half_to_float(float_to_half(v / 255.0f)); };
  EXPECT_EQ(g.names[3], "scene_depth");
  EXPECT_EQ(g.at(5, 7, 3), stored(2));  // SceneDepth (k = 1): R
  EXPECT_EQ(g.names[4], "gbuffer_a.0");
  EXPECT_EQ(g.at(0, 0, 4), stored(3));  // GBufferA (k = 2): R, G, B
  EXPECT_EQ(g.at(0, 0, 5), stored(4));
  EXPECT_EQ(g.at(0, 0, 6), stored(6));
  EXPECT_EQ(g.names[17], "custom_stencil");
  EXPECT_EQ(g.at(47, 63, 17), stored(9));  // CustomStencil (k = 8; Velocity, k = 6, is not packed)
  ASSERT_EQ(run_epe("lists folder --root " + (d / "CarlaDataset") + " --images Frames --labels RobustImages --out " +
                        (d / "real.csv"),
                    &out),
            0)
      << out;
  ASSERT_EQ(run_epe("train --preset tiny --sampling independent --crop 32 --dry-run --synthetic " + syn + " --real " +
                        (d / "real.csv"),
                    &out),
            0)
      << out;
  EXPECT_TRUE(contains(out, "G-buffers: 18 channels: scene_color.r, scene_color.g")) << out;
  // Bad input: a spec that is not there, an unknown layout, a tree that is not the layout's.
  EXPECT_EQ(run_epe("gbuffers pack --list " + (d / "carla.csv") + " --spec nope --out " + (d / "p2"), &out), 1);
  EXPECT_TRUE(contains(out, "G-buffer spec 'nope'")) << out;
  EXPECT_EQ(run_epe("lists kitti --root " + d.path() + " --out " + (d / "k.csv"), &out), 1);
  EXPECT_TRUE(contains(out, "option --layout: 'kitti' is not one of cityscapes | pfd")) << out;
  EXPECT_EQ(run_epe("lists viper --root " + d.path() + " --out " + (d / "v.csv"), &out), 1);
  EXPECT_TRUE(contains(out, "viper layout: no train under")) << out;
  EXPECT_FALSE(fs::exists(d / "v.csv"));
}

}  // namespace
}  // namespace epe::test
