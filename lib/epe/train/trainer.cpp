#include "epe/train/trainer.h"

#include <ATen/autocast_mode.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "epe/core/atomic_file.h"
#include "epe/core/error.h"
#include "epe/core/rng.h"
#include "epe/core/sha256.h"
#include "epe/core/timer.h"
#include "epe/io/image.h"
#include "epe/nn/convert.h"
#include "epe/nn/device.h"
#include "epe/train/gan_loss.h"

namespace fs = std::filesystem;

namespace epe {

namespace {

void set_requires_grad(torch::nn::Module& m, bool on) {
  for (auto& p : m.parameters()) p.set_requires_grad(on);
}

bool grads_finite(torch::nn::Module& m) {
  std::vector<at::Tensor> ok;
  for (const auto& p : m.parameters())
    if (p.grad().defined()) ok.push_back(torch::isfinite(p.grad()).all());
  return ok.empty() || torch::stack(ok).all().item<bool>();  // one device synchronisation
}

// Clears every gradient to "none" (undefined), as the reference's zero_grad(set_to_none=True):
// Adam then skips parameters that received no gradient — the discriminators the controller did
// not run get neither a momentum step nor weight decay, and a step with none selected moves
// nothing. (Zero-filled gradients would move them.) Adam's state of a parameter that never had a
// gradient is absent, and stays absent across a checkpoint, so resumed runs stay exact.
void zero_grads(torch::nn::Module& m) {
  for (auto& p : m.parameters()) p.mutable_grad() = at::Tensor();
}

void set_lr(torch::optim::Adam& opt, double lr) {
  for (auto& g : opt.param_groups()) static_cast<torch::optim::AdamOptions&>(g.options()).lr(lr);
}

// Backward, then (--distributed) the gradients averaged over the ranks, clipping (largest absolute
// entry), learning rate lr0 * gamma^(steps / every) and the optimiser step. False, with no step,
// when the loss or a gradient is not finite — on any rank: every rank takes the same decision.
bool optimise(const at::Tensor& total, torch::nn::Module& m, torch::optim::Adam& opt, double clip, double lr0,
              double gamma, std::int64_t every, std::int64_t* steps, Distributed* dist) {
  const bool finite = std::isfinite(total.item<double>());
  if (finite) total.backward();
  if (dist) {
    if (!dist->all(finite)) return false;
    // A parameter can get a gradient on one rank and none on another (a class absent from that
    // rank's batch): those take zeros for the average. Parameters no rank touched (discriminators
    // the controller did not run) keep no gradient, so Adam skips them as in one process.
    std::vector<at::Tensor> params = m.parameters();
    std::vector<double> has(params.size());
    for (std::size_t i = 0; i < params.size(); ++i) has[i] = params[i].grad().defined() ? 1.0 : 0.0;
    has = dist->average(has);
    std::vector<at::Tensor> grads;
    for (std::size_t i = 0; i < params.size(); ++i) {
      if (has[i] == 0) continue;
      if (!params[i].grad().defined()) params[i].mutable_grad() = torch::zeros_like(params[i]);
      grads.push_back(params[i].grad());
    }
    dist->average(grads);
  } else if (!finite) {
    return false;
  }
  if (!grads_finite(m)) return false;
  if (clip > 0) torch::nn::utils::clip_grad_norm_(m.parameters(), clip, std::numeric_limits<double>::infinity());
  set_lr(opt, lr0 * std::pow(gamma, double(*steps / every)));
  opt.step();
  ++*steps;
  return true;
}

// The sample picture of a step: the batch's first synthetic | enhanced | real crops (enlarged by
// an integer factor to about the frames' width) above `sample_frames` whole synthetic frames
// spread over the list, input | enhanced, each shrunk to `sample_width` (current generator, eval
// mode, the frames' own resolution, as `epe enhance` runs it).
cv::Mat sample_picture(Nets& n, const TrainBatch& b, const TrainData& data, const TrainOptions& o,
                       const c10::Device& dev) {
  torch::NoGradGuard no_grad;
  n.g->eval();
  std::vector<cv::Mat> rows;
  const at::Tensor e = n.g->forward(b.syn_image.narrow(0, 0, 1), b.gbuffers.narrow(0, 0, 1), b.classes.narrow(0, 0, 1));
  cv::Mat crops;
  cv::hconcat(std::vector<cv::Mat>{nn::tensor_to_image(b.syn_image[0]), nn::tensor_to_image(e[0].to(torch::kCPU)),
                                   nn::tensor_to_image(b.real_image[0])},
              crops);
  const int frames = std::min<int>(o.sample_frames, static_cast<int>(data.synthetic_frames()));
  const int factor = std::max(1, (frames > 0 ? 2 * o.sample_width : crops.cols) / crops.cols);
  cv::resize(crops, crops, {}, factor, factor, cv::INTER_NEAREST);
  rows.push_back(crops);
  for (int k = 0; k < frames; ++k) {
    const TrainBatch f = data.frame(static_cast<std::size_t>(k) * data.synthetic_frames() / std::size_t(frames));
    const at::Tensor y = n.g->forward(f.syn_image.to(dev), f.gbuffers.to(dev), f.classes.to(dev)).to(torch::kCPU);
    cv::Mat pair;
    for (const at::Tensor& t : {f.syn_image[0], y[0].to(torch::kFloat32)}) {
      cv::Mat img = nn::tensor_to_image(t);
      if (img.cols > o.sample_width)
        cv::resize(img, img, {o.sample_width, std::max(1, img.rows * o.sample_width / img.cols)}, 0, 0, cv::INTER_AREA);
      pair = pair.empty() ? img : [&] {
        cv::Mat h;
        cv::hconcat(pair, img, h);
        return h;
      }();
    }
    rows.push_back(pair);
  }
  n.g->train();
  int width = 0, height = 0;
  for (const cv::Mat& r : rows) width = std::max(width, r.cols), height += r.rows;
  cv::Mat canvas(height, width, CV_32FC3, cv::Scalar(0, 0, 0));
  int y0 = 0;
  for (const cv::Mat& r : rows) {
    r.copyTo(canvas(cv::Rect(0, y0, r.cols, r.rows)));
    y0 += r.rows;
  }
  return canvas;
}

}  // namespace

// ---------------------------------------------------------------- set-up

Trainer::Trainer(const TrainOptions& options, void (*log)(const std::string&))
    : o_(options), log_(log), dev_(nn::parse_device(options.device)) {
  const c10::ScalarType precision = nn::parse_precision(o_.precision, dev_);
  autocast_ = dev_.is_cuda() && precision != torch::kFloat32;
  // --distributed: join the other ranks first, so a rendezvous problem shows before any work.
  if (o_.distributed && !o_.dry_run) {
    dist_ = Distributed::connect(rendezvous_from_environment(), o_.dist_timeout);
    r_.rank = dist_->rank();
    r_.world = dist_->world();
    r_.distributed = dist_->describe();
  }
  writer_ = r_.rank == 0;
  // Data first: every input problem is reported before a network is built or a step runs.
  data_ = std::make_unique<TrainData>(o_.data, o_.generator.gbuffer_channels, o_.generator.num_classes);
  r_.data_summary = data_->summary();

  torch::manual_seed(o_.seed);
  n_.g = std::make_shared<nn::Generator>(o_.generator);
  if (o_.generator_init == GeneratorInit::identity) n_.g->zero_output_layer();
  nn::Vgg16Options vo;
  vo.weights = o_.vgg;
  vo.seed = o_.seed;
  vo.padding = nn::Padding::replicate;
  n_.vgg = std::make_shared<nn::Vgg16>(vo);
  n_.d = std::make_shared<nn::Discriminator>(o_.discriminator, n_.vgg);
  nn::LpipsOptions lo;
  lo.vgg = o_.vgg;
  lo.lin = o_.lpips_lin;
  lo.seed = o_.seed;
  lo.norm = nn::LpipsNorm::stable;  // finite gradients where a feature column is all zero
  n_.lpips = std::make_shared<nn::Lpips>(lo);
  r_.generator_parameters = n_.g->parameter_count();
  r_.discriminator_parameters = nn::count_parameters(*n_.d);
  threshold_ = o_.gan_loss == GanLoss::ls ? 0.5 : 0.0;
  const fs::path out(o_.out);
  out_ = out.string();
  ckdir_ = (out / "checkpoints").string();
  log_path_ = (out / "log.csv").string();
}

Trainer::~Trainer() {
  if (ahead_.valid()) ahead_.wait();
  if (autocast_) at::autocast::set_enabled(false);
}

void Trainer::say(const std::string& line) const {
  if (log_ && writer_) log_(line);
}

void Trainer::sync() const {
  if (dist_) dist_->barrier();
}

void Trainer::start_or_resume() {
  n_.g->to(dev_);
  n_.vgg->to(dev_);
  n_.d->to(dev_);
  n_.lpips->to(dev_);
  if (dist_) {
    // Every rank built the same networks from the seed; rank 0's copy makes that certain.
    std::vector<at::Tensor> t;
    for (torch::nn::Module* m :
         {static_cast<torch::nn::Module*>(n_.g.get()), static_cast<torch::nn::Module*>(n_.d.get())}) {
      for (const auto& p : m->parameters()) t.push_back(p);
      for (const auto& b : m->buffers()) t.push_back(b);
    }
    torch::NoGradGuard no_grad;
    dist_->broadcast(t);
    say(cat("distributed: ", r_.distributed, "; every rank draws ", o_.data.batch, " crops per step"));
  }
  start_optimisers(n_, o_);
  s_.ctl.resize(static_cast<std::size_t>(n_.d->count()));
  const fs::path out(out_), ckdir(ckdir_);
  if (o_.resume) {
    const std::string ck = resolve_checkpoint(o_.out);
    load_checkpoint(ck, n_, s_, o_);  // every rank reads the same checkpoint (a shared file system)
    say(cat("resumed from ", ck, " at step ", s_.step));
    if (writer_) truncate_log(log_path_, s_.step, csv_header(n_.d->count()));
  } else {
    EPE_CHECK(!fs::exists(out) || o_.force, "run folder '", o_.out,
              "' exists; pass --resume to continue it or --force to start over");
    sync();  // every rank has looked before rank 0 starts over
    if (writer_) {
      fs::remove_all(out);
      fs::create_directories(ckdir);
      fs::create_directories(out / "samples");
      write_file_atomic((out / "train.ini").string(), o_.options_ini);
      write_file_atomic(log_path_, csv_header(n_.d->count()));
      save_checkpoint((ckdir / step_name(0)).string(), n_, s_, o_);
      write_file_atomic((ckdir / "latest").string(), step_name(0) + "\n");
    }
  }
  sync();
  last_ck_ = resolve_checkpoint(o_.out);
  if (writer_) csv_.open(log_path_, std::ios::app);
  r_.first_step = s_.step;
  if (autocast_) {
    at::autocast::set_enabled(true);
    at::autocast::set_autocast_gpu_dtype(nn::parse_precision(o_.precision, dev_));
  }
}

// ---------------------------------------------------------------- the loop

TrainResult Trainer::run() {
  if (o_.dry_run) return r_;
  start_or_resume();
  // The next batch is decoded while the current step trains (batches are a pure function of
  // step and rollbacks, so this changes nothing but the wall time).
  auto fetch = [this](std::int64_t step, std::int64_t rb) {
    return std::async(std::launch::async, [this, step, rb] { return data_->get(step, rb, r_.rank); });
  };
  while (s_.step < o_.steps) {
    const Timer t0;
    if (ahead_key_ != std::make_pair(s_.step, s_.rollbacks)) {
      if (ahead_.valid()) ahead_.wait();
      ahead_ = fetch(s_.step, s_.rollbacks);
    }
    TrainBatch b = ahead_.get();
    ahead_key_ = {s_.step + 1, s_.rollbacks};
    if (s_.step + 1 < o_.steps) ahead_ = fetch(s_.step + 1, s_.rollbacks);
    for (at::Tensor* t : {&b.syn_image, &b.gbuffers, &b.classes, &b.syn_labels, &b.real_image, &b.real_labels})
      *t = t->to(dev_);
    StepRecord rec;
    rec.step = s_.step;
    const bool gen_step = s_.step % 2 == 1;
    const bool ok = gen_step ? generator_step(b, &rec) : discriminator_step(b, &rec);
    // The NaN guard: a non-finite step is skipped (no optimiser moved); a run of them rolls back.
    if (!ok) {
      rec.kind = "bad";
      ++r_.bad_steps;
      n_.opt_g->zero_grad();
      n_.opt_d->zero_grad();
      ++bad_in_a_row_;
      say(cat("step ", s_.step, ": non-finite ", gen_step ? "generator" : "discriminator",
              " loss or gradient; step skipped (", bad_in_a_row_, " in a row)"));
    } else {
      bad_in_a_row_ = 0;
    }
    for (const auto& c : s_.ctl) rec.run_probability.push_back(std::min(1.0, c.p));
    rec.seconds = t0.seconds();
    write_record(rec);
    if (writer_ && o_.sample_every > 0 && s_.step % o_.sample_every == 0) {
      char name[48];
      std::snprintf(name, sizeof name, "step_%07lld.png", static_cast<long long>(s_.step));
      write_png((fs::path(out_) / "samples" / name).string(), sample_picture(n_, b, *data_, o_, dev_));
    }
    ++s_.step;
    if (bad_in_a_row_ >= o_.max_bad_steps) {
      rollback(s_.step);
      continue;
    }
    if (s_.step % o_.checkpoint_every == 0 || s_.step == o_.steps) checkpoint("");
    if (o_.validate_every > 0 && s_.step % o_.validate_every == 0) validate();
  }
  finish();
  r_.seconds = started_.seconds();
  return r_;
}

// ---------------------------------------------------------------- the two steps

bool Trainer::generator_step(const TrainBatch& b, StepRecord* rec) {
  rec->kind = "gen";
  set_requires_grad(*n_.d, false);
  set_requires_grad(*n_.g, true);
  zero_grads(*n_.g);
  const at::Tensor enhanced = n_.g->forward(b.syn_image, b.gbuffers, b.classes);
  at::Tensor gan = torch::zeros({}, enhanced.options());
  for (const auto& m : n_.d->forward(enhanced, b.syn_labels, false))
    gan = gan + gen_loss(o_.gan_loss, m.to(torch::kFloat32));
  const at::Tensor lp = o_.lpips_weight * n_.lpips->forward(b.syn_image, enhanced).mean();
  const at::Tensor total = gan + lp;
  rec->g_gan = gan.item<double>();
  rec->g_lpips = lp.item<double>();
  rec->g_total = total.item<double>();
  const bool ok =
      optimise(total, *n_.g, *n_.opt_g, o_.clip, o_.lr_g, o_.lr_gamma, o_.lr_step_g, &s_.g_steps, dist_.get());
  if (dist_) {  // the log shows the losses of the whole batch
    const std::vector<double> v = dist_->average({rec->g_gan, rec->g_lpips, rec->g_total});
    rec->g_gan = v[0], rec->g_lpips = v[1], rec->g_total = v[2];
  }
  return ok;
}

bool Trainer::discriminator_step(const TrainBatch& b, StepRecord* rec) {
  rec->kind = "disc";
  Rng rng(o_.seed ^ 0xD15C0000ULL,
          static_cast<std::uint64_t>(s_.step) * 1000 + static_cast<std::uint64_t>(s_.rollbacks));
  std::vector<bool> run(s_.ctl.size());
  for (std::size_t i = 0; i < run.size(); ++i) {
    const double u = rng.uniform();
    run[i] = o_.controller_target < 0 || u < s_.ctl[i].p;
    if (run[i]) rec->ran.push_back(static_cast<int>(i));
  }
  if (rec->ran.empty()) {
    // As the reference: no discriminator loss; the optimiser steps (moving nothing: no
    // parameter has a gradient) and its schedule counts the step.
    rec->kind = "skip";
    zero_grads(*n_.d);
    set_lr(*n_.opt_d, o_.lr_d * std::pow(o_.lr_gamma, double(s_.d_steps / o_.lr_step_d)));
    n_.opt_d->step();
    ++s_.d_steps;
    return true;
  }
  set_requires_grad(*n_.d, true);
  set_requires_grad(*n_.g, false);
  zero_grads(*n_.d);
  at::Tensor enhanced;
  {
    torch::NoGradGuard no_grad;
    enhanced = n_.g->forward(b.syn_image, b.gbuffers, b.classes);
  }
  const auto fake = n_.d->forward(enhanced, b.syn_labels, true, &run);
  const at::Tensor real_img = b.real_image.detach().clone().requires_grad_(true);
  const auto real = n_.d->forward(real_img, b.real_labels, false, &run);
  at::Tensor lf = torch::zeros({}, enhanced.options()), lr = torch::zeros({}, enhanced.options());
  for (int i : rec->ran) {
    lf = lf + fake_loss(o_.gan_loss, fake[i].to(torch::kFloat32));
    lr = lr + real_loss(o_.gan_loss, real[i].to(torch::kFloat32));
  }
  at::Tensor r1 = torch::zeros({}, enhanced.options());
  if (o_.r1_weight > 0) {
    const at::Tensor g = torch::autograd::grad({lr}, {real_img}, {}, /*retain_graph=*/true, /*create_graph=*/true)[0];
    r1 = g.pow(2).flatten(1).sum(1).mean();
  }
  const at::Tensor total = lf + lr + o_.r1_weight * r1;
  rec->d_fake = lf.item<double>();
  rec->d_real = lr.item<double>();
  rec->d_r1 = r1.item<double>();
  rec->d_total = total.item<double>();
  const bool ok =
      optimise(total, *n_.d, *n_.opt_d, o_.clip, o_.lr_d, o_.lr_gamma, o_.lr_step_d, &s_.d_steps, dist_.get());
  if (dist_) {
    const std::vector<double> v = dist_->average({rec->d_fake, rec->d_real, rec->d_r1, rec->d_total});
    rec->d_fake = v[0], rec->d_real = v[1], rec->d_r1 = v[2], rec->d_total = v[3];
  }
  if (ok && o_.controller_target >= 0) {
    std::vector<double> accuracy;
    for (int i : rec->ran) {
      const at::Tensor correct =
          torch::cat({(fake[i].detach() < threshold_).flatten(), (real[i].detach() > threshold_).flatten()});
      accuracy.push_back(correct.to(torch::kFloat64).mean().item<double>());
    }
    // Over the ranks, so every rank's controller takes the same decisions.
    if (dist_) accuracy = dist_->average(accuracy);
    for (std::size_t j = 0; j < rec->ran.size(); ++j)
      s_.ctl[static_cast<std::size_t>(rec->ran[j])].tune(accuracy[j], o_.controller_target);
  }
  return ok;
}

// ---------------------------------------------------------------- records, checkpoints, rollbacks

void Trainer::write_record(const StepRecord& rec) {
  std::string ran;
  for (int i : rec.ran) ran += (ran.empty() ? "" : " ") + std::to_string(i);
  char buf[512];
  std::snprintf(buf, sizeof buf, "%lld,%s,%.4f,%.6g,%.6g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%s",
                static_cast<long long>(rec.step), rec.kind.c_str(), rec.seconds,
                o_.lr_g * std::pow(o_.lr_gamma, double(s_.g_steps / o_.lr_step_g)),
                o_.lr_d * std::pow(o_.lr_gamma, double(s_.d_steps / o_.lr_step_d)), rec.g_gan, rec.g_lpips, rec.g_total,
                rec.d_fake, rec.d_real, rec.d_r1, rec.d_total, ran.c_str());
  csv_ << buf;
  for (double p : rec.run_probability) csv_ << "," << p;
  csv_ << "\n";
  r_.records.push_back(rec);
  if (s_.step % o_.log_every == 0 || s_.step + 1 == o_.steps) {
    std::string p;
    for (double x : rec.run_probability) p += cat(" ", std::lround(100 * x));
    say(rec.kind == "gen" ? cat("step ", s_.step, "/", o_.steps, " gen: gan ", rec.g_gan, " lpips ", rec.g_lpips,
                                " total ", rec.g_total, " | run % ", p, " | ", rec.seconds, " s")
                          : cat("step ", s_.step, "/", o_.steps, " ", rec.kind, ": fake ", rec.d_fake, " real ",
                                rec.d_real, " r1 ", rec.d_r1, " total ", rec.d_total, " | ran ", rec.ran.size(),
                                " | run % ", p, " | ", rec.seconds, " s"));
  }
}

void Trainer::checkpoint(const char* why) {
  last_ck_ = (fs::path(ckdir_) / step_name(s_.step)).string();
  if (writer_) {
    save_checkpoint(last_ck_, n_, s_, o_);
    write_file_atomic((fs::path(ckdir_) / "latest").string(), step_name(s_.step) + "\n");
  }
  sync();
  r_.last_checkpoint = last_ck_;
  say(cat("checkpoint ", last_ck_, why));
}

void Trainer::rollback(std::int64_t at_step) {
  const std::int64_t rollbacks = s_.rollbacks + 1;
  load_checkpoint(last_ck_, n_, s_, o_);
  s_.rollbacks = std::max(s_.rollbacks, rollbacks);
  if (writer_) {
    csv_.close();  // the replayed steps replace the abandoned rows
    truncate_log(log_path_, s_.step, csv_header(n_.d->count()));
    csv_.open(log_path_, std::ios::app);
  }
  ++r_.rollbacks;
  bad_in_a_row_ = 0;
  EPE_CHECK(r_.rollbacks <= o_.max_rollbacks, "training diverges: ", r_.rollbacks,
            " rollbacks to the last good checkpoint did not help (lower the learning rates, check the data); "
            "the last good checkpoint is ",
            last_ck_);
  say(cat("ROLLBACK: ", o_.max_bad_steps, " non-finite steps in a row at step ", at_step - 1, "; reloaded ", last_ck_,
          " (step ", s_.step, ") and continue with other batches (rollback ", s_.rollbacks, ")"));
}

void Trainer::validate() {
  // Validate the current generator, not an older checkpoint: write one for this step first.
  if (last_ck_ != (fs::path(ckdir_) / step_name(s_.step)).string()) checkpoint(" (for validation)");
  csv_.flush();
  EnhanceOptions eo;
  eo.checkpoint = last_ck_;
  eo.list = o_.validate;
  char name[40];
  std::snprintf(name, sizeof name, "step_%07lld", static_cast<long long>(s_.step));
  const fs::path out(out_);
  fs::create_directories(out / "validation");
  eo.out = (out / "validation" / name).string();
  eo.device = o_.device;
  eo.force = true;
  if (writer_) {                                      // the others wait at the next collective (within --dist-timeout)
    if (autocast_) at::autocast::set_enabled(false);  // validation in the checkpoint's precision
    const EnhanceResult er = enhance(eo);
    if (autocast_) at::autocast::set_enabled(true);
    say(cat("validation: ", er.frames, " frames enhanced -> ", eo.out));
  }
  sync();
}

void Trainer::finish() {
  if (ahead_.valid()) ahead_.wait();
  if (autocast_) at::autocast::set_enabled(false);
  Sha256 h;
  for (torch::nn::Module* m :
       {static_cast<torch::nn::Module*>(n_.g.get()), static_cast<torch::nn::Module*>(n_.d.get())})
    for (const auto& p : m->parameters()) {
      const at::Tensor c = p.detach().to(torch::kCPU).contiguous();
      h.update(c.data_ptr(), static_cast<std::size_t>(c.nbytes()));
    }
  r_.parameters_sha256 = h.hex_digest();
  r_.last_step = s_.step;
}

}  // namespace epe
