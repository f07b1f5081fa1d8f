#pragma once
// Internal to the train module: the networks and counters of a training run, and their
// checkpoints (an epe-checkpoint-1 torch archive: both networks, both Adam optimisers, the step
// counters and the controllers), with the log.csv helpers a resume or a rollback needs.
// Used by the trainer (trainer.cpp), `epe enhance` (enhance.cpp) and `epe import-checkpoint`.

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "epe/nn/discriminator.h"
#include "epe/nn/generator.h"
#include "epe/nn/lpips.h"
#include "epe/nn/vgg16.h"
#include "epe/train/controller.h"
#include "epe/train/train.h"

namespace epe {

// The networks of a run; the trainer owns them.
struct Nets {
  std::shared_ptr<nn::Generator> g;
  std::shared_ptr<nn::Vgg16> vgg;  // frozen, replicate padding (discriminator)
  std::shared_ptr<nn::Discriminator> d;
  std::shared_ptr<nn::Lpips> lpips;
  std::unique_ptr<torch::optim::Adam> opt_g, opt_d;
};

// The counters of a run: iterations, rollbacks, optimiser steps of each network (the learning
// rate schedules count those), and one controller per discriminator.
struct State {
  std::int64_t step = 0, rollbacks = 0, g_steps = 0, d_steps = 0;
  std::vector<Controller> ctl;
};

// "step_0000042.pt".
std::string step_name(std::int64_t step);

// Fresh Adam optimisers of both networks (coupled weight decay, as torch.optim.Adam).
void start_optimisers(Nets& n, const TrainOptions& o);

// Writes a checkpoint atomically (nothing under `path` until it is complete).
void save_checkpoint(const std::string& path, const Nets& n, const State& s, const TrainOptions& o);
// Opens a checkpoint on the CPU; UserError naming the file when it is not one.
torch::serialize::InputArchive open_checkpoint(const std::string& path);
std::string read_string(torch::serialize::InputArchive& a, const char* key);
// Loads networks, optimisers (moments moved to o.device) and counters; UserError when the
// checkpoint was made with other network configurations or another --gan-loss.
void load_checkpoint(const std::string& path, Nets& n, State& s, const TrainOptions& o);

// Keeps the header and the rows of steps before `step` (after a resume or a rollback).
void truncate_log(const std::string& path, std::int64_t step, const std::string& header);
// log.csv's header for `discs` discriminators.
std::string csv_header(int discs);

}  // namespace epe
