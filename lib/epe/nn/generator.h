#pragma once
// The image enhancement network of EPE (docs/DESIGN.md §5.8): an HRNet with a full-resolution stem,
// stages of 1..S parallel branches (channels base·2^j, `blocks` basic residual blocks per branch),
// multi-resolution fusion after every stage, and a decoder that merges the branches from coarse to
// fine; its 3-channel output is a residual in logit space: out = sigmoid(logit(clamp(x)) + f(x)).
//
// G-buffers enter through
//   encoder_type  encoder  (default) one residual stream per material class, masked by the class map
//                          and summed, then a chain of per-branch encoders (stride 2 between branches)
//                 spade    G-buffers and class maps resized to each branch, no learned encoder
//                 concat   G-buffers and class maps concatenated to the image at the stem
//                 none     image only
//   gbuffer_norm  rad      (default) rendering-aware denormalisation in every residual block:
//                          GroupNorm without affine parameters, scale and shift predicted by 1x1
//                          convolutions from G-buffer features after `gbuffer_layers` residual layers
//                 spade    the same with one 3x3 convolution + ReLU instead of the residual layers
//                 default  plain normalisation (other_norm) in the blocks
// Convolutions in the G-buffer paths are spectrally normalised (one power iteration per training
// forward pass). The `paper` preset is the reference's default configuration and has exactly
// 44,736,691 parameters.

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace epe::nn {

struct GeneratorConfig {
  int num_stages = 4;                    // parallel branches in the last stage (1..6)
  int base_channels = 16;                // channels of branch 0; branch j has base·2^j
  int blocks = 4;                        // basic blocks per branch and stage
  int num_classes = 12;                  // material classes routing the G-buffer encoder
  int gbuffer_channels = 32;             // G-buffer channels
  std::string encoder_type = "encoder";  // encoder | spade | concat | none
  std::string gbuffer_norm = "rad";      // rad | spade | default
  int gbuffer_layers = 3;                // residual layers before RAD's scale/shift
  int gbuffer_dim = 128;                 // channels of the G-buffer features
  std::string stem_norm = "group";       // group | instance | batch | none
  std::string other_norm = "group";      // norms of transitions, fusion, decoder (and blocks without RAD)

  static GeneratorConfig preset(const std::string& name);  // paper | tiny
  void check() const;                                      // UserError on a bad combination
  std::string describe() const;                            // one line, "key=value ..."
  // INI-style "key = value" lines and back (stored in checkpoints).
  std::string to_ini() const;
  static GeneratorConfig from_ini(const std::string& text);
  bool operator==(const GeneratorConfig& o) const { return to_ini() == o.to_ini(); }
};

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
