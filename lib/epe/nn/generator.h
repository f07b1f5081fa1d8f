#pragma once
// The image enhancement network of EPE (docs/DESIGN.md §5.8): an HRNet with a full-resolution stem,
// stages of 1..S parallel branches (channels base·2^j, `blocks` basic residual blocks per branch),
// multi-resolution fusion after every stage, and a decoder that merges the branches from coarse to
// fine; its 3-channel output is a residual in logit space: out = sigmoid(logit(clamp(x)) + f(x)).
//
// G-buffers enter as GeneratorConfig::encoder_type and gbuffer_norm say (nn/network_config.h).
// Convolutions in the G-buffer paths are spectrally normalised (one power iteration per training
// forward pass). The `paper` preset is the reference's default configuration and has exactly
// 44,736,691 parameters.

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "epe/nn/network_config.h"

namespace epe::nn {

class GeneratorImpl;

class Generator : public torch::nn::Module {
 public:
  explicit Generator(const GeneratorConfig& config);
  // image [N, 3, H, W] in [0, 1]; gbuffers [N, gbuffer_channels, H, W]; classes [N, num_classes, H, W]
  // (one-hot or soft material masks). Returns the enhanced image [N, 3, H, W] in (0, 1).
  at::Tensor forward(const at::Tensor& image, const at::Tensor& gbuffers, const at::Tensor& classes);
  const GeneratorConfig& config() const { return config_; }
  std::int64_t parameter_count() const;
  // On (default): each class encoder runs only on its class's bounding box (grown by its receptive
  // radius), which gives the same outputs and gradients as running it on the whole frame (absent
  // classes only advance their spectral-norm power iteration); off: whole frames.
  void set_sparse_class_encoders(bool on);
  // Zeroes the weight and bias of the last convolution (the residual's output layer), so that
  // forward() returns sigmoid(logit(clamp(image, 0.001, 0.999))), the input up to the clamp,
  // until training moves it. The reference keeps PyTorch's default initialisation, whose random
  // residual repaints every frame before the first step; `epe train --generator-init identity`.
  void zero_output_layer();

 private:
  GeneratorConfig config_;
  std::shared_ptr<GeneratorImpl> impl_;
};

// Number of elements of all parameters of a module.
std::int64_t count_parameters(const torch::nn::Module& m);

}  // namespace epe::nn
