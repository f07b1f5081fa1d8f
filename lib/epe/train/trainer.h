#pragma once
// Internal to the train module: one training run of `epe train` (train.h), as a Trainer that
// owns the data, the networks, the counters and the run folder, and takes its steps:
//
//   Trainer t(options, log);  // joins the ranks (--distributed), checks the data, builds the nets
//   TrainResult r = t.run();  // resume or start, then discriminator and generator steps in turn,
//                             // with the NaN guard, checkpoints, rollbacks, samples, validation
//
// Odd steps train the generator, even steps the discriminators the controller selects. A step
// whose loss or gradients are not finite is skipped (the NaN guard); max_bad_steps of them in a
// row roll back to the last checkpoint, which then replays with other batches.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <fstream>
#include <future>
#include <memory>
#include <string>
#include <utility>

#include "epe/core/timer.h"
#include "epe/train/checkpoint.h"
#include "epe/train/data.h"
#include "epe/train/distributed.h"
#include "epe/train/train.h"

namespace epe {

class Trainer {
 public:
  // `options` resolved (generator.gbuffer_channels and num_classes known) and checked.
  Trainer(const TrainOptions& options, void (*log)(const std::string&));
  ~Trainer();
  TrainResult run();

 private:
  void say(const std::string& line) const;
  void sync() const;
  void start_or_resume();
  // One iteration's two kinds of step; false when the loss or a gradient was not finite.
  bool generator_step(const TrainBatch& b, StepRecord* rec);
  bool discriminator_step(const TrainBatch& b, StepRecord* rec);
  void write_record(const StepRecord& rec);  // log.csv row and the console line
  void checkpoint(const char* why);          // of the current step (rank 0), all ranks wait for it
  void rollback(std::int64_t at_step);       // to the last checkpoint, after max_bad_steps in a row
  void validate();                           // enhance --validate with the current generator
  void finish();

  Timer started_;  // r_.seconds: the whole run, set-up included
  TrainOptions o_;
  void (*log_)(const std::string&);
  c10::Device dev_;
  bool autocast_ = false;
  TrainResult r_;
  std::unique_ptr<Distributed> dist_;
  bool writer_ = true;  // rank 0 alone writes the run folder and prints
  std::unique_ptr<TrainData> data_;
  Nets n_;
  State s_;
  std::string out_, ckdir_, log_path_, last_ck_;
  std::ofstream csv_;
  int bad_in_a_row_ = 0;
  double threshold_ = 0;  // a realism score above it counts as "real" for the controller's accuracy
  std::future<TrainBatch> ahead_;
  std::pair<std::int64_t, std::int64_t> ahead_key_{-1, -1};
};

}  // namespace epe
