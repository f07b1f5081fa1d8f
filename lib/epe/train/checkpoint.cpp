#include "epe/train/checkpoint.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "epe/core/atomic_file.h"
#include "epe/core/error.h"
#include "epe/nn/device.h"

namespace fs = std::filesystem;

namespace epe {

std::string step_name(std::int64_t step) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "step_%07lld.pt", static_cast<long long>(step));
  return buf;
}

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
  a.write("gan_loss", c10::IValue(choice_name(gan_losses(), o.gan_loss)));
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
  const std::string loss = read_string(a, "gan_loss"), want = choice_name(gan_losses(), o.gan_loss);
  EPE_CHECK(loss == want, "checkpoint '", path, "' was trained with --gan-loss ", loss, ", not ", want);
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

}  // namespace epe
