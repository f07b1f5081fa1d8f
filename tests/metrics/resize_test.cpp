// Frame resizing of the feature extractors against PIL's bicubic (clean-fid's "clean") and the
// TF1 bilinear of torch-fidelity (fixtures: tests/fixtures/metrics/make_resize_fixture.py).

#include "epe/metrics/resize.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <opencv2/core.hpp>

#include "epe/io/npz.h"
#include "test_util.h"

namespace epe {
namespace {

const std::string kFixture = std::string(EPE_FIXTURES_DIR) + "/metrics/resize.npz";

cv::Mat as_mat(const NpyArray& a) {  // H x W x 3 -> CV_32FC3 (values as stored)
  const std::vector<float> v = a.to_float();
  cv::Mat m(static_cast<int>(a.shape[0]), static_cast<int>(a.shape[1]), CV_32FC3);
  std::memcpy(m.data, v.data(), v.size() * sizeof(float));
  return m;
}

double max_abs_diff(const cv::Mat& a, const cv::Mat& b) {
  EXPECT_EQ(a.size(), b.size());
  EXPECT_EQ(a.type(), b.type());
  return cv::norm(a, b, cv::NORM_INF);
}

TEST(Resize, CleanEqualsPilBicubicAndLegacyEqualsTf1Bilinear) {
  const auto all = read_npz(kFixture);
  int cases = 0;
  for (int i = 0; all.count("in_" + std::to_string(i)); ++i, ++cases) {
    const std::string k = std::to_string(i);
    const cv::Mat in = as_mat(all.at("in_" + k));  // 0..255 as clean-fid feeds PIL
    const NpyArray& size = all.at("size_" + k);
    std::int64_t hw[2];
    std::memcpy(hw, size.data.data(), sizeof hw);
    const int h = static_cast<int>(hw[0]), w = static_cast<int>(hw[1]);
    const cv::Mat clean = resize_frame(in, h, w, ResizeMode::clean, 0.f, 255.f);
    EXPECT_LE(max_abs_diff(clean, as_mat(all.at("clean_" + k))), 1e-4)
        << "case " << i << ": " << in.size << " -> " << h << "x" << w;
    const cv::Mat legacy = resize_frame(in, h, w, ResizeMode::legacy_tf);
    EXPECT_LE(max_abs_diff(legacy, as_mat(all.at("legacy_" + k))), 1e-4) << "case " << i;
    // How far epe's former OpenCV resize is from PIL's (the README quotes these lines).
    const cv::Mat pil = as_mat(all.at("clean_" + k)), cv_ = resize_frame(in, h, w, ResizeMode::opencv);
    const double mean = cv::norm(cv_, pil, cv::NORM_L1) / (cv_.total() * 3.0);
    std::printf(
        "resize %dx%d -> %dx%d: clean vs PIL max %.3g, legacy-tf vs TF1 max %.3g, opencv vs PIL mean %.2f max %.2f\n",
        in.rows, in.cols, h, w, max_abs_diff(clean, pil), max_abs_diff(legacy, as_mat(all.at("legacy_" + k))), mean,
        max_abs_diff(cv_, pil));
    if (in.size() != cv::Size(w, h)) {
      EXPECT_GT(mean, 0.5) << "case " << i << ": opencv should differ from PIL";
    }
    // Frames in [0, 1] (how epe reads them) give the same pixels / 255.
    cv::Mat unit = in / 255.f, back = resize_frame(unit, h, w, ResizeMode::clean) * 255.f;
    EXPECT_LE(max_abs_diff(back, as_mat(all.at("clean_" + k))), 1e-3) << "case " << i;
  }
  EXPECT_EQ(cases, 5);
}

TEST(Resize, ModesParseAndOpenCvKeepsItsBehaviour) {
  EXPECT_EQ(parse_resize_mode("clean"), ResizeMode::clean);
  EXPECT_EQ(parse_resize_mode("legacy-tf"), ResizeMode::legacy_tf);
  EXPECT_STREQ(to_string(ResizeMode::opencv), "opencv");
  const std::string msg = test::user_error_message([] { parse_resize_mode("bilinear"); });
  EXPECT_NE(msg.find("--resize"), std::string::npos) << msg;
  // A constant frame stays constant under every mode (weights sum to 1).
  cv::Mat c(37, 53, CV_32FC3, cv::Scalar(0.25f, 0.5f, 0.75f));
  for (ResizeMode m : {ResizeMode::clean, ResizeMode::legacy_tf, ResizeMode::opencv}) {
    const cv::Mat r = resize_frame(c, 11, 80, m);
    EXPECT_LE(cv::norm(r - cv::Scalar(0.25f, 0.5f, 0.75f), cv::NORM_INF), 1e-6) << to_string(m);
  }
}

}  // namespace
}  // namespace epe
