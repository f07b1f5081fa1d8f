// `epe gbuffers pack`: per-buffer PNG (8/16-bit), OpenEXR and .npz sources stacked into epe
// G-buffer files with the values the spec says.

#include "epe/io/gbuffer_pack.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "epe/core/half.h"
#include "epe/io/file_list.h"
#include "epe/io/gbuffers.h"
#include "epe/io/image.h"
#include "epe/io/npz.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace epe {
namespace {

constexpr int H = 5, W = 7;

float h16(double v) {
  return half_to_float(float_to_half(static_cast<float>(v)));
}  // as stored (float16)

// Frame f's sources: rgb.png (8-bit RGB), depth16.png (16-bit gray), depth.exr (float32, 3
// channels), cd.png (CARLA depth encoding), extra.npz (uint8 H×W×2, key `a`).
void make_frame(const fs::path& root, int f) {
  const fs::path g = root / ("GBuffer-00" + std::to_string(f));
  fs::create_directories(g);
  fs::create_directories(root / "images");
  write_png((root / "images" / ("f" + std::to_string(f) + ".png")).string(),
            cv::Mat(H, W, CV_8UC3, cv::Scalar(1, 2, 3)));
  cv::Mat rgb(H, W, CV_8UC3), d16(H, W, CV_16UC1), exr(H, W, CV_32FC3), cd(H, W, CV_8UC3);
  std::vector<std::uint8_t> extra(H * W * 2);
  for (int r = 0; r < H; ++r)
    for (int c = 0; c < W; ++c) {
      rgb.at<cv::Vec3b>(r, c) = cv::Vec3b(10 * r, 20 + c, 100 + f);  // written as R, G, B by write_png
      d16.at<std::uint16_t>(r, c) = static_cast<std::uint16_t>(1000 * r + 10 * c + f);
      exr.at<cv::Vec3f>(r, c) = cv::Vec3f(0.5f * c, 100.25f + r, -3.f);  // B, G, R in OpenCV's order
      cd.at<cv::Vec3b>(r, c) = cv::Vec3b(1 + r, 2 * c, f);               // B, G, R
      extra[(r * W + c) * 2] = static_cast<std::uint8_t>(r + c);
      extra[(r * W + c) * 2 + 1] = 200;
    }
  write_png((g / "rgb.png").string(), rgb);
  write_png((g / "depth16.png").string(), d16);
  ASSERT_TRUE(cv::imwrite((g / "depth.exr").string(), exr));
  ASSERT_TRUE(cv::imwrite((g / "cd.png").string(), cd));
  NpyArray a;
  a.dtype = "|u1";
  a.shape = {H, W, 2};
  a.data = extra;
  write_npz((g / "extra.npz").string(), {{"a", a}});
}

const char* kSpec =
    "description = test spec\n"
    "[colour]\nfile = {gbuffers}/rgb.png\ntake = b, r\nchannels = blue, red\nscale = 1/255\n"
    "[depth]\nfile = {gbuffers}/depth16.png\nchannels = depth\nscale = 0.001\n"
    "[exr]\nfile = {gbuffers}/depth.exr\ntake = r, g\nchannels = exr.r, exr.g\noffset = 1\n"
    "; CARLA's depth camera, in metres\n"
    "[carla]\nfile = {gbuffers}/cd.png\ndecode = carla-depth\nchannels = metres\nscale = 1000\n"
    "[npz]\nfile = {gbuffers}/extra.npz\nkey = a\ntake = 0\nchannels = extra\n";

TEST(GBufferPack, StacksPngExrAndNpzWithTheSpecsValues) {
  test::TempDir d;
  const fs::path root = d.path();
  make_frame(root, 1);
  make_frame(root, 2);
  test::write_text(d / "spec.ini", kSpec);
  test::write_text(d / "syn.csv",
                   "images/f1.png,,GBuffer-001,images/f1.png\nimages/f2.png,,GBuffer-002,images/f2.png\n");
  PackOptions o;
  o.list = d / "syn.csv";
  o.spec = d / "spec.ini";
  o.out = d / "packed";
  PackResult r = pack_gbuffers(o);
  EXPECT_EQ(r.frames, 2);
  EXPECT_EQ(r.packed, 2);
  EXPECT_EQ(r.channels, 7);
  FileList l = read_file_list(r.list_out, DatasetKind::synthetic);
  ASSERT_EQ(l.rows.size(), 2u);
  for (int f = 1; f <= 2; ++f) {
    const GBuffers g = read_gbuffers(l.rows[f - 1].gbuffers());
    ASSERT_EQ(g.channels, 7);
    EXPECT_EQ(g.names, (std::vector<std::string>{"blue", "red", "depth", "exr.r", "exr.g", "metres", "extra"}));
    ASSERT_EQ(g.height, H);
    ASSERT_EQ(g.width, W);
    for (int rr = 0; rr < H; ++rr)
      for (int c = 0; c < W; ++c) {
        EXPECT_EQ(g.at(rr, c, 0), h16((100 + f) / 255.0));
        EXPECT_EQ(g.at(rr, c, 1), h16(10 * rr / 255.0));
        EXPECT_EQ(g.at(rr, c, 2), h16((1000 * rr + 10 * c + f) * 0.001));
        EXPECT_EQ(g.at(rr, c, 3), h16(-3.0 + 1));
        EXPECT_EQ(g.at(rr, c, 4), h16(100.25 + rr + 1));
        EXPECT_EQ(g.at(rr, c, 5), h16((f + 256.0 * 2 * c + 65536.0 * (1 + rr)) / 16777215.0 * 1000));
        EXPECT_EQ(g.at(rr, c, 6), h16(rr + c));
      }
  }
  // --resume keeps what is there; a second run without it refuses the folder.
  o.resume = true;
  r = pack_gbuffers(o);
  EXPECT_EQ(r.kept, 2);
  EXPECT_EQ(r.packed, 0);
  o.resume = false;
  EXPECT_NE(test::user_error_message([&] { pack_gbuffers(o); }).find("--resume"), std::string::npos);
}

TEST(GBufferPack, ErrorsNameTheLineTheBufferAndTheFile) {
  test::TempDir d;
  make_frame(d.path(), 1);
  test::write_text(d / "spec.ini", kSpec);
  // A frame whose folder lacks a file.
  fs::remove(d / "GBuffer-001/depth.exr");
  test::write_text(d / "syn.csv", "# header\nimages/f1.png,,GBuffer-001,images/f1.png\n");
  PackOptions o;
  o.list = d / "syn.csv";
  o.spec = d / "spec.ini";
  o.out = d / "packed";
  std::string msg = test::user_error_message([&] { pack_gbuffers(o); });
  EXPECT_NE(msg.find("syn.csv:2:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("buffer [exr]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("depth.exr' does not exist"), std::string::npos) << msg;
  EXPECT_TRUE(fs::is_empty(d / "packed/gbuffers")) << "nothing half-written";
  // Wrong size.
  make_frame(d.path(), 1);
  write_png((d / "GBuffer-001/rgb.png"), cv::Mat(H + 1, W, CV_8UC3, cv::Scalar(0, 0, 0)));
  o.force = true;
  msg = test::user_error_message([&] { pack_gbuffers(o); });
  EXPECT_NE(msg.find("buffer [colour]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("is 6x7 (HxW) but image"), std::string::npos) << msg;
  // Spec errors name the spec's line.
  test::write_text(d / "bad.ini", "[a]\nfile = x.png\ntake = r, g\nchannels = one\n");
  msg = test::user_error_message([&] { GBufferSpec::read(d / "bad.ini"); });
  EXPECT_NE(msg.find("bad.ini:1:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("`take` lists 2 channels but `channels` names 1"), std::string::npos) << msg;
  test::write_text(d / "bad2.ini", "[a]\nfile = x.png\nchannels = c\nscal = 2\n");
  msg = test::user_error_message([&] { GBufferSpec::read(d / "bad2.ini"); });
  EXPECT_NE(msg.find("bad2.ini:4: unknown key 'scal'"), std::string::npos) << msg;
}

TEST(GBufferPack, ShippedCarlaSpecsRead) {
  std::vector<std::string> names;
  for (const char* name : {"carla2real", "carla2real-npz", "carla2real-epe"}) {
    const GBufferSpec s = GBufferSpec::read(name);
    EXPECT_EQ(s.channels(), 18) << name;
    std::vector<std::string> all;
    for (auto& b : s.buffers) all.insert(all.end(), b.channels.begin(), b.channels.end());
    EXPECT_EQ(all.back(), "custom_stencil");
    if (names.empty()) names = all;
    EXPECT_EQ(all, names) << name << ": the three sources give the same channels";
  }
}

}  // namespace
}  // namespace epe
