// `epe metrics` end to end on the reference fixtures:
// - FID and KID of two folders of PNGs with --resize clean against clean-fid's own
//   compute_fid/compute_kid (mode "clean"), run by tests/fixtures/metrics/make_cleanfid_fixture.py
//   with the same TorchScript model (NVlabs' Inception interface, small seeded weights). The
//   frames (20 + 20, from 64x96 to 400x150) are shrunk, enlarged and resized with mixed factors.
// - sKVD/cKVD on FeaMGAN's fixture (tests/metrics/feamgan_test.cpp holds the parity itself): the
//   report states the protocol, and options FeaMGAN's protocol lacks are refused.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "test_util.h"

namespace epe::test {
namespace {

const std::string kDir = std::string(EPE_FIXTURES_DIR) + "/metrics/cleanfid";
const std::string kFeaMgan = std::string(EPE_FIXTURES_DIR) + "/metrics/feamgan";

TEST(CleanFid, FidAndKidOfPngFoldersEqualCleanFids) {
  std::map<std::string, double> want;
  std::ifstream in(kDir + "/expected.txt");
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] != '#')
      want[line.substr(0, line.find(" = "))] = std::strtod(line.c_str() + line.find(" = ") + 3, nullptr);
  ASSERT_EQ(want.size(), 2u);
  TempDir dir;
  std::string out;
  ASSERT_EQ(
      run_epe("metrics --real " + kDir + "/a --fake " + kDir + "/b --metrics fid,kid --resize clean --inception " +
                  kDir + "/inception.pt --kid-subsets 3 --out " + dir / "m",
              &out),
      0)
      << out;
  const std::string json = read_text(dir / "m/metrics.json");
  const double fid = json_number(json, "b", "fid"), kid = json_number(json, "b", "kid_mean");
  std::printf("FID ours %.10g, clean-fid %.10g (relative %.2g); KID ours %.10g, clean-fid %.10g (relative %.2g)\n", fid,
              want["fid"], std::abs(fid - want["fid"]) / want["fid"], kid, want["kid"],
              std::abs(kid - want["kid"]) / std::abs(want["kid"]));
  EXPECT_LE(std::abs(fid - want["fid"]), 1e-3 * want["fid"]);
  EXPECT_LE(std::abs(kid - want["kid"]), 1e-3 * std::abs(want["kid"]));
  // Every KID subset is a permutation of all 20 frames: the std over subsets is rounding only.
  EXPECT_LE(json_number(json, "b", "kid_std"), 1e-12);
  // The OpenCV resize gives another number: the resize matters at this tolerance.
  ASSERT_EQ(run_epe("metrics --real " + kDir + "/a --fake " + kDir + "/b --metrics fid --resize opencv --inception " +
                        kDir + "/inception.pt --out " + dir / "o",
                    &out),
            0)
      << out;
  const double fid_cv = json_number(read_text(dir / "o/metrics.json"), "b", "fid");
  std::printf("FID with --resize opencv: %.10g\n", fid_cv);
  EXPECT_GT(std::abs(fid_cv - want["fid"]), 1e-2 * want["fid"]);
}

TEST(FeaMgan, CliReportsTheProtocolAndRefusesEpeOnlyOptions) {
  TempDir dir;
  std::string out;
  const std::string common = " --real " + kFeaMgan + "/real.csv --fake " + kFeaMgan + "/fake.csv --vgg " + kFeaMgan +
                             "/vgg16_fixture.pt --skvd-frame 96x160";
  ASSERT_EQ(run_epe("metrics --metrics skvd,ckvd --out " + dir / "m" + common, &out), 0) << out;
  const std::string md = read_text(dir / "m/metrics.md");
  EXPECT_TRUE(contains(md, "FeaMGAN's protocol: frames scaled to 96 rows")) << md;
  EXPECT_TRUE(contains(md, "cKVD by class group")) << md;
  EXPECT_TRUE(contains(read_text(dir / "m/metrics.json"), "\"skvd_crop_side\": 42"));
  EXPECT_EQ(run_epe("metrics --metrics skvd --skvd-crops-per-frame 3 --out " + dir / "e" + common, &out), 1);
  EXPECT_TRUE(contains(out, "--skvd-protocol epe")) << out;
  // The generated frames are 170 pixels wide at 96 rows: a 96x200 frame does not fit.
  EXPECT_EQ(run_epe("metrics --metrics skvd --real " + kFeaMgan + "/real.csv --fake " + kFeaMgan +
                        "/fake.csv --skvd-frame 96x200 --out " + dir / "e",
                    &out),
            1);
  EXPECT_TRUE(contains(out, "fake.csv:1")) << out;
  EXPECT_TRUE(contains(out, "is 170 pixels wide at 96 rows")) << out;
  EXPECT_FALSE(std::filesystem::exists(dir / "e"));
}

}  // namespace
}  // namespace epe::test
