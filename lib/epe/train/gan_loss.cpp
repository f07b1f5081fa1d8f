#include "epe/train/gan_loss.h"

#include <torch/torch.h>

namespace epe {

const Choices<GanLoss>& gan_losses() {
  static const Choices<GanLoss> c{{"ls", GanLoss::ls},
                                  {"ns", GanLoss::ns},
                                  {"hinge", GanLoss::hinge},
                                  {"ns-standard", GanLoss::ns_standard},
                                  {"hinge-standard", GanLoss::hinge_standard}};
  return c;
}

at::Tensor gen_loss(GanLoss kind, const at::Tensor& d) {
  switch (kind) {
    case GanLoss::ls:
      return (1 - d).pow(2).mean();
    case GanLoss::ns:
      return torch::softplus(1 - d).mean();
    case GanLoss::ns_standard:
      return torch::softplus(-d).mean();
    case GanLoss::hinge:
      return torch::relu(1 - d).mean();
    case GanLoss::hinge_standard:
      break;
  }
  return -d.mean();
}

at::Tensor real_loss(GanLoss kind, const at::Tensor& d) {
  switch (kind) {
    case GanLoss::ls:
      return (1 - d).pow(2).mean();
    case GanLoss::ns:
    case GanLoss::ns_standard:
      return torch::softplus(kind == GanLoss::ns ? 1 - d : -d).mean();
    case GanLoss::hinge:
    case GanLoss::hinge_standard:
      break;
  }
  return torch::relu(1 - d).mean();
}

at::Tensor fake_loss(GanLoss kind, const at::Tensor& d) {
  switch (kind) {
    case GanLoss::ls:
      return d.pow(2).mean();
    case GanLoss::ns:
    case GanLoss::ns_standard:
      return torch::softplus(d).mean();
    case GanLoss::hinge:
      return torch::relu(d).mean();
    case GanLoss::hinge_standard:
      break;
  }
  return torch::relu(1 + d).mean();
}

}  // namespace epe
