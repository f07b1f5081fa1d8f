#include "epe/metrics/resize.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "epe/core/error.h"

namespace epe {

const Choices<ResizeMode>& resize_modes() {
  static const Choices<ResizeMode> c{
      {"clean", ResizeMode::clean}, {"legacy-tf", ResizeMode::legacy_tf}, {"opencv", ResizeMode::opencv}};
  return c;
}

ResizeMode parse_resize_mode(const std::string& s, const std::string& option) {
  return parse_choice(resize_modes(), s, option);
}

const char* to_string(ResizeMode m) {
  return choice_name(resize_modes(), m).c_str();
}

namespace {

double bicubic(double x) {  // Keys' cubic convolution, a = -0.5 (PIL's BICUBIC)
  constexpr double a = -0.5;
  x = std::fabs(x);
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
  if (x < 2.0) return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
  return 0.0;
}

// One axis: for each output index its first input index, count and normalised weights.
struct Coeffs {
  std::vector<int> first, count;
  std::vector<double> w;  // out × ksize
  int ksize = 0;
};

Coeffs coefficients(int in, int out) {
  const double scale = double(in) / out;
  const double filterscale = std::max(1.0, scale);  // the kernel widens when shrinking
  const double support = 2.0 * filterscale;
  Coeffs c;
  c.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  c.first.resize(out);
  c.count.resize(out);
  c.w.assign(static_cast<std::size_t>(out) * c.ksize, 0.0);
  for (int o = 0; o < out; ++o) {
    const double center = (o + 0.5) * scale;
    // PIL rounds with (int)(v + 0.5), i.e. truncation of a value that may be negative.
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in) xmax = in;
    xmax -= xmin;
    double* k = &c.w[static_cast<std::size_t>(o) * c.ksize];
    double total = 0.0;
    const double ss = 1.0 / filterscale;  // multiplied, not divided, as PIL does (bit for bit)
    for (int x = 0; x < xmax; ++x) {
      k[x] = bicubic((x + xmin - center + 0.5) * ss);
      total += k[x];
    }
    if (total != 0.0)
      for (int x = 0; x < xmax; ++x) k[x] /= total;
    c.first[o] = xmin;
    c.count[o] = xmax;
  }
  return c;
}

}  // namespace

cv::Mat resize_pil_bicubic(const cv::Mat& m, int h, int w) {
  EPE_CHECK(m.depth() == CV_32F && h > 0 && w > 0, "resize: expected a float image and a positive size");
  const int ch = m.channels();
  cv::Mat src = m.isContinuous() ? m : m.clone();
  // Horizontal pass first (when the width changes), only over the rows the vertical pass reads.
  const Coeffs cy = coefficients(src.rows, h);
  const int row0 = h == src.rows ? 0 : cy.first[0];
  const int row1 = h == src.rows ? src.rows : cy.first[h - 1] + cy.count[h - 1];
  cv::Mat tmp;
  if (w != src.cols) {
    const Coeffs cx = coefficients(src.cols, w);
    tmp.create(row1 - row0, w, CV_MAKETYPE(CV_32F, ch));
    for (int r = row0; r < row1; ++r) {
      const float* in = src.ptr<float>(r);
      float* out = tmp.ptr<float>(r - row0);
      for (int o = 0; o < w; ++o) {
        const double* k = &cx.w[static_cast<std::size_t>(o) * cx.ksize];
        for (int c = 0; c < ch; ++c) {
          double s = 0.0;
          for (int x = 0; x < cx.count[o]; ++x) s += in[(cx.first[o] + x) * ch + c] * k[x];
          out[o * ch + c] = static_cast<float>(s);
        }
      }
    }
  } else {
    tmp = src.rowRange(row0, row1);
  }
  if (h == src.rows) return w == src.cols ? src.clone() : tmp;
  cv::Mat dst(h, w, CV_MAKETYPE(CV_32F, ch));
  for (int o = 0; o < h; ++o) {
    const double* k = &cy.w[static_cast<std::size_t>(o) * cy.ksize];
    float* out = dst.ptr<float>(o);
    for (int i = 0; i < w * ch; ++i) {
      double s = 0.0;
      for (int y = 0; y < cy.count[o]; ++y) s += tmp.ptr<float>(cy.first[o] - row0 + y)[i] * k[y];
      out[i] = static_cast<float>(s);
    }
  }
  return dst;
}

cv::Mat resize_tf1_bilinear(const cv::Mat& m, int h, int w) {
  EPE_CHECK(m.depth() == CV_32F && h > 0 && w > 0, "resize: expected a float image and a positive size");
  const int ch = m.channels();
  // float32 throughout, as the reference computes it: scale as float, coordinate = index × scale.
  const float sy = static_cast<float>(double(m.rows) / h), sx = static_cast<float>(double(m.cols) / w);
  std::vector<int> x0(w), x1(w);
  std::vector<float> dx(w);
  for (int o = 0; o < w; ++o) {
    const float g = static_cast<float>(o) * sx;
    x0[o] = static_cast<int>(g);
    x1[o] = std::min(x0[o] + 1, m.cols - 1);
    dx[o] = g - static_cast<float>(x0[o]);
  }
  cv::Mat dst(h, w, CV_MAKETYPE(CV_32F, ch));
  for (int r = 0; r < h; ++r) {
    const float g = static_cast<float>(r) * sy;
    const int y0 = static_cast<int>(g), y1 = std::min(y0 + 1, m.rows - 1);
    const float dy = g - static_cast<float>(y0);
    const float *a = m.ptr<float>(y0), *b = m.ptr<float>(y1);
    float* out = dst.ptr<float>(r);
    for (int o = 0; o < w; ++o)
      for (int c = 0; c < ch; ++c) {
        const float i00 = a[x0[o] * ch + c], i01 = a[x1[o] * ch + c];
        const float i10 = b[x0[o] * ch + c], i11 = b[x1[o] * ch + c];
        const float i0 = i00 + (i01 - i00) * dx[o];
        const float i1 = i10 + (i11 - i10) * dx[o];
        out[o * ch + c] = i0 + (i1 - i0) * dy;
      }
  }
  return dst;
}

cv::Mat resize_frame(const cv::Mat& m, int h, int w, ResizeMode mode, float lo, float hi) {
  if (m.rows == h && m.cols == w) return m;
  switch (mode) {
    case ResizeMode::clean: {
      cv::Mat r = resize_pil_bicubic(m, h, w);
      cv::max(r, lo, r);
      cv::min(r, hi, r);
      return r;
    }
    case ResizeMode::legacy_tf:
      return resize_tf1_bilinear(m, h, w);
    default: {
      cv::Mat out;
      const bool shrink = h <= m.rows && w <= m.cols;
      cv::resize(m, out, {w, h}, 0, 0, shrink ? cv::INTER_AREA : cv::INTER_CUBIC);
      return out;
    }
  }
}

}  // namespace epe
