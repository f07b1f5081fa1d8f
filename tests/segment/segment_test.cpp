#include "epe/segment/segment.h"

#include <gtest/gtest.h>
#include <torch/script.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <opencv2/imgproc.hpp>

#include "epe/core/rng.h"
#include "epe/io/file_list.h"
#include "epe/io/image.h"
#include "epe/io/labels.h"
#include "epe/segment/shards.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace epe::test {
namespace {

constexpr int kClasses = 5;

// Logits = a 3x3 convolution (zero padding) of the normalised input: position-dependent at the
// window borders and not mirror-symmetric, so windows, padding and flips all matter.
std::vector<float> conv_weights() {
  std::vector<float> w(kClasses * 3 * 9);
  Rng rng(42);
  for (float& x : w) x = static_cast<float>(rng.uniform(-1.0, 1.0));
  return w;
}
std::vector<float> conv_bias() {
  return {0.1f, -0.2f, 0.05f, 0.0f, 0.15f};
}

void write_conv_model(const std::string& path, const std::string& forward = "") {
  torch::jit::Module m("TestSegmenter");
  std::vector<float> w = conv_weights(), b = conv_bias();
  m.register_parameter("weight", torch::from_blob(w.data(), {kClasses, 3, 3, 3}).clone(), false);
  m.register_parameter("bias", torch::from_blob(b.data(), {kClasses}).clone(), false);
  m.define(forward.empty() ? R"(
def forward(self, x):
    return torch.conv2d(x, self.weight, self.bias, 1, 1)
)"
                           : forward);
  m.save(path);
}

// An independent implementation of the protocol with plain loops (doubles), for the model above.
cv::Mat reference_labels(const cv::Mat& rgb, const SegmentProtocol& p) {
  const std::vector<float> w = conv_weights(), bias = conv_bias();
  const int H = rgb.rows, W = rgb.cols, C = kClasses, crop = p.crop;
  std::vector<cv::Mat> total(C);
  for (auto& t : total) t = cv::Mat::zeros(H, W, CV_64F);
  for (double scale : p.scales) {
    const int shortside = static_cast<int>(std::lround(scale * p.base_size));
    const int nh = H > W ? static_cast<int>(std::lround(double(shortside) * H / W)) : shortside;
    const int nw = H > W ? shortside : static_cast<int>(std::lround(double(shortside) * W / H));
    cv::Mat small, f;
    cv::resize(rgb, small, {nw, nh}, 0, 0, cv::INTER_LINEAR);
    small.convertTo(f, CV_64FC3);
    const int PH = std::max(nh, crop), PW = std::max(nw, crop), top = (PH - nh) / 2, left = (PW - nw) / 2;
    std::vector<double> x(3 * PH * PW, 0.0);  // normalised, zero padded
    for (int r = 0; r < nh; ++r)
      for (int c = 0; c < nw; ++c)
        for (int k = 0; k < 3; ++k)
          x[(k * PH + r + top) * PW + c + left] = (f.at<cv::Vec3d>(r, c)[k] - p.mean[k]) / p.std[k];
    std::vector<double> sum(C * PH * PW, 0.0), count(PH * PW, 0.0);
    const int stride = (2 * crop + 2) / 3;  // ceil(2/3 crop)
    std::vector<int> rs, cs;
    for (int s = 0;; s += stride) {
      rs.push_back(std::min(s + crop, PH) - crop);
      if (s + crop >= PH) break;
    }
    for (int s = 0;; s += stride) {
      cs.push_back(std::min(s + crop, PW) - crop);
      if (s + crop >= PW) break;
    }
    for (int r0 : rs)
      for (int c0 : cs)
        for (int flip = 0; flip <= (p.flip ? 1 : 0); ++flip)
          for (int i = 0; i < crop; ++i)
            for (int j = 0; j < crop; ++j) {
              // Window pixel (i, j); with flip the window is mirrored, the result mirrored back.
              double logit[kClasses];
              for (int c = 0; c < C; ++c) {
                double v = bias[c];
                for (int k = 0; k < 3; ++k)
                  for (int di = -1; di <= 1; ++di)
                    for (int dj = -1; dj <= 1; ++dj) {
                      const int ii = i + di, jj = j + dj;
                      if (ii < 0 || jj < 0 || ii >= crop || jj >= crop) continue;
                      const int src_j = flip ? crop - 1 - jj : jj;
                      v += w[((c * 3 + k) * 3 + di + 1) * 3 + dj + 1] * x[(k * PH + r0 + ii) * PW + c0 + src_j];
                    }
                logit[c] = v;
              }
              double mx = logit[0], z = 0;
              for (int c = 1; c < C; ++c) mx = std::max(mx, logit[c]);
              for (int c = 0; c < C; ++c) z += std::exp(logit[c] - mx);
              const int out_j = flip ? crop - 1 - j : j;
              const double wgt = p.flip ? 0.5 : 1.0;
              for (int c = 0; c < C; ++c) sum[(c * PH + r0 + i) * PW + c0 + out_j] += wgt * std::exp(logit[c] - mx) / z;
              if (!flip) count[(r0 + i) * PW + c0 + j] += 1;
            }
    for (int c = 0; c < C; ++c) {
      cv::Mat plane(nh, nw, CV_32F);
      for (int r = 0; r < nh; ++r)
        for (int q = 0; q < nw; ++q)
          plane.at<float>(r, q) =
              static_cast<float>(sum[(c * PH + r + top) * PW + q + left] / count[(r + top) * PW + q + left]);
      cv::Mat full;
      cv::resize(plane, full, {W, H}, 0, 0, cv::INTER_LINEAR);
      cv::Mat full64;
      full.convertTo(full64, CV_64F);
      total[c] += full64;
    }
  }
  cv::Mat out(H, W, CV_8UC1);
  for (int r = 0; r < H; ++r)
    for (int q = 0; q < W; ++q) {
      int best = 0;
      for (int c = 1; c < C; ++c)
        if (total[c].at<double>(r, q) > total[best].at<double>(r, q)) best = c;
      out.at<unsigned char>(r, q) = static_cast<unsigned char>(best);
    }
  return out;
}

cv::Mat test_frame(int h, int w, std::uint64_t seed) {
  cv::Mat m(h, w, CV_8UC3);
  Rng rng(seed);
  for (int r = 0; r < h; ++r)
    for (int c = 0; c < w; ++c)
      m.at<cv::Vec3b>(r, c) =
          cv::Vec3b(static_cast<unsigned char>((r * 255) / h), static_cast<unsigned char>((c * 7 + r * 3) % 256),
                    static_cast<unsigned char>(rng.uniform_int(256)));
  return m;
}

SegmentProtocol small_protocol() {
  SegmentProtocol p;
  p.base_size = 40;
  p.crop = 32;  // 2/3 crop is not an integer: ceil and floor strides differ
  p.classes = kClasses;
  p.batch = 3;
  return p;
}

double agreement(const cv::Mat& a, const cv::Mat& b) {
  return 1.0 - static_cast<double>(cv::countNonZero(a != b)) / (a.rows * a.cols);
}

void check_protocol(SegmentProtocol p) {
  TempDir dir;
  write_conv_model(dir / "m.pt");
  Segmenter seg(dir / "m.pt", p);
  for (auto [h, w] : std::vector<std::pair<int, int>>{{40, 70}, {90, 50}, {33, 33}, {24, 100}}) {
    cv::Mat frame = test_frame(h, w, h * 100 + w);
    cv::Mat ours = seg.labels(frame), ref = reference_labels(frame, p);
    EXPECT_GE(agreement(ours, ref), 0.999) << h << "x" << w << " flip " << p.flip << " scales " << p.scales.size();
    EXPECT_GT(cv::countNonZero(ours), 0);  // not a constant map
  }
}

TEST(Segment, SlidingWindowAndPaddingEqualAnIndependentImplementation) {
  check_protocol(small_protocol());
}

TEST(Segment, FlipEqualsAnIndependentImplementation) {
  SegmentProtocol p = small_protocol();
  p.flip = true;
  check_protocol(p);
}

TEST(Segment, TwoScalesWithFlipEqualAnIndependentImplementation) {
  SegmentProtocol p = small_protocol();
  p.flip = true;
  p.scales = {0.6, 1.3};  // 0.6: short side 24 < crop, padded
  check_protocol(p);
}

TEST(Segment, BadModelsAreClearErrorsBeforeAnythingIsWritten) {
  TempDir dir;
  write_conv_model(dir / "m.pt");
  SegmentProtocol p = small_protocol();
  p.classes = 194;
  EXPECT_NE(user_error_message([&] { Segmenter s(dir / "m.pt", p); }).find("outputs 5 classes, expected 194"),
            std::string::npos);
  write_text(dir / "not.pt", "plain text");
  p.classes = kClasses;
  EXPECT_NE(user_error_message([&] { Segmenter s(dir / "not.pt", p); }).find("not a TorchScript model"),
            std::string::npos);
  // Compiles, but fails at run time (its weights expect 2 input channels).
  write_conv_model(dir / "throws.pt", R"(
def forward(self, x):
    return torch.conv2d(x, self.weight[:, 0:2], self.bias)
)");
  write_png(dir / "a.png", test_frame(40, 50, 1));
  write_file_list(dir / "l.csv", {{dir / "a.png"}});
  SegmentOptions o;
  o.list = dir / "l.csv";
  o.model = dir / "throws.pt";
  o.out = dir / "out";
  o.protocol = p;
  std::string msg = user_error_message([&] { segment_list(o); });
  EXPECT_NE(msg.find("throws.pt' failed"), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(dir / "out"));
}

TEST(Segment, WritesLabelsAndAListAndResumesWithoutRecomputing) {
  TempDir dir;
  write_conv_model(dir / "m.pt");
  std::vector<std::vector<std::string>> rows;
  for (int i = 0; i < 3; ++i) {
    write_png(dir / cat("f", i, ".png"), test_frame(40 + 10 * i, 60, i));
    rows.push_back({dir / cat("f", i, ".png"), ""});
  }
  write_file_list(dir / "real.csv", rows);
  SegmentOptions o;
  o.list = dir / "real.csv";
  o.model = dir / "m.pt";
  o.out = dir / "out";
  o.protocol = small_protocol();
  SegmentResult r = segment_list(o);
  EXPECT_EQ(r.frames, 3);
  FileList out = read_file_list(r.list_out, DatasetKind::real);
  ASSERT_EQ(out.rows.size(), 3u);
  Segmenter seg(o.model, o.protocol);
  cv::Mat l1 = read_label_map(out.rows[1].robust_labels(), 255);
  EXPECT_EQ(cv::countNonZero(l1 != seg.labels(read_image_u8(dir / "f1.png"))), 0);
  // Existing output: refused without --resume/--force.
  EXPECT_NE(user_error_message([&] { segment_list(o); }).find("--resume"), std::string::npos);
  // Resume after losing one label map: only that frame is recomputed.
  fs::remove(out.rows[2].robust_labels());
  const auto t0 = fs::last_write_time(out.rows[0].robust_labels());
  o.resume = true;
  r = segment_list(o);
  EXPECT_EQ(r.frames, 1);
  EXPECT_EQ(r.reused, 2);
  EXPECT_EQ(fs::last_write_time(out.rows[0].robust_labels()), t0);
  EXPECT_TRUE(fs::exists(out.rows[2].robust_labels()));
  for (const auto& e : fs::directory_iterator(dir / "out/labels"))
    EXPECT_EQ(e.path().extension(), ".png") << e.path();  // no temporaries left
  // A resume with other options (or another model) is refused: one folder, one protocol.
  o.options_ini = "scales = 0.5,1.0\n";
  EXPECT_NE(user_error_message([&] { segment_list(o); }).find("another model or other options"), std::string::npos);
}

TEST(Segment, ShardsShareOneFolderAndTheMergeWritesTheUnshardedList) {
  TempDir dir;
  write_conv_model(dir / "m.pt");
  std::vector<std::vector<std::string>> rows;
  for (int i = 0; i < 5; ++i) {
    write_png(dir / cat("f", i, ".png"), test_frame(40 + 6 * i, 50, i));
    rows.push_back({dir / cat("f", i, ".png"), ""});
  }
  write_file_list(dir / "real.csv", rows);
  SegmentOptions o;
  o.list = dir / "real.csv";
  o.model = dir / "m.pt";
  o.protocol = small_protocol();
  o.options_ini = "crop = 24\n";
  o.out = dir / "whole";
  const SegmentResult whole = segment_list(o);
  o.out = dir / "sharded";
  for (int i : {2, 0}) {  // shard 1/3 comes later
    o.shard = Shard{i, 3};
    SegmentResult r = segment_list(o);
    EXPECT_EQ(r.frames, o.shard.rows(5).second - o.shard.rows(5).first);
    EXPECT_TRUE(r.list_out.empty());
    EXPECT_TRUE(fs::exists(segment_marker_path(o.out, o.shard)));
  }
  const std::string merged = dir / "sharded/real.csv";
  auto fails = [&](const std::vector<std::string>& shards, const std::string& out, const std::string& needle) {
    const std::string m = user_error_message([&] { merge_segment_shards(shards, out, false); });
    EXPECT_TRUE(contains(m, needle)) << m;
    EXPECT_FALSE(fs::exists(merged)) << needle;
  };
  fails({o.out}, o.out, "shard 1/3 of 3 is missing (2 of 3 given)");
  // Another protocol cannot add to the folder.
  SegmentOptions other = o;
  other.shard = Shard{1, 3};
  other.options_ini = "crop = 32\n";
  EXPECT_TRUE(contains(user_error_message([&] { segment_list(other); }), "another model or other options"));
  o.shard = Shard{1, 3};
  const SegmentResult middle = segment_list(o);
  EXPECT_EQ(middle.frames, 2);
  // A rerun of a finished shard does nothing.
  const auto t0 = fs::last_write_time(middle.shard_marker);
  EXPECT_TRUE(segment_list(o).already_complete);
  EXPECT_EQ(fs::last_write_time(middle.shard_marker), t0);
  fails({o.out}, dir / "whole", "is not the folder the shards wrote");
  fails({segment_marker_path(o.out, Shard{0, 3}), segment_marker_path(o.out, Shard{0, 3})}, o.out, "given twice");
  const SegmentMergeResult r = merge_segment_shards({o.out}, o.out, false);
  EXPECT_EQ(r.shards, 3);
  EXPECT_EQ(r.frames, 5);
  EXPECT_EQ(r.list_out, merged);
  // The same list as the unsharded run's, but for the folder name; the same label maps.
  std::string a = read_text(whole.list_out), b = read_text(merged);
  for (std::size_t p; (p = a.find("/whole/")) != std::string::npos;) a.replace(p, 7, "/sharded/");
  EXPECT_EQ(a, b);
  FileList wl = read_file_list(whole.list_out, DatasetKind::real), sl = read_file_list(merged, DatasetKind::real);
  ASSERT_EQ(sl.rows.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i)
    EXPECT_EQ(read_text(wl.rows[i].robust_labels()), read_text(sl.rows[i].robust_labels())) << i;
  // The list exists now: a second merge needs --force.
  EXPECT_TRUE(contains(user_error_message([&] { merge_segment_shards({o.out}, o.out, false); }), "--force"));
  // A lost label map is found by the merge.
  fs::remove(sl.rows[3].robust_labels());
  EXPECT_TRUE(
      contains(user_error_message([&] { merge_segment_shards({o.out}, o.out, true); }), "of list row 4 is missing"));
}

}  // namespace
}  // namespace epe::test
