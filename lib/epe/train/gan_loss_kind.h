#pragma once
// The names of `--gan-loss` (gan_loss.h has the formulas), in a header without LibTorch: the
// options of `epe train` and `epe import-checkpoint` hold one.

#include "epe/core/options.h"

namespace epe {

enum class GanLoss { ls, ns, hinge, ns_standard, hinge_standard };
// "ls", "ns", "hinge" (the reference's forms), "ns-standard", "hinge-standard"; checkpoints
// record the name.
const Choices<GanLoss>& gan_losses();

}  // namespace epe
