#include <cstdio>

#include "command.h"
#include "epe/core/progress.h"
#include "epe/crops/crops.h"

namespace epe::app {

int run_crops(const Args& args) {
  CropsOptions o;
  CommonOptions c;
  OptionSet s("epe crops --list LIST --out CROPS.h5 [--mode random|grid] [--vgg WEIGHTS] ...",
              "Embeds image crops with VGG-16 (valid padding, relu5_3: one 512-vector per 196x196 crop) into a\n"
              "crop store. random: --crops-per-image random crops per frame (the reference's collect_crops.py).\n"
              "grid: one pass per frame gives every crop at (16i, 16j) exactly, ~70x cheaper per crop.\n"
              "Without --vgg the network is randomly initialised (a warning; recorded in the store).\n"
              "An interrupted run keeps CROPS.h5.partial; --resume continues it from its last complete frame.");
  s.add("list,l", &o.list, "file list (synthetic, real, or one image path per line)").required();
  s.add("out,o", &o.out, "crop store to write").required().not_recorded();
  s.add("name", &o.name, "dataset name (default: the list file's name)");
  s.add("mode", &o.mode, "random | grid");
  s.add("crops-per-image", &o.crops_per_image, "random mode: crops per frame");
  s.add("crop-size", &o.crop_size, "crop side in pixels (grid mode: 196 + 16k)");
  s.add("grid-step", &o.grid_step, "grid mode: keep every n-th position in each direction");
  s.add("max-per-image", &o.max_per_image, "grid mode: seeded subsample of at most N crops per frame (0 = all)");
  s.add("norm", &o.norm, "input normalisation: imagenet | dataset (per-dataset mean/std, as the reference)");
  s.add("norm-frames", &o.norm_frames, "--norm dataset: frames (seeded subset) for the statistics");
  s.add("vgg", &o.vgg, "VGG-16 weights: torch.save state dict (zip) or epe HDF5 weights");
  s.add("seed", &o.seed, "seed of corners, subsampling, statistics subset and random init");
  s.add("batch", &o.batch,
        "random: crops per forward pass; grid: frames per pass; 0 = auto (CPU: 4 crops / 1 frame; CUDA: 64 / 4)");
  s.add("decode-threads", &o.decode_threads, "threads decoding frames ahead of the network").not_recorded();
  s.add("prefetch", &o.prefetch, "frames decoded ahead").not_recorded();
  s.add("device", &o.device, "cpu | cuda | cuda:N").not_recorded();
  s.add("precision", &o.precision, "float32 | float16 | bfloat16 (CUDA only)");
  s.add("skip-small", &o.skip_small, "skip frames smaller than the crop (counted) instead of failing");
  std::string shard;
  s.add("shard", &shard,
        "I/N: embed only part I (0-based) of N contiguous parts of the list's rows, into a shard store for "
        "epe merge crops; auto: from SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT")
      .not_recorded();
  s.add("resume", &o.resume, "continue OUT.partial left by an interrupted run").not_recorded();
  s.add("force", &o.force, "overwrite OUT (and discard OUT.partial)").not_recorded();
  if (!parse_command(s, c, args)) return 0;
  record_options(s, &o.command, &o.options_ini);
  o.shard = parse_shard(shard);
  o.check();
  Progress progress("crops", 0, "frames");
  CropsResult r = compute_crops(o, &progress);
  progress.finish();
  if (r.already_complete) {
    std::printf("crops: shard %s (list rows [%lld, %lld)) is already complete: %lld crops of %lld frames in %s\n",
                o.shard.label().c_str(), static_cast<long long>(r.row_begin), static_cast<long long>(r.row_end),
                static_cast<long long>(r.crops), static_cast<long long>(r.frames), r.out.c_str());
    return 0;
  }
  if (o.shard.active())
    std::printf("crops: shard %s holds list rows [%lld, %lld) of %s\n", o.shard.label().c_str(),
                static_cast<long long>(r.row_begin), static_cast<long long>(r.row_end), o.list.c_str());
  const double rate = r.seconds > 0 ? r.crops_this_run / r.seconds : 0;
  std::printf("crops: %lld crops from %lld frames (%s mode", static_cast<long long>(r.crops),
              static_cast<long long>(r.frames), o.mode.c_str());
  if (r.frames_skipped)
    std::printf(", %lld frames smaller than the crop skipped", static_cast<long long>(r.frames_skipped));
  if (r.frames_resumed) std::printf(", %lld frames from the interrupted run", static_cast<long long>(r.frames_resumed));
  std::printf(") in %s, %.1f crops/s\n", format_duration(r.seconds).c_str(), rate);
  std::printf("  weights: %s%s\n", r.weights.c_str(), r.random_weights ? "  (RANDOM INITIALISATION)" : "");
  std::printf("  normalisation: mean %.4f %.4f %.4f, std %.4f %.4f %.4f (%s)\n", r.mean[0], r.mean[1], r.mean[2],
              r.std[0], r.std[1], r.std[2], o.norm.c_str());
  std::printf("  store: %s (%s)\n", r.out.c_str(), format_bytes(static_cast<double>(r.bytes)).c_str());
  return 0;
}

}  // namespace epe::app
