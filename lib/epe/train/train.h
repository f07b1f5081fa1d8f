#pragma once
// `epe train` (docs/DESIGN.md §5.8): adversarial training of the enhancer on matched crops.
//
// Steps alternate: even iterations train the discriminator, odd ones the generator (the
// reference's schedule). Generator loss: sum over discriminators of the GAN loss on the enhanced
// crop + lpips_weight x LPIPS(synthetic, enhanced). Discriminator loss: GAN loss on enhanced
// (fake) and real crops + r1_weight x R1 (squared gradient of the real loss w.r.t. the real image),
// over the discriminators the adaptive controller selects (each runs with a probability tuned so
// that its accuracy stays near `controller_target`). Adam (coupled weight decay), gradient clipping
// by the largest absolute entry, step learning-rate schedules.
//
// The run folder holds log.csv (every loss term and the controller state per step),
// samples/step_NNNNNNN.png (the batch's synthetic | enhanced | real crops, enlarged, above
// `sample_frames` whole synthetic frames, input | enhanced), checkpoints/step_NNNNNNN.pt written
// atomically (generator, discriminator, both optimisers, controller, step, rollbacks,
// configurations) and checkpoints/latest. --resume continues from the latest checkpoint exactly as
// the uninterrupted run would. A step whose loss or gradients are not finite is skipped; after
// `max_bad_steps` in a row the run rolls back to the last checkpoint and says so.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "epe/core/options.h"
#include "epe/core/shard.h"
#include "epe/nn/network_config.h"
#include "epe/train/data.h"
#include "epe/train/gan_loss_kind.h"

namespace epe {

enum class GeneratorInit { reference, identity };
const Choices<GeneratorInit>& generator_inits();  // "reference", "identity"

struct TrainOptions {
  std::string out;                // run folder
  nn::GeneratorConfig generator;  // from a preset plus overrides
  nn::DiscriminatorConfig discriminator;
  TrainDataOptions data;
  std::string vgg;        // ImageNet VGG-16 weights for the discriminator and LPIPS
  std::string lpips_lin;  // LPIPS linear weights (default: shipped v0.1)
  // reference: PyTorch's default initialisation everywhere (the reference); identity: the
  // generator's output layer starts at zero, so the first enhanced frames equal the input.
  GeneratorInit generator_init = GeneratorInit::reference;
  GanLoss gan_loss = GanLoss::ls;  // ls | ns | hinge (the reference's forms) | ns-standard | hinge-standard
  double lpips_weight = 5.0, r1_weight = 0.03;
  double lr_g = 1e-4, lr_d = 1e-4, beta1 = 0.9, beta2 = 0.999, weight_decay = 1e-4;
  double clip = 1000.0;                                  // gradient clip: largest absolute entry (<= 0: off)
  std::int64_t lr_step_g = 100000, lr_step_d = 1000000;  // optimiser steps per decay
  double lr_gamma = 1.0;           // 1 = constant, as the reference trains (its yaml's decay key is never read)
  double controller_target = 0.6;  // < 0: every discriminator runs every step
  std::int64_t steps = 1000;       // total iterations (generator + discriminator)
  std::int64_t log_every = 10, sample_every = 100, checkpoint_every = 500, validate_every = 0;
  int sample_frames = 2;   // whole frames in each sample picture (spread over the list)
  int sample_width = 480;  // their width in the picture (frames are shrunk to it)
  std::string validate;    // synthetic list enhanced at validation
  int max_bad_steps = 5;
  int max_rollbacks = 10;  // then give up with an error (the run diverges)
  std::string device = "cpu";
  std::string precision = "float32";  // bfloat16 | float16 autocast (CUDA only)
  std::uint64_t seed = 0;
  // --distributed: one rank of a data-parallel run (train/distributed.h); every rank draws its
  // own batch of data.batch crops per step (from seed, step and rank), the gradients are
  // averaged over the ranks, and rank 0 alone writes the run folder.
  bool distributed = false;
  double dist_timeout = 300;  // seconds a rank waits for the others at a rendezvous or collective
  bool resume = false, dry_run = false, force = false;
  std::string command, options_ini;
  void check() const;
};

struct StepRecord {
  std::int64_t step = 0;
  std::string kind;  // gen | disc | skip (no discriminator selected) | bad (non-finite, skipped)
  double g_gan = 0, g_lpips = 0, g_total = 0, d_fake = 0, d_real = 0, d_r1 = 0, d_total = 0;
  std::vector<double> run_probability;  // per discriminator, after the step
  std::vector<int> ran;                 // discriminators used in this step
  double seconds = 0;
};

struct TrainResult {
  std::int64_t generator_parameters = 0, discriminator_parameters = 0;
  std::string data_summary;
  std::int64_t first_step = 0, last_step = 0;  // steps run in this call: [first, last)
  std::int64_t bad_steps = 0, rollbacks = 0;
  std::vector<StepRecord> records;  // every step run in this call
  std::string last_checkpoint;
  double seconds = 0;
  int rank = 0, world = 1;        // --distributed: this process's rank and the number of ranks
  std::string distributed;        // the process group, described ("" when not distributed)
  std::string parameters_sha256;  // of both networks' parameters at the end (equal on every rank)
};

// `log` receives one line per --log-every steps and for events (rollbacks, checkpoints).
// generator.gbuffer_channels = 0 / num_classes = 0 are taken from the data (the first synthetic
// row's G-buffers, the material table).
TrainResult train(const TrainOptions& options, void (*log)(const std::string&) = nullptr);

// The networks as `epe train`'s options name them: a preset and overrides of its fields
// (0 or unset = the preset's value). apply() sets TrainOptions::generator and discriminator.
struct NetworkOverrides {
  nn::NetworkPreset preset = nn::NetworkPreset::tiny;
  int gen_stages = 0, gen_base = 0, gen_blocks = 0, gen_gb_layers = 0, gen_gb_dim = 0;
  std::optional<nn::EncoderType> gen_encoder;
  std::optional<nn::GBufferNorm> gen_norm;
  std::optional<nn::NormKind> gen_stem_norm, gen_other_norm, disc_norm;
  std::optional<nn::DiscriminatorType> disc_type;
  int gbuffer_channels = 0, num_classes = 0;  // 0 = from the data / the material table (train())
  int disc_layers = 0, disc_max_dim = 0, label_classes = 0;
  void apply(TrainOptions& o) const;
};

// Binds every option of `epe train` to `o` and `n`; the lines it prints when done.
void add_options(OptionSet& s, NetworkOverrides& n);
void add_options(OptionSet& s, TrainOptions& o, NetworkOverrides& n);
std::string format_summary(const TrainOptions& o, const TrainResult& r);

// ---- enhancement with a trained generator ----------------------------------------------------

struct EnhanceOptions {
  std::string checkpoint;  // a checkpoint file, or a run folder (its latest checkpoint)
  std::string list;        // synthetic list (image, robust labels, G-buffers, GT labels)
  std::string out;         // folder: images/NNNNNN.png and <name>.csv
  std::string name;        // list name (default: <list stem>-enhanced)
  std::string materials;   // GT id -> material table (default: the shipped Cityscapes table)
  int tile = 0;            // > 0: frames processed in tiles of this side (with overlap)
  int overlap = 32;
  std::string device = "cpu";
  Shard shard;  // --shard: only these list rows, into a shard folder (io/folder_shards.h)
  bool force = false;
};

struct EnhanceResult {
  std::int64_t frames = 0;
  double seconds = 0, frames_per_second = 0;
  std::string list, generator;
  bool already_complete = false;  // a shard folder finished by an earlier run: nothing done
  std::int64_t row_begin = 0, row_end = 0;
};

EnhanceResult enhance(const EnhanceOptions& o);
void add_options(OptionSet& s, EnhanceOptions& o);
std::string format_summary(const EnhanceOptions& o, const EnhanceResult& r);

// ---- checkpoints of the reference implementation ---------------------------------------------

// `epe import-checkpoint`: a reference training checkpoint (isl-org/PhotorealismEnhancement's
// GANExperiment._save_model writes <name>-<iterations>_gen-network.pth.tar and, for training,
// _disc-network.pth.tar) becomes an epe run folder: checkpoints/step_0000000.pt with the imported
// generator and discriminator (lib/epe/nn/reference_import.h maps the keys), fresh Adam moments,
// step 0, and a train.ini whose options rebuild the same networks, so that `epe enhance`,
// `epe export-model` and `epe train --config RUN/train.ini ... --out RUN --resume` take it.
// Without a discriminator file the discriminator is the paper's, seeded random (said so).
struct ImportCheckpointOptions {
  std::string reference;  // <base>_gen-network.pth.tar, or <base> itself
  std::string out;        // run folder to create (never over an existing one without force)
  std::string vgg;        // VGG-16 weights for the discriminator (recorded; seeded random without)
  GanLoss gan_loss = GanLoss::ls;
  bool force = false;
};

struct ImportCheckpointResult {
  std::string generator_file, discriminator_file;  // discriminator_file empty: none found
  std::string checkpoint;
  nn::GeneratorConfig generator;
  nn::DiscriminatorConfig discriminator;
  std::int64_t generator_parameters = 0, discriminator_parameters = 0;
};

ImportCheckpointResult import_reference_checkpoint(const ImportCheckpointOptions& o);
void add_options(OptionSet& s, ImportCheckpointOptions& o);
std::string format_summary(const ImportCheckpointOptions& o, const ImportCheckpointResult& r);

// The checkpoint file of a path: the file itself, or <run>/checkpoints/<latest>.
std::string resolve_checkpoint(const std::string& path);

}  // namespace epe
