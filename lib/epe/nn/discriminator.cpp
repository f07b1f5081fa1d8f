#include "epe/nn/discriminator.h"

#include <torch/torch.h>

#include <cmath>

#include "epe/core/error.h"
#include "epe/nn/layers.h"
#include "epe/nn/vgg16.h"

namespace epe::nn {

namespace F = torch::nn::functional;

namespace {

void init_leaky(torch::nn::Module& m) {
  torch::NoGradGuard no_grad;
  for (auto& p : m.named_parameters()) {
    if (p.value().dim() == 4) {  // conv weights: Kaiming uniform, fan_in, gain sqrt(2)
      const double fan_in = double(p.value().size(1) * p.value().size(2) * p.value().size(3));
      const double bound = std::sqrt(6.0 / fan_in);
      p.value().uniform_(-bound, bound);
    }
  }
}

// One projection discriminator on a feature map of `dim_in` channels.
class ProjectionImpl : public torch::nn::Module {
 public:
  ProjectionImpl(const DiscriminatorConfig& c, int dim_in, int num_strides) {
    const int base = std::min(c.max_dim, dim_in);
    std::vector<int> dims{dim_in};
    for (int k = 0; k < c.num_layers; ++k) dims.push_back(std::min(c.max_dim, base << k));
    for (int k = 0; k < c.num_layers; ++k) {
      const int stride = k < num_strides ? 2 : 1;
      convs_.push_back(register_module(cat("conv", k), PadConv(dims[k], dims[k + 1], 3, stride, false)));
      norms_.push_back(register_module(cat("norm", k), Norm(c.norm, dims[k + 1])));
    }
    const int d = dims.back();
    out1_ = register_module("out1", PadConv(d, d, 3, 1, true, false, Pad::zeros));
    out2_ = register_module("out2", PadConv(d, 1, 1, 1, true));
    embedding_ = register_module("embedding", torch::nn::Embedding(c.num_classes, d));
    init_leaky(*this);
    torch::NoGradGuard no_grad;
    embedding_->weight.normal_(0.0, 0.01);
  }
  at::Tensor forward(const at::Tensor& x, const at::Tensor& labels) {
    at::Tensor h = x;
    for (std::size_t k = 0; k < convs_.size(); ++k)
      h = torch::leaky_relu(norms_[k]->forward(convs_[k]->forward(h)), 0.2);
    const at::Tensor out = out2_->forward(torch::leaky_relu(out1_->forward(h), 0.2));
    // Unlabeled pixels (255) take no part in the projection term: their embedding is zero.
    const at::Tensor labelled = labels.ne(255);
    at::Tensor e = embedding_->forward(torch::where(labelled, labels, torch::zeros_like(labels)));
    e = (e * labelled.unsqueeze(-1).to(e.scalar_type())).permute({0, 3, 1, 2});
    e = F::interpolate(e, F::InterpolateFuncOptions()
                              .size(std::vector<int64_t>{h.size(2), h.size(3)})
                              .mode(torch::kBilinear)
                              .align_corners(true));
    return (e * h).sum(1, true) + out;
  }

 private:
  std::vector<PadConv> convs_;
  std::vector<Norm> norms_;
  PadConv out1_{nullptr}, out2_{nullptr};
  torch::nn::Embedding embedding_{nullptr};
};
TORCH_MODULE(Projection);

class PatchImpl : public torch::nn::Module {
 public:
  explicit PatchImpl(const DiscriminatorConfig& c) {
    const int dims[5] = {3, 64, 128, 256, 512};
    for (int k = 0; k < 4; ++k) {
      convs_.push_back(register_module(cat("conv", k), PadConv(dims[k], dims[k + 1], 3, k < 3 ? 2 : 1, k == 0)));
      norms_.push_back(register_module(cat("norm", k), Norm(k == 0 ? NormKind::none : c.norm, dims[k + 1])));
    }
    out_ = register_module("out", PadConv(512, 1, 3, 1, true));
    init_leaky(*this);
  }
  at::Tensor forward(const at::Tensor& x) {
    at::Tensor h = x;
    for (std::size_t k = 0; k < convs_.size(); ++k)
      h = torch::leaky_relu(norms_[k]->forward(convs_[k]->forward(h)), 0.2);
    return out_->forward(h);
  }

 private:
  std::vector<PadConv> convs_;
  std::vector<Norm> norms_;
  PadConv out_{nullptr};
};
TORCH_MODULE(Patch);

// relu1_1 ... relu4_3 channels and the stride-2 layers of their discriminators.
const int kTapChannels[10] = {64, 64, 128, 128, 256, 256, 256, 512, 512, 512};
const int kTapStrides[10] = {4, 4, 3, 3, 2, 2, 2, 1, 1, 1};

}  // namespace

Discriminator::Discriminator(const DiscriminatorConfig& config, std::shared_ptr<Vgg16> vgg)
    : config_(config), vgg_(std::move(vgg)) {
  config_.check();
  if (config_.type == DiscriminatorType::ppde) {
    EPE_CHECK(vgg_ != nullptr, "the ppde discriminator needs a VGG-16");
    for (int i = 0; i < 10; ++i)
      discs_.push_back(register_module(cat("disc", i), Projection(config_, kTapChannels[i], kTapStrides[i]).ptr()));
  } else {
    for (int s = 0; s < config_.patchgan_scales; ++s)
      discs_.push_back(register_module(cat("scale", s), Patch(config_).ptr()));
  }
}

int Discriminator::count() const {
  return static_cast<int>(discs_.size());
}

std::vector<at::Tensor> Discriminator::forward(const at::Tensor& image, const at::Tensor& labels, bool fix_input,
                                               const std::vector<bool>* run) {
  std::vector<at::Tensor> out;
  auto runs = [run](std::size_t i) { return run == nullptr || (i < run->size() && (*run)[i]); };
  if (config_.type == DiscriminatorType::patchgan) {
    at::Tensor x = fix_input ? image.detach() : image;
    x = 2 * x - 1;
    for (std::size_t s = 0; s < discs_.size(); ++s) {
      if (s > 0) x = torch::avg_pool2d(x, 2, 2, 0, false, false);
      out.push_back(runs(s) ? std::dynamic_pointer_cast<PatchImpl>(discs_[s])->forward(x) : at::Tensor());
    }
    return out;
  }
  EPE_CHECK(labels.defined() && labels.dim() == 3 && labels.size(0) == image.size(0),
            "discriminator: labels must be [N, H, W]");
  static const std::vector<int> taps = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  std::vector<at::Tensor> feats;
  const at::Tensor x = normalize(image, Normalization::imagenet());
  if (fix_input) {
    torch::NoGradGuard no_grad;
    feats = vgg_->forward(x, taps);
  } else {
    feats = vgg_->forward(x, taps);
  }
  for (std::size_t i = 0; i < 10; ++i)
    out.push_back(runs(i) ? std::dynamic_pointer_cast<ProjectionImpl>(discs_[i])->forward(feats[i], labels)
                          : at::Tensor());
  return out;
}

}  // namespace epe::nn
