#pragma once
// Conversions between OpenCV images and LibTorch tensors used by every stage that runs a network.

#include <ATen/core/Tensor.h>

#include <opencv2/core/mat.hpp>

namespace epe::nn {

// CV_32FC3 (RGB, any layout) -> [3, h, w] float32, a copy.
at::Tensor image_to_tensor(const cv::Mat& rgb);

// [3, h, w] (any device and float type) -> CV_32FC3, a copy.
cv::Mat tensor_to_image(const at::Tensor& chw);

// Row-major h x w x c floats (G-buffers) -> [c, h, w] float32, a copy.
at::Tensor hwc_to_tensor(const float* data, int h, int w, int c);

}  // namespace epe::nn
