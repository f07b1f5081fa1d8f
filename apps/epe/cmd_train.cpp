#include <cstdio>

#include "command.h"
#include "epe/core/shard.h"
#include "epe/core/error.h"
#include "epe/core/log.h"
#include "epe/core/progress.h"
#include "epe/train/export.h"
#include "epe/train/fake_gbuffers.h"
#include "epe/train/train.h"

namespace epe::app {

namespace {
void print_line(const std::string& s) {
  std::printf("%s\n", s.c_str());
  std::fflush(stdout);
}
}  // namespace

int run_train(const Args& args) {
  TrainOptions o;
  CommonOptions c;
  std::string preset = "tiny", gen_encoder, gen_norm, gen_stem_norm, gen_other_norm, disc_type, disc_norm;
  int gen_stages = 0, gen_base = 0, gen_blocks = 0, gen_gb_layers = 0, gen_gb_dim = 0, gbuffer_channels = 0,
      num_classes = 0, disc_layers = 0, disc_max_dim = 0, label_classes = 0;
  OptionSet s("epe train --config train.ini  |  epe train --synthetic S.csv --real R.csv --matches M.h5 --out RUN",
              "Trains the enhancer (generator + perceptual discriminator) on matched crops. Every option can stand in the\n"
              "--config file (key = option name). RUN gets log.csv, samples/, checkpoints/ (atomic, --resume continues\n"
              "exactly) and train.ini. --dry-run builds everything, prints both networks' parameter counts and the data\n"
              "summary, and exits. Presets: paper (the reference's configuration) and tiny (CPU tests and demos).");
  s.add("out,o", &o.out, "run folder");
  s.add("preset", &preset, "paper | tiny: generator and discriminator configuration");
  s.add("gen-stages", &gen_stages, "generator: HRNet stages (0 = preset)");
  s.add("gen-base-channels", &gen_base, "generator: channels of branch 0 (0 = preset)");
  s.add("gen-blocks", &gen_blocks, "generator: basic blocks per branch (0 = preset)");
  s.add("gen-encoder", &gen_encoder, "generator: G-buffer encoder encoder | spade | concat | none (empty = preset)");
  s.add("gen-gbuffer-norm", &gen_norm, "generator: rad | spade | default (empty = preset)");
  s.add("gen-gbuffer-layers", &gen_gb_layers, "generator: residual layers in RAD (0 = preset)");
  s.add("gen-gbuffer-dim", &gen_gb_dim, "generator: G-buffer feature channels (0 = preset)");
  s.add("gen-stem-norm", &gen_stem_norm, "generator: stem norm group | instance | batch | none");
  s.add("gen-norm", &gen_other_norm, "generator: other norms group | instance | batch | none");
  s.add("gbuffer-channels", &gbuffer_channels, "G-buffer channels (0 = from the data)");
  s.add("num-classes", &num_classes, "material classes (0 = from the material table)");
  s.add("disc-type", &disc_type, "discriminator: ppde | patchgan (empty = ppde)");
  s.add("disc-norm", &disc_norm, "discriminator norm (empty = group)");
  s.add("disc-layers", &disc_layers, "discriminator: conv layers (0 = preset)");
  s.add("disc-max-dim", &disc_max_dim, "discriminator: channel cap (0 = preset)");
  s.add("label-classes", &label_classes,
        "robust label classes of the segmenter (ids 0..N-1, 255 = unlabeled; 0 = 194, MSeg universal)");
  s.add("synthetic", &o.data.synthetic, "synthetic file list (image, robust labels, G-buffers, GT labels)");
  s.add("real", &o.data.real, "real file list (image, robust labels)");
  s.add("matches", &o.data.matches, "match store (after epe weights: weighted sampling)");
  s.add("sampling", &o.data.sampling, "matched | independent");
  s.add("crop", &o.data.crop, "crop side of independent sampling");
  s.add("resize", &o.data.resize, "resize both crops to NxN (0 = keep)");
  s.add("window", &o.data.window,
        "train on NxN windows of the crops at native scale, one random position per pair (0 = whole crops)");
  s.add("materials", &o.data.materials, "GT id -> material table (default: data/materials/cityscapes-34_to_material.tsv)");
  s.add("batch", &o.data.batch, "crop pairs per step");
  s.add("vgg", &o.vgg, "ImageNet VGG-16 weights (torchvision state dict) for the discriminator and LPIPS");
  s.add("lpips-lin", &o.lpips_lin, "LPIPS linear weights (default: the shipped v0.1)");
  s.add("generator-init", &o.generator_init,
        "reference (PyTorch's default initialisation) | identity (output layer zeroed: training starts at the input)");
  s.add("gan-loss", &o.gan_loss, "ls | ns | hinge (the reference's forms) | ns-standard | hinge-standard (textbook forms)");
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
  s.add("controller-target", &o.controller_target, "discriminator accuracy the controller aims at (< 0: run all always)");
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
  s.add("device", &o.device, "cpu | cuda | cuda:N").not_recorded();
  s.add("precision", &o.precision, "float32 | bfloat16 | float16 (autocast, CUDA only)");
  s.add("seed", &o.seed, "seed of initialisation and sampling");
  s.add("resume", &o.resume, "continue RUN from its latest checkpoint").not_recorded();
  s.add("distributed", &o.distributed,
        "data-parallel over c10d (Gloo): rank and world from RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT or srun's "
        "SLURM_PROCID/SLURM_NTASKS/SLURM_NODELIST; each rank draws --batch crops per step")
      .not_recorded();
  s.add("dist-timeout", &o.dist_timeout, "--distributed: seconds to wait for the other ranks").not_recorded();
  s.add("dry-run", &o.dry_run, "build everything, print parameter counts and the data summary, exit").not_recorded();
  s.add("force", &o.force, "start over in an existing RUN folder").not_recorded();
  if (!parse_command(s, c, args)) return 0;
  record_options(s, &o.command, &o.options_ini);
  o.data.threads = c.threads;
  o.generator = nn::GeneratorConfig::preset(preset);
  o.discriminator = nn::DiscriminatorConfig::preset(preset);
  o.generator.gbuffer_channels = gbuffer_channels;
  o.generator.num_classes = num_classes;
  if (gen_stages) o.generator.num_stages = gen_stages;
  if (gen_base) o.generator.base_channels = gen_base;
  if (gen_blocks) o.generator.blocks = gen_blocks;
  if (!gen_encoder.empty()) o.generator.encoder_type = gen_encoder;
  if (!gen_norm.empty()) o.generator.gbuffer_norm = gen_norm;
  if (gen_gb_layers) o.generator.gbuffer_layers = gen_gb_layers;
  if (gen_gb_dim) o.generator.gbuffer_dim = gen_gb_dim;
  if (!gen_stem_norm.empty()) o.generator.stem_norm = gen_stem_norm;
  if (!gen_other_norm.empty()) o.generator.other_norm = gen_other_norm;
  if (!disc_type.empty()) o.discriminator.type = disc_type;
  if (!disc_norm.empty()) o.discriminator.norm = disc_norm;
  if (disc_layers) o.discriminator.num_layers = disc_layers;
  if (disc_max_dim) o.discriminator.max_dim = disc_max_dim;
  if (label_classes) o.discriminator.num_classes = label_classes;
  EPE_CHECK(!o.out.empty() || o.dry_run, "option --out is required");
  TrainResult r = train(o, print_line);
  if (r.rank != 0) {  // rank 0 reports the run
    std::printf("train: rank %d of %d: steps %lld..%lld, parameters sha256 %s\n", r.rank, r.world,
                static_cast<long long>(r.first_step), static_cast<long long>(r.last_step), r.parameters_sha256.c_str());
    return 0;
  }
  std::printf("generator: %lld parameters\ndiscriminator: %lld parameters (VGG-16 frozen, not counted)\ndata: %s\n",
              static_cast<long long>(r.generator_parameters), static_cast<long long>(r.discriminator_parameters),
              r.data_summary.c_str());
  if (o.dry_run) {
    std::printf("dry run: nothing trained, nothing written\n");
    return 0;
  }
  std::printf("train: steps %lld..%lld in %s (%.2f s/step), %lld non-finite steps skipped, %lld rollbacks\n",
              static_cast<long long>(r.first_step), static_cast<long long>(r.last_step), format_duration(r.seconds).c_str(),
              r.records.empty() ? 0.0 : r.seconds / double(r.records.size()), static_cast<long long>(r.bad_steps),
              static_cast<long long>(r.rollbacks));
  std::printf("  run: %s (log.csv, samples/, checkpoints/)\n  last checkpoint: %s\n", o.out.c_str(),
              r.last_checkpoint.c_str());
  if (!r.distributed.empty())
    std::printf("  distributed: %s; rank 0 parameters sha256 %s\n", r.distributed.c_str(), r.parameters_sha256.c_str());
  return 0;
}

int run_enhance(const Args& args) {
  EnhanceOptions o;
  CommonOptions c;
  OptionSet s("epe enhance --checkpoint RUN|C.pt --list SYN.csv --out DIR [--tile 512]",
              "Enhances full frames with a trained generator (G-buffers and GT labels from the list). Writes\n"
              "DIR/images/NNNNNN.png and DIR/<name>.csv (the input rows with the enhanced image), and reports frames/s.");
  s.add("checkpoint", &o.checkpoint, "checkpoint file or training run folder (its latest checkpoint)").required();
  s.add("list", &o.list, "synthetic file list").required();
  s.add("out,o", &o.out, "output folder").required();
  s.add("name", &o.name, "name of the written list (default: <list>-enhanced)");
  s.add("materials", &o.materials, "GT id -> material table (default: the shipped Cityscapes table)");
  s.add("tile", &o.tile, "process frames in tiles of this side (0 = whole frames)");
  s.add("overlap", &o.overlap, "tile overlap in pixels");
  s.add("device", &o.device, "cpu | cuda | cuda:N");
  std::string shard;
  s.add("shard", &shard, "I/N: only part I of N of the list's rows, into a shard folder for epe merge enhance; "
                         "auto: from the Slurm array");
  s.add("force", &o.force, "replace an existing output folder");
  if (!parse_command(s, c, args)) return 0;
  o.shard = parse_shard(shard);
  const EnhanceResult r = enhance(o);
  if (o.shard.active())
    std::printf("enhance: shard %s (list rows [%lld, %lld))%s\n", o.shard.label().c_str(),
                static_cast<long long>(r.row_begin), static_cast<long long>(r.row_end),
                r.already_complete ? " is already complete; nothing to do" : "");
  if (r.already_complete) return 0;
  std::printf("enhance: %lld frames in %s (%.2f frames/s) with %s\n  list: %s\n", static_cast<long long>(r.frames),
              format_duration(r.seconds).c_str(), r.frames_per_second, r.generator.c_str(), r.list.c_str());
  return 0;
}

int run_export_model(const Args& args) {
  ExportOptions o;
  CommonOptions c;
  OptionSet s("epe export-model --checkpoint RUN|C.pt --out generator.pt [--size 526x957]",
              "Writes the trained generator as a TorchScript module (weights embedded), traced at one frame size:\n"
              "forward(image [N,3,H,W] in [0,1], gbuffers [N,G,H,W], classes [N,K,H,W]) -> enhanced [N,3,H,W].\n"
              "Load it with torch.jit.load (Python) or torch::jit::load (C++) in a game or another tool.");
  s.add("checkpoint", &o.checkpoint, "checkpoint file or training run folder").required();
  s.add("out,o", &o.out, "TorchScript file to write").required();
  s.add("size", &o.size, "frame size HxW the module is traced at");
  s.add("force", &o.force, "overwrite OUT");
  if (!parse_command(s, c, args)) return 0;
  const ExportResult r = export_model(o);
  std::printf("export-model: %s -> %s (frames %dx%d, %d G-buffer channels, %d classes)\n", r.generator.c_str(),
              o.out.c_str(), r.height, r.width, r.gbuffer_channels, r.num_classes);
  return 0;
}

int run_import_checkpoint(const Args& args) {
  ImportCheckpointOptions o;
  CommonOptions c;
  OptionSet s("epe import-checkpoint REF --out RUN [--vgg W]",
              "Turns a reference implementation checkpoint (<name>-<iterations>_gen-network.pth.tar, with\n"
              "_disc-network.pth.tar beside it when present) into an epe run folder for epe enhance, epe export-model\n"
              "and epe train --config RUN/train.ini ... --out RUN --resume. Networks: the reference's hr generator\n"
              "(ENCODER, RAD, residual encoders, group norms) and ppde discriminator.");
  s.add("reference", &o.reference, "the reference's _gen-network.pth.tar (or its base name)").required().positional();
  s.add("out,o", &o.out, "run folder to create").required();
  s.add("vgg", &o.vgg, "ImageNet VGG-16 weights for the discriminator (recorded in the run; random without)");
  s.add("gan-loss", &o.gan_loss, "GAN loss the run will continue with (ls, as the reference's config)");
  s.add("force", &o.force, "replace an existing RUN");
  if (!parse_command(s, c, args)) return 0;
  const ImportCheckpointResult r = import_reference_checkpoint(o);
  std::printf("import-checkpoint: %s -> %s\n  generator: %lld parameters (%s)\n  discriminator: %s (%lld parameters)\n",
              r.generator_file.c_str(), r.checkpoint.c_str(), static_cast<long long>(r.generator_parameters),
              r.generator.describe().c_str(),
              r.discriminator_file.empty() ? "none in the checkpoint: seeded random" : r.discriminator_file.c_str(),
              static_cast<long long>(r.discriminator_parameters));
  return 0;
}

int run_fake_gbuffers(const Args& args) {
  FakeGBufferOptions o;
  CommonOptions c;
  OptionSet s("epe fake-gbuffers --list SYN.csv --out DIR [--vgg W] [--channels 32]",
              "Stand-in G-buffers for datasets without them, as the reference's demo makes them: VGG-16 relu2_2\n"
              "features (no padding, the dataset's own statistics), averaged over groups of channels down to\n"
              "--channels, upsampled bicubically to the frame. They carry no\n"
              "rendering information; channel names start with 'fake-vgg-relu2_2' so every later stage can tell.\n"
              "Writes DIR/gbuffers/NNNNNN.h5 and DIR/<name>.csv (the input rows with the new G-buffers).");
  s.add("list", &o.list, "file list (synthetic; GT labels kept)").required();
  s.add("out,o", &o.out, "output folder").required();
  s.add("name", &o.name, "name of the written list (default: <list>-fake-gbuffers)");
  s.add("vgg", &o.vgg, "VGG-16 weights (random init without, warned)");
  s.add("channels", &o.channels, "G-buffer channels (a divisor of 128)");
  s.add("protocol", &o.protocol, "reference (no padding, dataset statistics, bicubic; the reference's script) | epe "
                                 "(zero padding, ImageNet statistics, bilinear)");
  s.add("stats-frames", &o.stats_frames, "reference protocol: frames the dataset statistics are taken over");
  s.add("seed", &o.seed, "reference protocol: which frames, when the list has more");
  s.add("device", &o.device, "cpu | cuda | cuda:N");
  std::string shard;
  s.add("shard", &shard, "I/N: only part I of N of the list's rows, into a shard folder for epe merge fake-gbuffers; "
                         "auto: from the Slurm array");
  s.add("force", &o.force, "replace an existing output folder");
  if (!parse_command(s, c, args)) return 0;
  o.shard = parse_shard(shard);
  Progress p("fake-gbuffers", 0, "frames");
  const FakeGBufferResult r = make_fake_gbuffers(o, &p);
  p.finish();
  if (o.shard.active())
    std::printf("fake-gbuffers: shard %s (list rows [%lld, %lld))%s\n", o.shard.label().c_str(),
                static_cast<long long>(r.row_begin), static_cast<long long>(r.row_end),
                r.already_complete ? " is already complete; nothing to do" : "");
  if (r.already_complete) return 0;
  std::printf("fake-gbuffers: %lld frames, %d channels (%s), in %s\n  list: %s\n", static_cast<long long>(r.frames),
              o.channels, r.provenance.c_str(), format_duration(r.seconds).c_str(), r.list.c_str());
  return 0;
}

}  // namespace epe::app
