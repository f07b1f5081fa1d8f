#include "epe/nn/layers.h"

#include <torch/torch.h>

#include "epe/core/error.h"

namespace epe::nn {

namespace F = torch::nn::functional;

PadConvImpl::PadConvImpl(int in, int out, int kernel, int stride, bool bias, bool spectral, Pad pad)
    : kernel_(kernel), stride_(stride), spectral_(spectral), pad_(pad) {
  conv =
      register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel).stride(stride).bias(bias)));
  if (spectral_) {
    const std::int64_t w = static_cast<std::int64_t>(in) * kernel * kernel;
    u_ = register_buffer("u", F::normalize(torch::randn({out}), F::NormalizeFuncOptions().dim(0).eps(1e-12)));
    v_ = register_buffer("v", F::normalize(torch::randn({w}), F::NormalizeFuncOptions().dim(0).eps(1e-12)));
  }
}

void PadConvImpl::power_iteration() {
  if (!spectral_) return;
  torch::NoGradGuard no_grad;
  const at::Tensor mat = conv->weight.reshape({conv->weight.size(0), -1});
  const auto opt = F::NormalizeFuncOptions().dim(0).eps(1e-12);
  v_.copy_(F::normalize(torch::mv(mat.t(), u_), opt));
  u_.copy_(F::normalize(torch::mv(mat, v_), opt));
}

at::Tensor PadConvImpl::weight() {
  if (!spectral_) return conv->weight;
  const at::Tensor w = conv->weight;
  const at::Tensor mat = w.reshape({w.size(0), -1});
  if (is_training()) power_iteration();
  // Copies, as PyTorch's spectral_norm: a second forward pass before backward() updates u and v
  // in place again, which must not invalidate this pass's graph.
  const at::Tensor sigma = torch::dot(u_.clone(), torch::mv(mat, v_.clone()));
  return w / sigma;
}

at::Tensor PadConvImpl::forward(const at::Tensor& x) {
  const int p = kernel_ / 2;
  at::Tensor h = x;
  if (p > 0 && pad_ == Pad::replicate) h = torch::replication_pad2d(h, {p, p, p, p});
  return torch::conv2d(h, weight(), conv->bias, stride_, pad_ == Pad::zeros ? p : 0);
}

NormImpl::NormImpl(NormKind kind, int channels, bool affine) : kind_(kind), channels_(channels), affine_(affine) {
  if (kind == NormKind::group) {
    EPE_CHECK(channels % 8 == 0, "group normalisation needs a multiple of 8 channels, got ", channels);
    gn_ = register_module("gn", torch::nn::GroupNorm(torch::nn::GroupNormOptions(8, channels).affine(affine)));
  } else if (kind == NormKind::instance) {
    in_ = register_module("in", torch::nn::InstanceNorm2d(torch::nn::InstanceNorm2dOptions(channels).affine(affine)));
  } else if (kind == NormKind::batch) {
    bn_ = register_module("bn", torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(channels).affine(affine)));
  }
}

at::Tensor NormImpl::forward(const at::Tensor& x) {
  if (gn_) return gn_->forward(x);
  if (in_) return in_->forward(x);
  if (bn_) return bn_->forward(x);
  return x;
}

}  // namespace epe::nn
