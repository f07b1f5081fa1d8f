#pragma once
// Building blocks shared by the enhancer's generator and discriminators (lib/epe/nn):
// padded convolutions (replicate or zero padding, optional spectral normalisation) and
// switchable normalisation layers.

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/instancenorm.h>
#include <torch/nn/modules/normalization.h>

#include <memory>
#include <string>

#include "epe/nn/network_config.h"

namespace epe::nn {

enum class Pad { replicate, zeros };

// k x k convolution with "same" padding (replicate or zeros; stride 2 gives floor((H-1)/2)+1 rows).
// With `spectral`, the weight is divided by its largest singular value, estimated by power
// iteration (buffers u, v; one iteration per forward pass in training mode, as PyTorch's
// spectral_norm).
class PadConvImpl : public torch::nn::Module {
 public:
  PadConvImpl(int in, int out, int kernel, int stride, bool bias, bool spectral = false, Pad pad = Pad::replicate);
  at::Tensor forward(const at::Tensor& x);
  // One power iteration of the spectral norm (what a training-mode forward pass does first);
  // nothing without spectral normalisation.
  void power_iteration();
  torch::nn::Conv2d conv{nullptr};

 private:
  at::Tensor weight();
  int kernel_, stride_;
  bool spectral_;
  Pad pad_;
  at::Tensor u_, v_;
};
TORCH_MODULE(PadConv);

// NormKind (nn/network_config.h): group (8 groups, affine) | instance (affine) | batch | none;
// `affine` = false gives GroupNorm without parameters (RAD).
class NormImpl : public torch::nn::Module {
 public:
  NormImpl(NormKind kind, int channels, bool affine = true);
  at::Tensor forward(const at::Tensor& x);

 private:
  NormKind kind_;
  torch::nn::GroupNorm gn_{nullptr};
  torch::nn::InstanceNorm2d in_{nullptr};
  torch::nn::BatchNorm2d bn_{nullptr};
  int channels_;
  bool affine_;
};
TORCH_MODULE(Norm);

}  // namespace epe::nn
