#pragma once
// LPIPS (Zhang et al. 2018), VGG variant, version 0.1 — the formula of the reference package
// `lpips` (LPIPS(net='vgg', version='0.1')):
//   x in [0, 1] -> 2x - 1 -> (x - shift) / scale  (shift = -.030 -.088 -.188, scale = .458 .448 .450)
//   VGG-16 taps relu1_2, relu2_2, relu3_3, relu4_3, relu5_3 (zero padding)
//   per tap: unit-normalise over channels (x / (||x|| + 1e-10)), squared difference, 1x1 linear
//   layer without bias (the v0.1 weights), spatial mean; sum over the five taps.
// A torch::nn::Module with frozen parameters: gradients reach both inputs (the generator's
// perceptual loss). The linear weights ship in data/lpips/v0.1/vgg_zip.pt (BSD-2-Clause).
//
// Channel normalisation (LpipsNorm): `v01` is the formula above, for evaluation (`epe lpips`).
// Its gradient is not finite where a feature column is all zero (d sqrt(s)/ds at s = 0 times 0:
// NaN), which a ReLU layer produces — the reference's training diverged with NaN losses (its
// #30, #33, #66). `stable`, used for training, puts the epsilon inside the root,
// x / sqrt(||x||^2 + 1e-10): the same value to ~5e-11 / ||x||^2 relative, gradient <= 1e5.

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

#include <memory>
#include <string>

#include "epe/nn/vgg16.h"

namespace epe::nn {

enum class LpipsNorm { v01, stable };

// The channel normalisation of one tap's features [N, C, H, W] (over C).
at::Tensor lpips_unit_normalize(const at::Tensor& f, LpipsNorm norm);

struct LpipsOptions {
  std::string vgg;         // ImageNet VGG-16 weights (torchvision state dict); empty = random init (warned)
  std::string lin;         // linear-layer weights; empty = <data>/lpips/v0.1/vgg_zip.pt
  std::uint64_t seed = 0;  // random init of VGG-16 without weights
  LpipsNorm norm = LpipsNorm::v01;
};

class Lpips : public torch::nn::Module {
 public:
  explicit Lpips(const LpipsOptions& options);
  // x0, x1: [N, 3, H, W] in [0, 1], same shape, on the module's device and dtype. Returns [N].
  at::Tensor forward(const at::Tensor& x0, const at::Tensor& x1);
  // Per-tap contributions [N, 5] (their row sums are forward()).
  at::Tensor layers(const at::Tensor& x0, const at::Tensor& x1);
  // "vgg: <provenance>; lin: <provenance>".
  std::string provenance() const;
  bool random_vgg() const { return vgg_->random_init(); }

 private:
  std::shared_ptr<Vgg16> vgg_;
  at::Tensor shift_, scale_;
  std::vector<at::Tensor> lin_;
  LpipsNorm norm_ = LpipsNorm::v01;
  std::string lin_provenance_;
};

// The default linear-weights file.
std::string default_lpips_weights();

}  // namespace epe::nn
