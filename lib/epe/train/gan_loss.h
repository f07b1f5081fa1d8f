#pragma once
// The GAN losses of `epe train` (--gan-loss), per realism map d of a discriminator, each the mean
// over the map:
//   ls              generator / real: (1 - d)^2        fake: d^2
//   ns              generator / real: softplus(1 - d)  fake: softplus(d)     } the reference's forms
//   hinge           generator / real: relu(1 - d)      fake: relu(d)         } (discriminator_losses.py)
//   ns-standard     generator / real: softplus(-d)     fake: softplus(d)     (Goodfellow et al., on logits)
//   hinge-standard  generator: -d; real: relu(1 - d);  fake: relu(1 + d)     (Lim & Ye, Miyato et al.)

#include <ATen/core/Tensor.h>

#include "epe/train/gan_loss_kind.h"

namespace epe {

at::Tensor gen_loss(GanLoss kind, const at::Tensor& d);
at::Tensor real_loss(GanLoss kind, const at::Tensor& d);
at::Tensor fake_loss(GanLoss kind, const at::Tensor& d);

}  // namespace epe
