// `epe import-checkpoint`: a reference implementation checkpoint as an epe run folder (train.h).

#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <sstream>

#include "epe/core/atomic_file.h"
#include "epe/core/error.h"
#include "epe/core/sha256.h"
#include "epe/nn/reference_import.h"
#include "epe/nn/torch_pickle.h"
#include "epe/train/checkpoint.h"
#include "epe/train/train.h"

namespace fs = std::filesystem;

namespace epe {

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
      << "\ngen-blocks = " << g.blocks << "\ngen-gbuffer-layers = " << g.gbuffer_layers
      << "\ngen-gbuffer-dim = " << g.gbuffer_dim << "\ngbuffer-channels = " << g.gbuffer_channels
      << "\nnum-classes = " << g.num_classes << "\ndisc-layers = " << dc.num_layers << "\ndisc-max-dim = " << dc.max_dim
      << "\nlabel-classes = " << dc.num_classes << "\ngan-loss = " << choice_name(gan_losses(), t.gan_loss) << "\n";
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
