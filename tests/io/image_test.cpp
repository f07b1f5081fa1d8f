#include "epe/io/image.h"

#include <gtest/gtest.h>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "epe/core/error.h"
#include "test_util.h"

namespace epe {

namespace {
// A 2x3 BGR image with distinct values, written with OpenCV directly.
cv::Mat sample_bgr() {
  cv::Mat m(2, 3, CV_8UC3);
  for (int r = 0; r < 2; ++r)
    for (int c = 0; c < 3; ++c) m.at<cv::Vec3b>(r, c) = cv::Vec3b(10 * c, 100 + r, 200 + c);  // B, G, R
  return m;
}
}  // namespace

TEST(Image, Reads8BitPngAsFloatRgb) {
  test::TempDir dir;
  cv::imwrite(dir / "a.png", sample_bgr());
  cv::Mat img = read_image(dir / "a.png");
  ASSERT_EQ(img.type(), CV_32FC3);
  ASSERT_EQ(img.rows, 2);
  ASSERT_EQ(img.cols, 3);
  cv::Vec3f p = img.at<cv::Vec3f>(1, 2);
  EXPECT_FLOAT_EQ(p[0], 202 / 255.f);  // R
  EXPECT_FLOAT_EQ(p[1], 101 / 255.f);  // G
  EXPECT_FLOAT_EQ(p[2], 20 / 255.f);   // B
}

TEST(Image, Reads16BitGrayAndRgbaAndJpeg) {
  test::TempDir dir;
  cv::Mat g(2, 2, CV_16UC1, cv::Scalar(65535));
  g.at<std::uint16_t>(0, 1) = 32768;
  cv::imwrite(dir / "g.png", g);
  cv::Mat img = read_image(dir / "g.png");
  EXPECT_FLOAT_EQ(img.at<cv::Vec3f>(0, 0)[1], 1.f);
  EXPECT_NEAR(img.at<cv::Vec3f>(0, 1)[2], 32768 / 65535.0, 1e-6);

  cv::Mat rgba(1, 1, CV_8UC4, cv::Scalar(30, 20, 10, 7));  // B G R A
  cv::imwrite(dir / "a.png", rgba);
  cv::Vec3f p = read_image(dir / "a.png").at<cv::Vec3f>(0, 0);
  EXPECT_FLOAT_EQ(p[0], 10 / 255.f);
  EXPECT_FLOAT_EQ(p[2], 30 / 255.f);

  cv::Mat flat(16, 16, CV_8UC3, cv::Scalar(50, 100, 150));
  cv::imwrite(dir / "f.jpg", flat, {cv::IMWRITE_JPEG_QUALITY, 100});
  cv::Mat j = read_image_u8(dir / "f.jpg");
  EXPECT_NEAR(j.at<cv::Vec3b>(8, 8)[0], 150, 2);
}

TEST(Image, TruncatedPngAndJpegAreReported) {
  test::TempDir dir;
  cv::Mat big(64, 64, CV_8UC3, cv::Scalar(1, 2, 3));
  cv::randu(big, 0, 255);
  cv::imwrite(dir / "t.png", big);
  cv::imwrite(dir / "t.jpg", big);
  test::truncate_file(dir / "t.png", test::read_text(dir / "t.png").size() / 2);
  test::truncate_file(dir / "t.jpg", test::read_text(dir / "t.jpg").size() / 2);
  for (const char* f : {"t.png", "t.jpg"}) {
    try {
      read_image(dir / f);
      FAIL() << f;
    } catch (const UserError& e) {
      EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(dir / f), std::string::npos) << e.what();
    }
  }
}

TEST(Image, MissingEmptyAndForeignFilesAreReported) {
  test::TempDir dir;
  EXPECT_THROW(read_image(dir / "missing.png"), UserError);
  test::write_text(dir / "empty.png", "");
  EXPECT_THROW(read_image(dir / "empty.png"), UserError);
  test::write_text(dir / "text.png", "this is not an image at all");
  EXPECT_THROW(read_image(dir / "text.png"), UserError);
}

TEST(Image, CorruptPngDataIsReported) {
  // Valid signature and IEND, garbage in between.
  test::TempDir dir;
  std::string bytes = "\x89PNG\r\n\x1a\n";
  bytes += std::string(100, 'x');
  bytes += std::string("\0\0\0\0IEND\xae\x42\x60\x82", 12);
  test::write_text(dir / "c.png", bytes);
  EXPECT_THROW(read_image(dir / "c.png"), UserError);
}

TEST(Image, WritePngRoundTrips) {
  test::TempDir dir;
  cv::Mat rgb(3, 4, CV_32FC3, cv::Scalar(0.25f, 0.5f, 1.0f));
  write_png(dir / "o.png", rgb);
  cv::Mat back = read_image_u8(dir / "o.png");
  EXPECT_EQ(back.at<cv::Vec3b>(2, 3), cv::Vec3b(64, 128, 255));
}

}  // namespace epe
