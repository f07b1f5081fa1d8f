#include "epe/demo/demo_segmenter.h"

#include <torch/script.h>
#include <torch/torch.h>

#include "epe/core/atomic_file.h"
#include "epe/core/error.h"
#include "epe/demo/demo_data.h"
#include "epe/io/classes.h"
#include "epe/io/labels.h"
#include "epe/segment/segment.h"

namespace epe {

DemoSegmenterResult make_demo_segmenter(const std::string& out, const SegmentProtocol& p, bool force) {
  p.check();
  check_output_path(out, force);
  const int C = p.classes;
  EPE_CHECK(C == kUniversalClasses, "the demo segmenter predicts the ", kUniversalClasses,
            " MSeg universal classes; drop --classes");
  // Mean colour (0..255) of every universal class over rendered demo frames of both sets.
  std::vector<std::array<double, 4>> acc(C, {0, 0, 0, 0});
  const auto& to_universal = cityscapes_to_universal();
  for (int i = 0; i < 8; ++i)
    for (bool real : {false, true}) {
      DemoFrame f = render_demo_frame(real, i, 263, 479, 12345);
      for (int r = 0; r < f.image.rows; ++r)
        for (int c = 0; c < f.image.cols; ++c) {
          const int u = to_universal[f.gt_labels.at<unsigned char>(r, c)];
          if (u >= C) continue;
          const cv::Vec3f v = f.image.at<cv::Vec3f>(r, c);
          for (int k = 0; k < 3; ++k) acc[u][k] += 255.0 * v[k];
          acc[u][3] += 1;
        }
    }
  // logits_c = -|v - mu_c|^2 / T up to a class-independent term, as a 1x1 convolution of the
  // normalised input x (v = x * std + mean).
  const double T = 100.0;
  at::Tensor w = torch::zeros({C, 3, 1, 1}), b = torch::full({C}, -1e4);
  DemoSegmenterResult res;
  for (int c = 0; c < C; ++c) {
    if (acc[c][3] == 0) continue;
    ++res.classes_seen;
    double mu[3], bias = 0;
    for (int k = 0; k < 3; ++k) {
      mu[k] = acc[c][k] / acc[c][3];
      w[c][k][0][0] = 2.0 * mu[k] * p.std[k] / T;
      bias += (2.0 * mu[k] * p.mean[k] - mu[k] * mu[k]) / T;
    }
    b[c] = bias;
  }
  torch::jit::Module m("EpeDemoSegmenter");
  m.register_parameter("weight", w, false);
  m.register_parameter("bias", b, false);
  m.register_attribute("description", c10::StringType::get(),
                       std::string("epe demo segmenter: nearest mean colour of the demo classes (NOT MSeg)"));
  m.define(R"(
def forward(self, x):
    return torch.conv2d(x, self.weight, self.bias)
)");
  AtomicFile file(out);
  m.save(file.temp_path());
  file.commit();
  return res;
}

}  // namespace epe
