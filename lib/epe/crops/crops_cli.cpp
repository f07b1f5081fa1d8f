// The command-line face of `epe crops`: its options bound to CropsOptions, and its summary.

#include <cstdio>

#include "epe/core/progress.h"
#include "epe/core/stage_options.h"
#include "epe/crops/crops.h"
#include "epe/crops/exchange.h"

namespace epe {

const Choices<CropMode>& crop_modes() {
  static const Choices<CropMode> c{{"random", CropMode::random}, {"grid", CropMode::grid}};
  return c;
}

const Choices<CropNorm>& crop_norms() {
  static const Choices<CropNorm> c{{"imagenet", CropNorm::imagenet}, {"dataset", CropNorm::dataset}};
  return c;
}

void add_options(OptionSet& s, CropsOptions& o) {
  s.add("list,l", &o.list, "file list (synthetic, real, or one image path per line)").required();
  add_out_option(s, &o.out, "crop store to write");
  s.add("name", &o.name, "dataset name (default: the list file's name)");
  s.add("mode", &o.mode, "crop positions", crop_modes());
  s.add("crops-per-image", &o.crops_per_image, "random mode: crops per frame");
  s.add("crop-size", &o.crop_size, "crop side in pixels (grid mode: 196 + 16k)");
  s.add("grid-step", &o.grid_step, "grid mode: keep every n-th position in each direction");
  s.add("max-per-image", &o.max_per_image, "grid mode: seeded subsample of at most N crops per frame (0 = all)");
  s.add("norm", &o.norm, "input normalisation (dataset: per-dataset mean/std, as the reference)", crop_norms());
  s.add("norm-frames", &o.norm_frames, "--norm dataset: frames (seeded subset) for the statistics");
  s.add("vgg", &o.vgg, "VGG-16 weights: torch.save state dict (zip) or epe HDF5 weights");
  s.add("seed", &o.seed, "seed of corners, subsampling, statistics subset and random init");
  s.add("batch", &o.batch,
        "random: crops per forward pass; grid: frames per pass; 0 = auto (CPU: 4 crops / 1 frame; CUDA: 64 / 4)");
  s.add("decode-threads", &o.decode_threads, "threads decoding frames ahead of the network").not_recorded();
  s.add("prefetch", &o.prefetch, "frames decoded ahead").not_recorded();
  add_device_option(s, &o.device);
  s.add("precision", &o.precision, "float32 | float16 | bfloat16 (CUDA only)");
  s.add("skip-small", &o.skip_small, "skip frames smaller than the crop (counted) instead of failing");
  add_shard_option(s, &o.shard,
                   "I/N: embed only part I (0-based) of N contiguous parts of the list's rows, into a shard store "
                   "for epe merge crops; auto: from SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT");
  s.add("resume", &o.resume, "continue OUT.partial left by an interrupted run").not_recorded();
  add_force_option(s, &o.force, "overwrite OUT (and discard OUT.partial)");
}

std::string format_summary(const CropsOptions& o, const CropsResult& r) {
  if (r.already_complete)
    return cat("crops: shard ", o.shard.label(), " (list rows [", r.row_begin, ", ", r.row_end,
               ")) is already complete: ", r.crops, " crops of ", r.frames, " frames in ", r.out, "\n");
  std::string s;
  if (o.shard.active())
    s += cat("crops: shard ", o.shard.label(), " holds list rows [", r.row_begin, ", ", r.row_end, ") of ", o.list,
             "\n");
  const double rate = r.seconds > 0 ? r.crops_this_run / r.seconds : 0;
  s += cat("crops: ", r.crops, " crops from ", r.frames, " frames (", choice_name(crop_modes(), o.mode), " mode");
  if (r.frames_skipped) s += cat(", ", r.frames_skipped, " frames smaller than the crop skipped");
  if (r.frames_resumed) s += cat(", ", r.frames_resumed, " frames from the interrupted run");
  s += strprintf(") in %s, %.1f crops/s\n", format_duration(r.seconds).c_str(), rate);
  s += cat("  weights: ", r.weights, r.random_weights ? "  (RANDOM INITIALISATION)" : "", "\n");
  s += strprintf("  normalisation: mean %.4f %.4f %.4f, std %.4f %.4f %.4f (%s)\n", r.mean[0], r.mean[1], r.mean[2],
                 r.std[0], r.std[1], r.std[2], choice_name(crop_norms(), o.norm).c_str());
  s += cat("  store: ", r.out, " (", format_bytes(static_cast<double>(r.bytes)), ")\n");
  return s;
}

const Choices<ExchangeFormat>& exchange_formats() {
  static const Choices<ExchangeFormat> c{{"epe", ExchangeFormat::epe}};
  return c;
}

void add_options(OptionSet& s, CropImportOptions& o) {
  s.add("format", &o.format, "source format (epe: the reference implementation)", exchange_formats());
  s.add("csv", &o.csv, "crop_<name>.csv").required();
  s.add("npz", &o.npz, "crop_<name>.npz (key 'crops')").required();
  add_out_option(s, &o.out, "crop store to write");
  s.add("name", &o.name, "dataset name (default: from the CSV file name)");
  s.add("image-size", &o.image_size, "HxW of every frame (default: read from the frames)");
  add_force_option(s, &o.force, "overwrite OUT");
}

std::string format_summary(const CropImportOptions& o, const CropImportResult& r) {
  return cat("import: ", r.crops, " crops of ", r.images, " frames -> ", o.out, "\n");
}

std::string format_summary(const MergeResult& r) {
  return cat("merge: ", r.shards, " shards, ", r.crops, " crops of ", r.frames, " frames in ",
             format_duration(r.seconds), "\n  store: ", r.out, " (", format_bytes(static_cast<double>(r.bytes)), ")\n");
}

}  // namespace epe
