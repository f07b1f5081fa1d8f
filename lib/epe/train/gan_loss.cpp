#include "epe/train/gan_loss.h"

#include <torch/torch.h>

namespace epe {

at::Tensor gen_loss(const std::string& kind, const at::Tensor& d) {
  if (kind == "ls") return (1 - d).pow(2).mean();
  if (kind == "ns") return torch::softplus(1 - d).mean();
  if (kind == "ns-standard") return torch::softplus(-d).mean();
  if (kind == "hinge") return torch::relu(1 - d).mean();
  return -d.mean();  // hinge-standard
}
at::Tensor real_loss(const std::string& kind, const at::Tensor& d) {
  if (kind == "ls") return (1 - d).pow(2).mean();
  if (kind == "ns") return torch::softplus(1 - d).mean();
  if (kind == "ns-standard") return torch::softplus(-d).mean();
  return torch::relu(1 - d).mean();  // hinge, hinge-standard
}
at::Tensor fake_loss(const std::string& kind, const at::Tensor& d) {
  if (kind == "ls") return d.pow(2).mean();
  if (kind == "ns" || kind == "ns-standard") return torch::softplus(d).mean();
  if (kind == "hinge") return torch::relu(d).mean();
  return torch::relu(1 + d).mean();  // hinge-standard
}

}  // namespace epe
