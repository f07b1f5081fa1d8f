#pragma once
// Discriminators of the enhancer (docs/DESIGN.md §5.8):
//   ppde      the perceptual projection discriminator ensemble: a frozen VGG-16 (replicate padding,
//             ImageNet normalisation) whose first ten ReLU outputs (relu1_1 ... relu4_3) each feed a
//             small conv discriminator (GroupNorm, LeakyReLU 0.2) plus a projection term, the inner
//             product of its features with an embedding of the robust label (num_classes: 194
//             MSeg classes, or the segmenter's own count, e.g. 19 for a Cityscapes model; id 255,
//             unlabeled, has a zero embedding, so it is masked out) resized to the feature map. Paper preset:
//             27,578,634 trainable parameters (VGG frozen, not counted).
//   patchgan  a plain multi-scale PatchGAN on the image (3 scales, 3x3 convolutions, labels unused).
// forward() returns one realism map per discriminator.

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

#include <memory>
#include <string>
#include <vector>

#include "epe/nn/network_config.h"

namespace epe::nn {

class Vgg16;

class Discriminator : public torch::nn::Module {
 public:
  // `vgg`: the frozen VGG-16 (replicate padding) the ppde type reads features from; not a
  // registered submodule, so it is neither counted nor trained nor saved with the discriminator.
  Discriminator(const DiscriminatorConfig& config, std::shared_ptr<Vgg16> vgg);
  // image [N, 3, H, W] in [0, 1]; labels [N, H, W] int64 robust label ids (< num_classes, or 255).
  // fix_input: no gradient into the image / VGG features (the discriminator's fake pass).
  // run: which discriminators to evaluate (null: all); the others' maps are undefined tensors.
  std::vector<at::Tensor> forward(const at::Tensor& image, const at::Tensor& labels, bool fix_input,
                                  const std::vector<bool>* run = nullptr);
  int count() const;  // number of discriminators (maps returned)
  const DiscriminatorConfig& config() const { return config_; }

 private:
  DiscriminatorConfig config_;
  std::shared_ptr<Vgg16> vgg_;
  std::vector<std::shared_ptr<torch::nn::Module>> discs_;
};

}  // namespace epe::nn
