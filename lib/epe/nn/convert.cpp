#include "epe/nn/convert.h"

#include <torch/torch.h>

#include "epe/core/error.h"

namespace epe::nn {

at::Tensor image_to_tensor(const cv::Mat& rgb) {
  EPE_ASSERT(rgb.type() == CV_32FC3, "image_to_tensor: expected CV_32FC3");
  const cv::Mat c = rgb.isContinuous() ? rgb : rgb.clone();
  return hwc_to_tensor(c.ptr<float>(), c.rows, c.cols, 3);
}

cv::Mat tensor_to_image(const at::Tensor& chw) {
  EPE_ASSERT(chw.dim() == 3 && chw.size(0) == 3, "tensor_to_image: expected [3, h, w]");
  const at::Tensor t = chw.detach().to(torch::kCPU, torch::kFloat32).permute({1, 2, 0}).contiguous();
  return cv::Mat(static_cast<int>(t.size(0)), static_cast<int>(t.size(1)), CV_32FC3,
                 const_cast<float*>(t.data_ptr<float>()))
      .clone();
}

at::Tensor hwc_to_tensor(const float* data, int h, int w, int c) {
  return torch::from_blob(const_cast<float*>(data), {h, w, c}, torch::kFloat32)
      .permute({2, 0, 1})
      .clone(at::MemoryFormat::Contiguous);
}

}  // namespace epe::nn
