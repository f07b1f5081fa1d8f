// The command-line face of `epe train`, `epe enhance`, `epe export-model`, `epe import-checkpoint`
// and `epe fake-gbuffers`: their options bound to the stage structs, and the lines each prints.

#include <cstdio>

#include "epe/core/progress.h"
#include "epe/core/stage_options.h"
#include "epe/train/export.h"
#include "epe/train/fake_gbuffers.h"
#include "epe/train/train.h"

namespace epe {

void add_options(OptionSet& s, NetworkOverrides& n) {
  s.add("preset", &n.preset, "generator and discriminator configuration", nn::network_presets());
  s.add("gen-stages", &n.gen_stages, "generator: HRNet stages (0 = preset)");
  s.add("gen-base-channels", &n.gen_base, "generator: channels of branch 0 (0 = preset)");
  s.add("gen-blocks", &n.gen_blocks, "generator: basic blocks per branch (0 = preset)");
  s.add("gen-encoder", &n.gen_encoder, "generator: G-buffer encoder (unset = preset)", nn::encoder_types());
  s.add("gen-gbuffer-norm", &n.gen_norm, "generator: norm of the residual blocks (unset = preset)",
        nn::gbuffer_norms());
  s.add("gen-gbuffer-layers", &n.gen_gb_layers, "generator: residual layers in RAD (0 = preset)");
  s.add("gen-gbuffer-dim", &n.gen_gb_dim, "generator: G-buffer feature channels (0 = preset)");
  s.add("gen-stem-norm", &n.gen_stem_norm, "generator: stem norm (unset = preset)", nn::norm_kinds());
  s.add("gen-norm", &n.gen_other_norm, "generator: other norms (unset = preset)", nn::norm_kinds());
  s.add("gbuffer-channels", &n.gbuffer_channels, "G-buffer channels (0 = from the data)");
  s.add("num-classes", &n.num_classes, "material classes (0 = from the material table)");
  s.add("disc-type", &n.disc_type, "discriminator type (unset = ppde)", nn::discriminator_types());
  s.add("disc-norm", &n.disc_norm, "discriminator norm (unset = group)", nn::norm_kinds());
  s.add("disc-layers", &n.disc_layers, "discriminator: conv layers (0 = preset)");
  s.add("disc-max-dim", &n.disc_max_dim, "discriminator: channel cap (0 = preset)");
  s.add("label-classes", &n.label_classes,
        cat("robust label classes of the segmenter (ids 0..N-1, 255 = unlabeled; 0 = ", kUniversalClasses,
            ", MSeg universal)"));
}

void NetworkOverrides::apply(TrainOptions& o) const {
  o.generator = nn::GeneratorConfig::preset(preset);
  o.discriminator = nn::DiscriminatorConfig::preset(preset);
  o.generator.gbuffer_channels = gbuffer_channels;
  o.generator.num_classes = num_classes;
  if (gen_stages) o.generator.num_stages = gen_stages;
  if (gen_base) o.generator.base_channels = gen_base;
  if (gen_blocks) o.generator.blocks = gen_blocks;
  if (gen_encoder) o.generator.encoder_type = *gen_encoder;
  if (gen_norm) o.generator.gbuffer_norm = *gen_norm;
  if (gen_gb_layers) o.generator.gbuffer_layers = gen_gb_layers;
  if (gen_gb_dim) o.generator.gbuffer_dim = gen_gb_dim;
  if (gen_stem_norm) o.generator.stem_norm = *gen_stem_norm;
  if (gen_other_norm) o.generator.other_norm = *gen_other_norm;
  if (disc_type) o.discriminator.type = *disc_type;
  if (disc_norm) o.discriminator.norm = *disc_norm;
  if (disc_layers) o.discriminator.num_layers = disc_layers;
  if (disc_max_dim) o.discriminator.max_dim = disc_max_dim;
  if (label_classes) o.discriminator.num_classes = label_classes;
}

void add_options(OptionSet& s, TrainOptions& o, NetworkOverrides& n) {
  add_out_option(s, &o.out, "run folder", false);
  add_options(s, n);
  s.add("synthetic", &o.data.synthetic, "synthetic file list (image, robust labels, G-buffers, GT labels)");
  s.add("real", &o.data.real, "real file list (image, robust labels)");
  s.add("matches", &o.data.matches, "match store (after epe weights: weighted sampling)");
  s.add("sampling", &o.data.sampling, "how crop pairs are drawn", pair_samplings());
  s.add("crop", &o.data.crop, "crop side of independent sampling");
  s.add("resize", &o.data.resize, "resize both crops to NxN (0 = keep)");
  s.add("window", &o.data.window,
        "train on NxN windows of the crops at native scale, one random position per pair (0 = whole crops)");
  s.add("materials", &o.data.materials,
        "GT id -> material table (default: data/materials/cityscapes-34_to_material.tsv)");
  s.add("batch", &o.data.batch, "crop pairs per step");
  s.add("vgg", &o.vgg, "ImageNet VGG-16 weights (torchvision state dict) for the discriminator and LPIPS");
  s.add("lpips-lin", &o.lpips_lin, "LPIPS linear weights (default: the shipped v0.1)");
  s.add("generator-init", &o.generator_init,
        "reference: PyTorch's default initialisation; identity: output layer zeroed, training starts at the input",
        generator_inits());
  s.add("gan-loss", &o.gan_loss, "ls, ns, hinge: the reference's forms; ns-standard, hinge-standard: textbook forms",
        gan_losses());
  s.add("lpips-weight", &o.lpips_weight, "weight of LPIPS(synthetic, enhanced)");
  s.add("r1-weight", &o.r1_weight, "weight of the R1 penalty on real images");
  s.add("lr-g", &o.lr_g, "generator learning rate");
  s.add("lr-d", &o.lr_d, "discriminator learning rate");
  s.add("beta1", &o.beta1, "Adam beta1");
  s.add("beta2", &o.beta2, "Adam beta2");
  s.add("weight-decay", &o.weight_decay, "Adam weight decay (coupled, as torch.optim.Adam)");
  s.add("clip", &o.clip, "clip gradients to this largest absolute entry (0 = off)");
  s.add("lr-step-g", &o.lr_step_g, "generator optimiser steps per learning-rate decay");
  s.add("lr-step-d", &o.lr_step_d, "discriminator optimiser steps per learning-rate decay");
  s.add("lr-gamma", &o.lr_gamma, "learning-rate decay factor");
  s.add("controller-target", &o.controller_target,
        "discriminator accuracy the controller aims at (< 0: run all always)");
  s.add("steps", &o.steps, "total iterations (generator + discriminator)");
  s.add("log-every", &o.log_every, "console line every N steps (log.csv has every step)");
  s.add("sample-every", &o.sample_every, "sample picture every N steps (0 = never)");
  s.add("sample-frames", &o.sample_frames, "whole synthetic frames (input | enhanced) in each sample picture");
  s.add("sample-width", &o.sample_width, "width of each whole frame in the sample picture (shrunk to it)");
  s.add("checkpoint-every", &o.checkpoint_every, "checkpoint every N steps");
  s.add("validate-every", &o.validate_every, "enhance --validate every N steps (0 = never)");
  s.add("validate", &o.validate, "synthetic list enhanced at validation");
  s.add("max-bad-steps", &o.max_bad_steps, "non-finite steps in a row before rolling back to the last checkpoint");
  s.add("max-rollbacks", &o.max_rollbacks, "rollbacks before giving up");
  add_device_option(s, &o.device);
  s.add("precision", &o.precision, "float32 | bfloat16 | float16 (autocast, CUDA only)");
  s.add("seed", &o.seed, "seed of initialisation and sampling");
  s.add("resume", &o.resume, "continue RUN from its latest checkpoint").not_recorded();
  s.add("distributed", &o.distributed,
        "data-parallel over c10d (Gloo): rank and world from RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT or srun's "
        "SLURM_PROCID/SLURM_NTASKS/SLURM_NODELIST; each rank draws --batch crops per step")
      .not_recorded();
  s.add("dist-timeout", &o.dist_timeout, "--distributed: seconds to wait for the other ranks").not_recorded();
  s.add("dry-run", &o.dry_run, "build everything, print parameter counts and the data summary, exit").not_recorded();
  add_force_option(s, &o.force, "start over in an existing RUN folder");
}

std::string format_summary(const TrainOptions& o, const TrainResult& r) {
  if (r.rank != 0)  // rank 0 reports the run
    return cat("train: rank ", r.rank, " of ", r.world, ": steps ", r.first_step, "..", r.last_step,
               ", parameters sha256 ", r.parameters_sha256, "\n");
  std::string s = cat("generator: ", r.generator_parameters, " parameters\ndiscriminator: ", r.discriminator_parameters,
                      " parameters (VGG-16 frozen, not counted)\ndata: ", r.data_summary, "\n");
  if (o.dry_run) return s + "dry run: nothing trained, nothing written\n";
  const std::string per_step = strprintf("%.2f", r.records.empty() ? 0.0 : r.seconds / double(r.records.size()));
  s += cat("train: steps ", r.first_step, "..", r.last_step, " in ", format_duration(r.seconds), " (", per_step,
           " s/step), ", r.bad_steps, " non-finite steps skipped, ", r.rollbacks, " rollbacks\n");
  s += cat("  run: ", o.out, " (log.csv, samples/, checkpoints/)\n  last checkpoint: ", r.last_checkpoint, "\n");
  if (!r.distributed.empty())
    s += cat("  distributed: ", r.distributed, "; rank 0 parameters sha256 ", r.parameters_sha256, "\n");
  return s;
}

void add_options(OptionSet& s, EnhanceOptions& o) {
  s.add("checkpoint", &o.checkpoint, "checkpoint file or training run folder (its latest checkpoint)").required();
  s.add("list", &o.list, "synthetic file list").required();
  add_out_option(s, &o.out, "output folder");
  s.add("name", &o.name, "name of the written list (default: <list>-enhanced)");
  s.add("materials", &o.materials, "GT id -> material table (default: the shipped Cityscapes table)");
  s.add("tile", &o.tile, "process frames in tiles of this side (0 = whole frames)");
  s.add("overlap", &o.overlap, "tile overlap in pixels");
  add_device_option(s, &o.device);
  add_shard_option(s, &o.shard,
                   "I/N: only part I of N of the list's rows, into a shard folder for epe merge enhance; auto: "
                   "from the Slurm array");
  add_force_option(s, &o.force, "replace an existing output folder");
}

namespace {
std::string shard_line(const char* stage, const Shard& shard, std::int64_t begin, std::int64_t end, bool done) {
  if (!shard.active()) return "";
  return cat(stage, ": shard ", shard.label(), " (list rows [", begin, ", ", end, "))",
             done ? " is already complete; nothing to do" : "", "\n");
}
}  // namespace

std::string format_summary(const EnhanceOptions& o, const EnhanceResult& r) {
  std::string s = shard_line("enhance", o.shard, r.row_begin, r.row_end, r.already_complete);
  if (r.already_complete) return s;
  return s + cat("enhance: ", r.frames, " frames in ", format_duration(r.seconds), " (",
                 strprintf("%.2f", r.frames_per_second), " frames/s) with ", r.generator, "\n  list: ", r.list, "\n");
}

void add_options(OptionSet& s, ExportOptions& o) {
  s.add("checkpoint", &o.checkpoint, "checkpoint file or training run folder").required();
  add_out_option(s, &o.out, "TorchScript file to write");
  s.add("size", &o.size, "frame size HxW the module is traced at");
  add_force_option(s, &o.force, "overwrite OUT");
}

std::string format_summary(const ExportOptions& o, const ExportResult& r) {
  return cat("export-model: ", r.generator, " -> ", o.out, " (frames ", r.height, "x", r.width, ", ",
             r.gbuffer_channels, " G-buffer channels, ", r.num_classes, " classes)\n");
}

void add_options(OptionSet& s, ImportCheckpointOptions& o) {
  s.add("reference", &o.reference, "the reference's _gen-network.pth.tar (or its base name)").required().positional();
  add_out_option(s, &o.out, "run folder to create");
  s.add("vgg", &o.vgg, "ImageNet VGG-16 weights for the discriminator (recorded in the run; random without)");
  s.add("gan-loss", &o.gan_loss, "GAN loss the run will continue with (ls, as the reference's config)", gan_losses());
  add_force_option(s, &o.force, "replace an existing RUN");
}

std::string format_summary(const ImportCheckpointOptions&, const ImportCheckpointResult& r) {
  return cat("import-checkpoint: ", r.generator_file, " -> ", r.checkpoint, "\n  generator: ", r.generator_parameters,
             " parameters (", r.generator.describe(), ")\n  discriminator: ",
             r.discriminator_file.empty() ? "none in the checkpoint: seeded random" : r.discriminator_file, " (",
             r.discriminator_parameters, " parameters)\n");
}

void add_options(OptionSet& s, FakeGBufferOptions& o) {
  s.add("list", &o.list, "file list (synthetic; GT labels kept)").required();
  add_out_option(s, &o.out, "output folder");
  s.add("name", &o.name, "name of the written list (default: <list>-fake-gbuffers)");
  s.add("vgg", &o.vgg, "VGG-16 weights (random init without, warned)");
  s.add("channels", &o.channels, "G-buffer channels (a divisor of 128)");
  s.add("protocol", &o.protocol,
        "reference: no padding, dataset statistics, bicubic (the reference's script); epe: zero padding, ImageNet "
        "statistics, bilinear",
        fake_gbuffer_protocols());
  s.add("stats-frames", &o.stats_frames, "reference protocol: frames the dataset statistics are taken over");
  s.add("seed", &o.seed, "reference protocol: which frames, when the list has more");
  add_device_option(s, &o.device);
  add_shard_option(s, &o.shard,
                   "I/N: only part I of N of the list's rows, into a shard folder for epe merge fake-gbuffers; "
                   "auto: from the Slurm array");
  add_force_option(s, &o.force, "replace an existing output folder");
}

std::string format_summary(const FakeGBufferOptions& o, const FakeGBufferResult& r) {
  std::string s = shard_line("fake-gbuffers", o.shard, r.row_begin, r.row_end, r.already_complete);
  if (r.already_complete) return s;
  return s + cat("fake-gbuffers: ", r.frames, " frames, ", o.channels, " channels (", r.provenance, "), in ",
                 format_duration(r.seconds), "\n  list: ", r.list, "\n");
}

}  // namespace epe
