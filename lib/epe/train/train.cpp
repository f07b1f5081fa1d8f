#include "epe/train/train.h"

#include "epe/train/gan_loss.h"
#include "epe/train/distributed.h"

#include <ATen/autocast_mode.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <limits>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>
#include <tuple>

#include "epe/core/atomic_file.h"
#include "epe/core/sha256.h"
#include "epe/core/error.h"
#include "epe/core/log.h"
#include "epe/core/rng.h"
#include "epe/io/file_list.h"
#include "epe/io/folder_shards.h"
#include "epe/io/gbuffers.h"
#include "epe/io/image.h"
#include "epe/io/labels.h"
#include "epe/nn/device.h"
#include "epe/nn/lpips.h"
#include "epe/nn/vgg16.h"
#include "epe/nn/convert.h"
#include "epe/nn/reference_import.h"
#include "epe/nn/torch_pickle.h"

namespace fs = std::filesystem;

namespace epe {

void TrainOptions::check() const {
  EPE_CHECK(dist_timeout > 0, "option --dist-timeout: must be > 0 seconds");
  generator.check();
  discriminator.check();
  data.check();
  EPE_CHECK(gan_loss == "ls" || gan_loss == "ns" || gan_loss == "hinge" || gan_loss == "ns-standard" ||
                gan_loss == "hinge-standard",
            "option --gan-loss: '", gan_loss, "' is not ls, ns, hinge, ns-standard or hinge-standard");
  EPE_CHECK(generator_init == "reference" || generator_init == "identity", "option --generator-init: '",
            generator_init, "' is not reference or identity");
  EPE_CHECK(steps >= 1, "option --steps must be >= 1");
  EPE_CHECK(lr_g > 0 && lr_d > 0, "learning rates must be > 0");
  EPE_CHECK(lr_step_g >= 1 && lr_step_d >= 1 && lr_gamma > 0, "learning-rate schedule: steps >= 1 and gamma > 0");
  EPE_CHECK(sample_frames >= 0 && sample_width >= 16, "--sample-frames must be >= 0 and --sample-width >= 16");
  EPE_CHECK(log_every >= 1 && sample_every >= 0 && checkpoint_every >= 1 && validate_every >= 0,
            "--log-every, --checkpoint-every must be >= 1; --sample-every, --validate-every >= 0");
  EPE_CHECK(validate_every == 0 || !validate.empty(), "--validate-every needs --validate LIST");
  EPE_CHECK(max_bad_steps >= 1, "option --max-bad-steps must be >= 1");
  EPE_CHECK(!out.empty() || dry_run, "option --out is required");
  EPE_CHECK(discriminator.num_classes >= 1 && discriminator.num_classes <= 255,
            "option --label-classes: the robust label classes must be in 1..255 (255 is the unlabeled id)");
}

namespace {

// The reference's adaptive backprop controller (one per discriminator).
struct Controller {
  double p = 1.01, sum = 0;
  std::int64_t step = 1, wait = 10, count = 0;
  void tune(double accuracy, double target) {
    sum += accuracy;
    ++count;
    if (count > wait - 1) {
      const double r = sum / double(count);
      step = std::clamp<std::int64_t>(step + (r > target ? 1 : -1), 0, 1000);
      sum = 0;
      count = 0;
      wait = step;
    }
    p = 1.0 / (1.0 + double(step));
  }
};

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

std::string step_name(std::int64_t step) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "step_%07lld.pt", static_cast<long long>(step));
  return buf;
}

struct Nets {
  std::shared_ptr<nn::Generator> g;
  std::shared_ptr<nn::Vgg16> vgg;  // frozen, replicate padding (discriminator)
  std::shared_ptr<nn::Discriminator> d;
  std::shared_ptr<nn::Lpips> lpips;
  std::unique_ptr<torch::optim::Adam> opt_g, opt_d;
};

struct State {
  std::int64_t step = 0, rollbacks = 0, g_steps = 0, d_steps = 0;
  std::vector<Controller> ctl;
};

// Fresh Adam optimisers of both networks (coupled weight decay, as torch.optim.Adam).
void start_optimisers(Nets& n, const TrainOptions& o) {
  auto adam = [&](torch::nn::Module& m, double lr) {
    return std::make_unique<torch::optim::Adam>(
        m.parameters(), torch::optim::AdamOptions(lr).betas({o.beta1, o.beta2}).weight_decay(o.weight_decay));
  };
  n.opt_g = adam(*n.g, o.lr_g);
  n.opt_d = adam(*n.d, o.lr_d);
}

void save_checkpoint(const std::string& path, const Nets& n, const State& s, const TrainOptions& o) {
  torch::serialize::OutputArchive a, ag, ad, aog, aod;
  n.g->save(ag);
  n.d->save(ad);
  n.opt_g->save(aog);
  n.opt_d->save(aod);
  a.write("generator", ag);
  a.write("discriminator", ad);
  a.write("opt_g", aog);
  a.write("opt_d", aod);
  a.write("epe_format", c10::IValue(std::string("epe-checkpoint-1")));
  a.write("generator_config", c10::IValue(o.generator.to_ini()));
  a.write("discriminator_config", c10::IValue(o.discriminator.to_ini()));
  a.write("gan_loss", c10::IValue(o.gan_loss));
  a.write("vgg", c10::IValue(n.vgg->provenance()));
  torch::Tensor st = torch::tensor({s.step, s.rollbacks, s.g_steps, s.d_steps}, torch::kInt64);
  a.write("state", st);
  std::vector<double> c;
  for (const auto& x : s.ctl) c.insert(c.end(), {x.p, x.sum, double(x.step), double(x.wait), double(x.count)});
  a.write("controller", torch::tensor(c, torch::kFloat64));
  AtomicFile f(path);
  a.save_to(f.temp_path());
  f.commit();
}

torch::serialize::InputArchive open_checkpoint(const std::string& path) {
  torch::serialize::InputArchive a;
  try {
    a.load_from(path, torch::kCPU);  // whatever device it was saved from
    c10::IValue v;
    EPE_CHECK(a.try_read("epe_format", v) && v.isString() && v.toStringRef() == "epe-checkpoint-1", "");
  } catch (const std::exception&) {
    throw UserError(cat("'", path, "' is not an epe checkpoint (or it is damaged)"));
  }
  return a;
}

std::string read_string(torch::serialize::InputArchive& a, const char* key) {
  c10::IValue v;
  a.read(key, v);
  return v.toStringRef();
}

void load_checkpoint(const std::string& path, Nets& n, State& s, const TrainOptions& o) {
  torch::serialize::InputArchive a = open_checkpoint(path);
  const std::string gc = read_string(a, "generator_config"), dc = read_string(a, "discriminator_config");
  EPE_CHECK(gc == o.generator.to_ini() && dc == o.discriminator.to_ini(), "checkpoint '", path,
            "' was made with another configuration:\n  its generator: ", nn::GeneratorConfig::from_ini(gc).describe(),
            "\n  this run's:    ", o.generator.describe(), "\n  (its discriminator: ", dc.size(), " bytes of settings",
            dc == o.discriminator.to_ini() ? ", the same" : ", different", ")");
  const std::string loss = read_string(a, "gan_loss");
  EPE_CHECK(loss == o.gan_loss, "checkpoint '", path, "' was trained with --gan-loss ", loss, ", not ", o.gan_loss);
  torch::serialize::InputArchive ag, ad, aog, aod;
  a.read("generator", ag);
  a.read("discriminator", ad);
  a.read("opt_g", aog);
  a.read("opt_d", aod);
  n.g->load(ag);
  n.d->load(ad);
  n.opt_g->load(aog);
  n.opt_d->load(aod);
  // Loaded on the CPU: back to the run's device, optimiser moments included.
  const c10::Device dev = nn::parse_device(o.device);
  n.g->to(dev);
  n.d->to(dev);
  for (auto* opt : {n.opt_g.get(), n.opt_d.get()})
    for (auto& kv : opt->state()) {
      auto& st = static_cast<torch::optim::AdamParamState&>(*kv.second);
      st.exp_avg(st.exp_avg().to(dev));
      st.exp_avg_sq(st.exp_avg_sq().to(dev));
      if (st.max_exp_avg_sq().defined()) st.max_exp_avg_sq(st.max_exp_avg_sq().to(dev));
    }
  torch::Tensor st, c;
  a.read("state", st);
  a.read("controller", c);
  s.step = st[0].item<std::int64_t>();
  s.rollbacks = st[1].item<std::int64_t>();
  s.g_steps = st[2].item<std::int64_t>();
  s.d_steps = st[3].item<std::int64_t>();
  const auto* cp = c.data_ptr<double>();
  EPE_CHECK(c.numel() == static_cast<std::int64_t>(5 * s.ctl.size()), "checkpoint '", path,
            "' has controller state for another number of discriminators");
  for (std::size_t i = 0; i < s.ctl.size(); ++i) {
    s.ctl[i].p = cp[5 * i];
    s.ctl[i].sum = cp[5 * i + 1];
    s.ctl[i].step = static_cast<std::int64_t>(cp[5 * i + 2]);
    s.ctl[i].wait = static_cast<std::int64_t>(cp[5 * i + 3]);
    s.ctl[i].count = static_cast<std::int64_t>(cp[5 * i + 4]);
  }
}

// Keeps the header and the rows of steps before `step` (after a resume or a rollback).
void truncate_log(const std::string& path, std::int64_t step, const std::string& header) {
  std::ifstream in(path);
  std::string line, kept;
  while (std::getline(in, line)) {
    if (kept.empty()) {
      kept = line + "\n";
      continue;
    }
    if (std::atoll(line.c_str()) < step) kept += line + "\n";
  }
  in.close();
  write_file_atomic(path, kept.empty() ? header : kept);
}

std::string csv_header(int discs) {
  std::string h = "step,kind,seconds,lr_g,lr_d,g_gan,g_lpips,g_total,d_fake,d_real,d_r1,d_total,ran";
  for (int i = 0; i < discs; ++i) h += cat(",p", i);
  return h + "\n";
}

}  // namespace

std::string resolve_checkpoint(const std::string& path) {
  if (fs::is_directory(path)) {
    const fs::path latest = fs::path(path) / "checkpoints" / "latest";
    std::ifstream in(latest);
    EPE_CHECK(in, "'", path, "' has no checkpoints/latest (not a training run folder, or no checkpoint yet)");
    std::string name;
    std::getline(in, name);
    return (fs::path(path) / "checkpoints" / name).string();
  }
  EPE_CHECK(fs::exists(path), "checkpoint '", path, "' does not exist");
  return path;
}

namespace {

// The sample picture of a step: the batch's first synthetic | enhanced | real crops (enlarged by
// an integer factor to about the frames' width) above `sample_frames` whole synthetic frames
// spread over the list, input | enhanced, each shrunk to `sample_width` (current generator, eval
// mode, the frames' own resolution, as `epe enhance` runs it).
cv::Mat sample_picture(Nets& n, const TrainBatch& b, const TrainData& data, const TrainOptions& o, const c10::Device& dev) {
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

TrainResult train(const TrainOptions& options, void (*log)(const std::string&)) {
  TrainOptions o = options;
  if (o.generator.gbuffer_channels <= 0 || o.generator.num_classes <= 0) {
    const FileList syn = read_file_list(o.data.synthetic, DatasetKind::synthetic);
    if (o.generator.gbuffer_channels <= 0) {
      EPE_CHECK(!syn.rows[0].gbuffers().empty(), at_line(syn.path, syn.rows[0].line, "no G-buffers in this row"));
      o.generator.gbuffer_channels = probe_gbuffers(syn.rows[0].gbuffers()).channels;
    }
    if (o.generator.num_classes <= 0)
      o.generator.num_classes = static_cast<int>(
          MaterialTable::read(material_table_for(o.data.materials, syn)).names.size());
  }
  o.data.label_classes = o.discriminator.num_classes;  // the robust label ids the embedding takes
  o.check();
  const auto t_start = std::chrono::steady_clock::now();
  const c10::Device dev = nn::parse_device(o.device);
  const c10::ScalarType precision = nn::parse_precision(o.precision, dev);
  TrainResult r;
  // --distributed: join the other ranks first, so a rendezvous problem shows before any work.
  std::unique_ptr<Distributed> dist;
  if (o.distributed && !o.dry_run) {
    dist = Distributed::connect(rendezvous_from_environment(), o.dist_timeout);
    r.rank = dist->rank();
    r.world = dist->world();
    r.distributed = dist->describe();
  }
  const bool writer = r.rank == 0;  // rank 0 alone writes the run folder and prints
  auto say = [log, writer](const std::string& line) {
    if (log && writer) log(line);
  };
  auto sync = [&dist] {
    if (dist) dist->barrier();
  };
  // Data first: every input problem is reported before a network is built or a step runs.
  TrainData data(o.data, o.generator.gbuffer_channels, o.generator.num_classes);
  r.data_summary = data.summary();

  torch::manual_seed(o.seed);
  Nets n;
  n.g = std::make_shared<nn::Generator>(o.generator);
  if (o.generator_init == "identity") n.g->zero_output_layer();
  nn::Vgg16Options vo;
  vo.weights = o.vgg;
  vo.seed = o.seed;
  vo.padding = nn::Padding::replicate;
  n.vgg = std::make_shared<nn::Vgg16>(vo);
  n.d = std::make_shared<nn::Discriminator>(o.discriminator, n.vgg);
  nn::LpipsOptions lo;
  lo.vgg = o.vgg;
  lo.lin = o.lpips_lin;
  lo.seed = o.seed;
  lo.norm = nn::LpipsNorm::stable;  // finite gradients where a feature column is all zero
  n.lpips = std::make_shared<nn::Lpips>(lo);
  r.generator_parameters = n.g->parameter_count();
  r.discriminator_parameters = nn::count_parameters(*n.d);
  if (o.dry_run) return r;

  n.g->to(dev);
  n.vgg->to(dev);
  n.d->to(dev);
  n.lpips->to(dev);
  if (dist) {
    // Every rank built the same networks from the seed; rank 0's copy makes that certain.
    std::vector<at::Tensor> t;
    for (torch::nn::Module* m : {static_cast<torch::nn::Module*>(n.g.get()), static_cast<torch::nn::Module*>(n.d.get())}) {
      for (const auto& p : m->parameters()) t.push_back(p);
      for (const auto& b : m->buffers()) t.push_back(b);
    }
    torch::NoGradGuard no_grad;
    dist->broadcast(t);
    say(cat("distributed: ", r.distributed, "; every rank draws ", o.data.batch, " crops per step"));
  }
  start_optimisers(n, o);
  State s;
  s.ctl.resize(static_cast<std::size_t>(n.d->count()));

  const fs::path out(o.out), ckdir = out / "checkpoints";
  const std::string log_path = (out / "log.csv").string();
  if (o.resume) {
    const std::string ck = resolve_checkpoint(o.out);
    load_checkpoint(ck, n, s, o);  // every rank reads the same checkpoint (a shared file system)
    say(cat("resumed from ", ck, " at step ", s.step));
    if (writer) truncate_log(log_path, s.step, csv_header(n.d->count()));
  } else {
    EPE_CHECK(!fs::exists(out) || o.force, "run folder '", o.out,
              "' exists; pass --resume to continue it or --force to start over");
    sync();  // every rank has looked before rank 0 starts over
    if (writer) {
      fs::remove_all(out);
      fs::create_directories(ckdir);
      fs::create_directories(out / "samples");
      write_file_atomic((out / "train.ini").string(), o.options_ini);
      write_file_atomic(log_path, csv_header(n.d->count()));
      save_checkpoint((ckdir / step_name(0)).string(), n, s, o);
      write_file_atomic((ckdir / "latest").string(), step_name(0) + "\n");
    }
  }
  sync();
  std::string last_ck = resolve_checkpoint(o.out);
  std::ofstream csv;
  if (writer) csv.open(log_path, std::ios::app);
  // Writes the checkpoint of the current step (rank 0), and lets no rank go on before it exists.
  auto checkpoint = [&](const char* why) {
    last_ck = (ckdir / step_name(s.step)).string();
    if (writer) {
      save_checkpoint(last_ck, n, s, o);
      write_file_atomic((ckdir / "latest").string(), step_name(s.step) + "\n");
    }
    sync();
    r.last_checkpoint = last_ck;
    say(cat("checkpoint ", last_ck, why));
  };
  r.first_step = s.step;
  int bad_in_a_row = 0;
  const bool autocast = dev.is_cuda() && precision != torch::kFloat32;
  if (autocast) {
    at::autocast::set_enabled(true);
    at::autocast::set_autocast_gpu_dtype(precision);
  }
  const double th = o.gan_loss == "ls" ? 0.5 : 0.0;
  // The next batch is decoded while the current step trains (batches are a pure function of
  // step and rollbacks, so this changes nothing but the wall time).
  std::future<TrainBatch> ahead;
  std::pair<std::int64_t, std::int64_t> ahead_key{-1, -1};
  auto fetch = [&data, rank = r.rank](std::int64_t step, std::int64_t rb) {
    return std::async(std::launch::async, [&data, step, rb, rank] { return data.get(step, rb, rank); });
  };
  while (s.step < o.steps) {
    const auto t0 = std::chrono::steady_clock::now();
    if (ahead_key != std::make_pair(s.step, s.rollbacks)) {
      if (ahead.valid()) ahead.wait();
      ahead = fetch(s.step, s.rollbacks);
    }
    TrainBatch b = ahead.get();
    ahead_key = {s.step + 1, s.rollbacks};
    if (s.step + 1 < o.steps) ahead = fetch(s.step + 1, s.rollbacks);
    for (at::Tensor* t : {&b.syn_image, &b.gbuffers, &b.classes, &b.syn_labels, &b.real_image, &b.real_labels})
      *t = t->to(dev);
    StepRecord rec;
    rec.step = s.step;
    const bool gen_step = s.step % 2 == 1;
    bool ok = true;
    if (gen_step) {
      rec.kind = "gen";
      set_requires_grad(*n.d, false);
      set_requires_grad(*n.g, true);
      zero_grads(*n.g);
      const at::Tensor enhanced = n.g->forward(b.syn_image, b.gbuffers, b.classes);
      at::Tensor gan = torch::zeros({}, enhanced.options());
      for (const auto& m : n.d->forward(enhanced, b.syn_labels, false)) gan = gan + gen_loss(o.gan_loss, m.to(torch::kFloat32));
      const at::Tensor lp = o.lpips_weight * n.lpips->forward(b.syn_image, enhanced).mean();
      const at::Tensor total = gan + lp;
      rec.g_gan = gan.item<double>();
      rec.g_lpips = lp.item<double>();
      rec.g_total = total.item<double>();
      ok = optimise(total, *n.g, *n.opt_g, o.clip, o.lr_g, o.lr_gamma, o.lr_step_g, &s.g_steps, dist.get());
      if (dist) {  // the log shows the losses of the whole batch
        const std::vector<double> v = dist->average({rec.g_gan, rec.g_lpips, rec.g_total});
        rec.g_gan = v[0], rec.g_lpips = v[1], rec.g_total = v[2];
      }
    } else {
      rec.kind = "disc";
      Rng rng(o.seed ^ 0xD15C0000ULL, static_cast<std::uint64_t>(s.step) * 1000 + static_cast<std::uint64_t>(s.rollbacks));
      std::vector<bool> run(s.ctl.size());
      for (std::size_t i = 0; i < run.size(); ++i) {
        const double u = rng.uniform();
        run[i] = o.controller_target < 0 || u < s.ctl[i].p;
        if (run[i]) rec.ran.push_back(static_cast<int>(i));
      }
      if (rec.ran.empty()) {
        // As the reference: no discriminator loss; the optimiser steps (moving nothing: no
        // parameter has a gradient) and its schedule counts the step.
        rec.kind = "skip";
        zero_grads(*n.d);
        set_lr(*n.opt_d, o.lr_d * std::pow(o.lr_gamma, double(s.d_steps / o.lr_step_d)));
        n.opt_d->step();
        ++s.d_steps;
      } else {
        set_requires_grad(*n.d, true);
        set_requires_grad(*n.g, false);
        zero_grads(*n.d);
        at::Tensor enhanced;
        {
          torch::NoGradGuard no_grad;
          enhanced = n.g->forward(b.syn_image, b.gbuffers, b.classes);
        }
        const auto fake = n.d->forward(enhanced, b.syn_labels, true, &run);
        const at::Tensor real_img = b.real_image.detach().clone().requires_grad_(true);
        const auto real = n.d->forward(real_img, b.real_labels, false, &run);
        at::Tensor lf = torch::zeros({}, enhanced.options()), lr = torch::zeros({}, enhanced.options());
        for (int i : rec.ran) {
          lf = lf + fake_loss(o.gan_loss, fake[i].to(torch::kFloat32));
          lr = lr + real_loss(o.gan_loss, real[i].to(torch::kFloat32));
        }
        at::Tensor r1 = torch::zeros({}, enhanced.options());
        if (o.r1_weight > 0) {
          const at::Tensor g = torch::autograd::grad({lr}, {real_img}, {}, /*retain_graph=*/true, /*create_graph=*/true)[0];
          r1 = g.pow(2).flatten(1).sum(1).mean();
        }
        const at::Tensor total = lf + lr + o.r1_weight * r1;
        rec.d_fake = lf.item<double>();
        rec.d_real = lr.item<double>();
        rec.d_r1 = r1.item<double>();
        rec.d_total = total.item<double>();
        ok = optimise(total, *n.d, *n.opt_d, o.clip, o.lr_d, o.lr_gamma, o.lr_step_d, &s.d_steps, dist.get());
        if (dist) {
          const std::vector<double> v = dist->average({rec.d_fake, rec.d_real, rec.d_r1, rec.d_total});
          rec.d_fake = v[0], rec.d_real = v[1], rec.d_r1 = v[2], rec.d_total = v[3];
        }
        if (ok && o.controller_target >= 0) {
          std::vector<double> accuracy;
          for (int i : rec.ran) {
            const at::Tensor correct = torch::cat({(fake[i].detach() < th).flatten(), (real[i].detach() > th).flatten()});
            accuracy.push_back(correct.to(torch::kFloat64).mean().item<double>());
          }
          // Over the ranks, so every rank's controller takes the same decisions.
          if (dist) accuracy = dist->average(accuracy);
          for (std::size_t j = 0; j < rec.ran.size(); ++j)
            s.ctl[static_cast<std::size_t>(rec.ran[j])].tune(accuracy[j], o.controller_target);
        }
      }
    }
    if (!ok) {
      rec.kind = "bad";
      ++r.bad_steps;
      n.opt_g->zero_grad();
      n.opt_d->zero_grad();
      ++bad_in_a_row;
      say(cat("step ", s.step, ": non-finite ", gen_step ? "generator" : "discriminator", " loss or gradient; step skipped (",
              bad_in_a_row, " in a row)"));
    } else {
      bad_in_a_row = 0;
    }
    for (const auto& c : s.ctl) rec.run_probability.push_back(std::min(1.0, c.p));
    rec.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    {
      std::string ran;
      for (int i : rec.ran) ran += (ran.empty() ? "" : " ") + std::to_string(i);
      char buf[512];
      std::snprintf(buf, sizeof buf, "%lld,%s,%.4f,%.6g,%.6g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%s",
                    static_cast<long long>(rec.step), rec.kind.c_str(), rec.seconds,
                    o.lr_g * std::pow(o.lr_gamma, double(s.g_steps / o.lr_step_g)),
                    o.lr_d * std::pow(o.lr_gamma, double(s.d_steps / o.lr_step_d)), rec.g_gan, rec.g_lpips, rec.g_total,
                    rec.d_fake, rec.d_real, rec.d_r1, rec.d_total, ran.c_str());
      csv << buf;
      for (double p : rec.run_probability) csv << "," << p;
      csv << "\n";
    }
    r.records.push_back(rec);
    if (s.step % o.log_every == 0 || s.step + 1 == o.steps) {
      std::string p;
      for (double x : rec.run_probability) p += cat(" ", std::lround(100 * x));
      say(rec.kind == "gen"
              ? cat("step ", s.step, "/", o.steps, " gen: gan ", rec.g_gan, " lpips ", rec.g_lpips, " total ", rec.g_total,
                    " | run % ", p, " | ", rec.seconds, " s")
              : cat("step ", s.step, "/", o.steps, " ", rec.kind, ": fake ", rec.d_fake, " real ", rec.d_real, " r1 ",
                    rec.d_r1, " total ", rec.d_total, " | ran ", rec.ran.size(), " | run % ", p, " | ", rec.seconds, " s"));
    }
    if (writer && o.sample_every > 0 && s.step % o.sample_every == 0) {
      char name[48];
      std::snprintf(name, sizeof name, "step_%07lld.png", static_cast<long long>(s.step));
      write_png((out / "samples" / name).string(), sample_picture(n, b, data, o, dev));
    }
    ++s.step;
    if (bad_in_a_row >= o.max_bad_steps) {
      const std::int64_t at_step = s.step;
      const std::int64_t rollbacks = s.rollbacks + 1;
      load_checkpoint(last_ck, n, s, o);
      s.rollbacks = std::max(s.rollbacks, rollbacks);
      if (writer) {
        csv.close();  // the replayed steps replace the abandoned rows
        truncate_log(log_path, s.step, csv_header(n.d->count()));
        csv.open(log_path, std::ios::app);
      }
      ++r.rollbacks;
      bad_in_a_row = 0;
      EPE_CHECK(r.rollbacks <= o.max_rollbacks, "training diverges: ", r.rollbacks,
                " rollbacks to the last good checkpoint did not help (lower the learning rates, check the data); "
                "the last good checkpoint is ", last_ck);
      say(cat("ROLLBACK: ", o.max_bad_steps, " non-finite steps in a row at step ", at_step - 1, "; reloaded ", last_ck,
              " (step ", s.step, ") and continue with other batches (rollback ", s.rollbacks, ")"));
      continue;
    }
    if (s.step % o.checkpoint_every == 0 || s.step == o.steps) checkpoint("");
    if (o.validate_every > 0 && s.step % o.validate_every == 0) {
      // Validate the current generator, not an older checkpoint: write one for this step first.
      if (last_ck != (ckdir / step_name(s.step)).string()) checkpoint(" (for validation)");
      csv.flush();
      EnhanceOptions eo;
      eo.checkpoint = last_ck;
      eo.list = o.validate;
      char name[40];
      std::snprintf(name, sizeof name, "step_%07lld", static_cast<long long>(s.step));
      fs::create_directories(out / "validation");
      eo.out = (out / "validation" / name).string();
      eo.device = o.device;
      eo.force = true;
      if (writer) {  // the others wait at the next collective (within --dist-timeout)
        if (autocast) at::autocast::set_enabled(false);  // validation in the checkpoint's precision
        const EnhanceResult er = enhance(eo);
        if (autocast) at::autocast::set_enabled(true);
        say(cat("validation: ", er.frames, " frames enhanced -> ", eo.out));
      }
      sync();
    }
  }
  if (ahead.valid()) ahead.wait();
  if (autocast) at::autocast::set_enabled(false);
  {
    Sha256 h;
    for (torch::nn::Module* m : {static_cast<torch::nn::Module*>(n.g.get()), static_cast<torch::nn::Module*>(n.d.get())})
      for (const auto& p : m->parameters()) {
        const at::Tensor c = p.detach().to(torch::kCPU).contiguous();
        h.update(c.data_ptr(), static_cast<std::size_t>(c.nbytes()));
      }
    r.parameters_sha256 = h.hex_digest();
  }
  r.last_step = s.step;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  return r;
}

// ---- enhance ----------------------------------------------------------------------------------

EnhanceResult enhance(const EnhanceOptions& o) {
  EPE_CHECK(!o.checkpoint.empty() && !o.list.empty() && !o.out.empty(), "enhance needs --checkpoint, --list and --out");
  EPE_CHECK(o.tile == 0 || o.tile > 2 * o.overlap, "option --tile must be larger than twice --overlap");
  if (!o.shard.active()) check_output_path(o.out, o.force);
  const auto t0 = std::chrono::steady_clock::now();
  const std::string ck = resolve_checkpoint(o.checkpoint);
  torch::serialize::InputArchive a = open_checkpoint(ck);
  const nn::GeneratorConfig gc = nn::GeneratorConfig::from_ini(read_string(a, "generator_config"));
  nn::Generator g(gc);
  torch::serialize::InputArchive ag;
  a.read("generator", ag);
  g.load(ag);
  const c10::Device dev = nn::parse_device(o.device);
  g.to(dev);
  g.eval();
  const FileList list = read_file_list(o.list, DatasetKind::synthetic);
  const MaterialTable mt = MaterialTable::read(material_table_for(o.materials, list));
  EPE_CHECK(static_cast<int>(mt.names.size()) == gc.num_classes, "the material table has ", mt.names.size(),
            " materials but the checkpoint's generator expects ", gc.num_classes);
  const std::string name = o.name.empty() ? fs::path(o.list).stem().string() + "-enhanced" : o.name;
  EnhanceResult r;
  r.generator = ck;
  std::tie(r.row_begin, r.row_end) = o.shard.rows(static_cast<std::int64_t>(list.rows.size()));
  FolderShard shard;
  if (o.shard.active()) {
    const std::string record = cat("checkpoint = ", fs::absolute(ck).lexically_normal().string(), "\ncheckpoint_sha256 = ",
                                   sha256_file(ck), "\nmaterials = ", o.materials, "\ntile = ", o.tile,
                                   "\noverlap = ", o.overlap, "\n");
    shard = folder_shard_of("enhance", o.list, static_cast<std::int64_t>(list.rows.size()), o.shard, name, record);
    if (folder_shard_complete(o.out, shard, o.force)) {
      r.already_complete = true;
      r.list = (fs::path(o.out) / (name + ".csv")).string();
      return r;
    }
  }
  AtomicDir dir(o.out, o.force);
  const fs::path tmp = dir.temp_path();
  fs::create_directories(tmp / "images");
  std::vector<std::vector<std::string>> rows;
  torch::NoGradGuard no_grad;
  for (std::size_t i = static_cast<std::size_t>(r.row_begin); i < static_cast<std::size_t>(r.row_end); ++i) {
    const ListRow& row = list.rows[i];
    at::Tensor x, gb, cls;
    try {
      const cv::Mat img = read_image(row.image());
      x = nn::image_to_tensor(img).unsqueeze(0);
      EPE_CHECK(!row.gbuffers().empty(), "no G-buffers in this row (run `epe gbuffers pack` or `epe fake-gbuffers`)");
      const GBuffers g_ = read_gbuffers(row.gbuffers());
      EPE_CHECK(g_.channels == gc.gbuffer_channels, "G-buffers '", row.gbuffers(), "' have ", g_.channels,
                " channels, the generator expects ", gc.gbuffer_channels);
      EPE_CHECK(g_.height == img.rows && g_.width == img.cols, "G-buffers '", row.gbuffers(), "' are not the image's size");
      gb = nn::hwc_to_tensor(g_.data.data(), g_.height, g_.width, g_.channels).unsqueeze(0);
      const cv::Mat gt = read_label_map(row.gt_labels(), 255, true, list.format.gt);
      check_same_size(gt, row.gt_labels(), img.rows, img.cols, row.image());
      cls = mt.one_hot(gt).unsqueeze(0);
    } catch (const UserError& e) {
      throw UserError(at_line(list.path, row.line, e.what()));
    }
    const int H = static_cast<int>(x.size(2)), W = static_cast<int>(x.size(3));
    at::Tensor y;
    if (o.tile == 0 || (H <= o.tile && W <= o.tile)) {
      y = g.forward(x.to(dev), gb.to(dev), cls.to(dev)).to(torch::kCPU);
    } else {
      y = torch::empty_like(x);
      const int core = o.tile - 2 * o.overlap;
      for (int r0 = 0; r0 < H; r0 += core)
        for (int c0 = 0; c0 < W; c0 += core) {
          const int r1 = std::min(H, r0 + core), c1 = std::min(W, c0 + core);
          const int a0 = std::max(0, r0 - o.overlap), a1 = std::min(H, r1 + o.overlap);
          const int b0 = std::max(0, c0 - o.overlap), b1 = std::min(W, c1 + o.overlap);
          auto cut = [&](const at::Tensor& t) { return t.slice(2, a0, a1).slice(3, b0, b1).to(dev); };
          const at::Tensor t = g.forward(cut(x), cut(gb), cut(cls)).to(torch::kCPU);
          y.slice(2, r0, r1).slice(3, c0, c1).copy_(t.slice(2, r0 - a0, r1 - a0).slice(3, c0 - b0, c1 - b0));
        }
    }
    char file[32];
    std::snprintf(file, sizeof file, "%06zu.png", i);
    write_png((tmp / "images" / file).string(), nn::tensor_to_image(y[0]));
    std::vector<std::string> fields = row.fields;
    fields[0] = fs::absolute(tmp / "images" / file).string();
    for (std::size_t k = 1; k < fields.size(); ++k)
      if (!fields[k].empty()) fields[k] = fs::absolute(fields[k]).lexically_normal().string();
    rows.push_back(fields);
  }
  write_file_list((tmp / (name + ".csv")).string(), rows, list.format);
  if (o.shard.active()) write_file_atomic(folder_shard_file(tmp.string()), shard.text());
  dir.commit();
  r.frames = static_cast<std::int64_t>(rows.size());
  r.list = (fs::path(o.out) / (name + ".csv")).string();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.frames_per_second = r.seconds > 0 ? double(r.frames) / r.seconds : 0.0;
  return r;
}

ImportCheckpointResult import_reference_checkpoint(const ImportCheckpointOptions& o) {
  EPE_CHECK(!o.reference.empty() && !o.out.empty(), "import-checkpoint needs REF and --out RUN");
  ImportCheckpointResult r;
  const std::string suffix = "_gen-network.pth.tar";
  std::string base = o.reference;
  if (base.size() > suffix.size() && base.compare(base.size() - suffix.size(), suffix.size(), suffix) == 0)
    base.resize(base.size() - suffix.size());
  r.generator_file = base + suffix;
  EPE_CHECK(fs::is_regular_file(r.generator_file), "reference checkpoint '", r.generator_file,
            "' does not exist (give <name>-<iterations>_gen-network.pth.tar or <name>-<iterations>)");
  const std::string disc = base + "_disc-network.pth.tar";
  if (fs::is_regular_file(disc)) r.discriminator_file = disc;
  if (fs::exists(o.out)) {
    EPE_CHECK(o.force, "run folder '", o.out, "' exists; pass --force to replace it");
  }
  const auto gsd = nn::read_torch_state_dict(r.generator_file);
  TrainOptions t;
  t.out = o.out;
  t.vgg = o.vgg;
  t.gan_loss = o.gan_loss;
  t.generator = nn::reference_generator_config(gsd, r.generator_file);
  std::map<std::string, at::Tensor> dsd;
  t.discriminator = nn::DiscriminatorConfig::preset("paper");
  if (!r.discriminator_file.empty()) {
    dsd = nn::read_torch_state_dict(r.discriminator_file);
    t.discriminator = nn::reference_discriminator_config(dsd, r.discriminator_file);
  }
  EPE_CHECK(t.gan_loss == "ls" || t.gan_loss == "ns" || t.gan_loss == "hinge" || t.gan_loss == "ns-standard" ||
                t.gan_loss == "hinge-standard",
            "option --gan-loss: '", t.gan_loss, "' is not ls, ns, hinge, ns-standard or hinge-standard");
  torch::manual_seed(0);
  Nets n;
  n.g = std::make_shared<nn::Generator>(t.generator);
  nn::load_reference_generator(*n.g, gsd, r.generator_file);
  nn::Vgg16Options vo;
  vo.weights = o.vgg;
  vo.padding = nn::Padding::replicate;
  n.vgg = std::make_shared<nn::Vgg16>(vo);
  n.d = std::make_shared<nn::Discriminator>(t.discriminator, n.vgg);
  if (!dsd.empty()) nn::load_reference_discriminator(*n.d, dsd, r.discriminator_file);
  start_optimisers(n, t);
  State s;
  s.ctl.resize(static_cast<std::size_t>(n.d->count()));
  r.generator = t.generator;
  r.discriminator = t.discriminator;
  r.generator_parameters = n.g->parameter_count();
  r.discriminator_parameters = nn::count_parameters(*n.d);

  // Built next to OUT, then renamed: no half-written run folder under the final name.
  const fs::path out(o.out), tmp = fs::path(o.out + ".import-tmp");
  fs::remove_all(tmp);
  fs::create_directories(tmp / "checkpoints");
  fs::create_directories(tmp / "samples");
  const nn::GeneratorConfig& g = t.generator;
  const nn::DiscriminatorConfig& dc = t.discriminator;
  std::ostringstream ini;
  ini << "# written by epe import-checkpoint from " << r.generator_file << "\n"
      << "# epe train --config <this file> --synthetic S.csv --real R.csv --matches M.h5 --out <this run> --resume\n"
      << "preset = paper\ngen-stages = " << g.num_stages << "\ngen-base-channels = " << g.base_channels
      << "\ngen-blocks = " << g.blocks << "\ngen-gbuffer-layers = " << g.gbuffer_layers << "\ngen-gbuffer-dim = "
      << g.gbuffer_dim << "\ngbuffer-channels = " << g.gbuffer_channels << "\nnum-classes = " << g.num_classes
      << "\ndisc-layers = " << dc.num_layers << "\ndisc-max-dim = " << dc.max_dim << "\nlabel-classes = "
      << dc.num_classes << "\ngan-loss = " << t.gan_loss << "\n";
  if (!o.vgg.empty()) ini << "vgg = " << fs::absolute(o.vgg).string() << "\n";
  write_file_atomic((tmp / "train.ini").string(), ini.str());
  write_file_atomic((tmp / "log.csv").string(), csv_header(n.d->count()));
  save_checkpoint((tmp / "checkpoints" / step_name(0)).string(), n, s, t);
  write_file_atomic((tmp / "checkpoints" / "latest").string(), step_name(0) + "\n");
  std::ostringstream note;
  note << "generator: " << r.generator_file << " sha256:" << sha256_file(r.generator_file) << "\n"
       << "discriminator: "
       << (r.discriminator_file.empty() ? std::string("none in the checkpoint: the paper's, seeded random (seed 0)")
                                        : r.discriminator_file + " sha256:" + sha256_file(r.discriminator_file))
       << "\nvgg: " << n.vgg->provenance() << "\n"
       << "Adam moments and the controller start fresh; the step counter starts at 0.\n";
  write_file_atomic((tmp / "imported.txt").string(), note.str());
  if (fs::exists(out)) fs::remove_all(out);
  fs::rename(tmp, out);
  r.checkpoint = (out / "checkpoints" / step_name(0)).string();
  return r;
}

}  // namespace epe
