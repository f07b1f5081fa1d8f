#include "epe/nn/lpips.h"

#include <torch/torch.h>

#include "epe/core/error.h"
#include "epe/core/log.h"
#include "epe/io/classes.h"

namespace epe::nn {

std::string default_lpips_weights() {
  return data_dir() + "/lpips/v0.1/vgg_zip.pt";
}

at::Tensor lpips_unit_normalize(const at::Tensor& f, LpipsNorm norm) {
  const at::Tensor s = f.pow(2).sum(1, true);
  return norm == LpipsNorm::v01 ? f / (s.sqrt() + 1e-10) : f / (s + 1e-10).sqrt();
}

Lpips::Lpips(const LpipsOptions& o) : norm_(o.norm) {
  Vgg16Options vo;
  vo.weights = o.vgg;
  vo.seed = o.seed;
  vo.padding = Padding::zeros;
  vgg_ = register_module("vgg", std::make_shared<Vgg16>(vo));
  shift_ = register_buffer("shift", torch::tensor({-.030, -.088, -.188}, torch::kFloat32).view({1, 3, 1, 1}));
  scale_ = register_buffer("scale", torch::tensor({.458, .448, .450}, torch::kFloat32).view({1, 3, 1, 1}));
  const std::string path = o.lin.empty() ? default_lpips_weights() : o.lin;
  StateDict sd = read_state_dict(path);
  const int channels[5] = {64, 128, 256, 512, 512};
  for (int k = 0; k < 5; ++k) {
    const std::string key = cat("lin", k, ".model.1.weight");
    auto it = sd.tensors.find(key);
    EPE_CHECK(it != sd.tensors.end(), "LPIPS weights '", path, "' have no '", key, "'");
    EPE_CHECK(it->second.dim() == 4 && it->second.size(0) == 1 && it->second.size(1) == channels[k] &&
                  it->second.size(2) == 1 && it->second.size(3) == 1,
              "LPIPS weights '", path, "': '", key, "' must be [1, ", channels[k], ", 1, 1]");
    lin_.push_back(register_buffer(cat("lin", k), it->second.to(torch::kFloat32).contiguous()));
  }
  lin_provenance_ = sd.provenance;
  if (vgg_->random_init())
    log_warn("LPIPS: no --vgg weights given; VGG-16 uses a RANDOM INITIALISATION (", vgg_->provenance(),
             "), so distances are not LPIPS. Pass torchvision's ImageNet VGG-16 state dict.");
}

at::Tensor Lpips::layers(const at::Tensor& x0, const at::Tensor& x1) {
  EPE_CHECK(x0.dim() == 4 && x0.size(1) == 3 && x0.sizes() == x1.sizes(),
            "LPIPS: inputs must be two [N, 3, H, W] tensors of the same shape");
  const std::int64_t n = x0.size(0);
  at::Tensor both = torch::cat({x0, x1}, 0);
  both = (2 * both - 1 - shift_) / scale_;
  static const std::vector<int> taps = {vgg16_tap_index("relu1_2"), vgg16_tap_index("relu2_2"),
                                        vgg16_tap_index("relu3_3"), vgg16_tap_index("relu4_3"),
                                        vgg16_tap_index("relu5_3")};
  std::vector<at::Tensor> f = vgg_->forward(both, taps);
  std::vector<at::Tensor> per_layer;
  for (int k = 0; k < 5; ++k) {
    const at::Tensor unit = lpips_unit_normalize(f[k], norm_);
    const at::Tensor d = (unit.narrow(0, 0, n) - unit.narrow(0, n, n)).pow(2);
    per_layer.push_back(torch::conv2d(d, lin_[k]).mean({1, 2, 3}));
  }
  return torch::stack(per_layer, 1);
}

at::Tensor Lpips::forward(const at::Tensor& x0, const at::Tensor& x1) {
  return layers(x0, x1).sum(1);
}

std::string Lpips::provenance() const {
  return "vgg: " + vgg_->provenance() + "; lin: " + lin_provenance_ +
         (norm_ == LpipsNorm::stable ? "; norm: stable" : "");
}

}  // namespace epe::nn
