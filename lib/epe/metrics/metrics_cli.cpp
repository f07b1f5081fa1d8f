// The command-line face of `epe metrics`, `epe lpips` and `epe baseline color-transfer`: their
// options bound to the stage structs, and the lines each prints when done.

#include <cstdio>

#include "epe/core/progress.h"
#include "epe/core/stage_options.h"
#include "epe/metrics/color_transfer.h"
#include "epe/metrics/lpips_pairs.h"
#include "epe/metrics/metrics.h"
#include "epe/segment/segment.h"

namespace epe {

namespace {
// A comma-separated list option ("a,b,c"; recorded the same way).
void add_list_option(OptionSet& s, const std::string& name, std::vector<std::string>* v, const std::string& help) {
  s.add_text(
      name, [v] { return join(*v, ","); }, [v](const std::string& text) { *v = split_list(text); }, help);
}
}  // namespace

void add_options(OptionSet& s, ExtractorOptions& e) {
  s.add("inception", &e.inception, "TorchScript Inception for FID/KID (see the README: 'Inception for FID/KID')");
  s.add("inception-range", &e.inception_range, "pixel range the Inception expects", inception_ranges());
  s.add("inception-size", &e.inception_size, "frames resized to this square for the Inception");
  s.add("vgg", &e.vgg, "VGG-16 weights (torchvision state dict) for KVD/sKVD; without: random init (warned)");
  s.add("kvd-layer", &e.vgg_tap, "VGG-16 tap of KVD");
  s.add("kvd-pool", &e.vgg_pool, "KVD features: mean = global average, none = flatten", feature_pools());
  s.add("kvd-size", &e.vgg_size, "frames resized to HxW for KVD, or native");
  s.add("resize", &e.resize,
        "how frames are resized for Inception and KVD: clean = clean-fid's PIL bicubic, antialiased; legacy-tf = "
        "torch-fidelity/pytorch-fid's TF1 bilinear",
        resize_modes());
  add_device_option(s, &e.device);
  s.add("batch", &e.batch, "images per forward pass").not_recorded();
}

void add_options(OptionSet& s, MetricsOptions& o) {
  s.add("real", &o.real, "real set (list or folder); sKVD needs its robust labels").required();
  s.add("fake", &o.fakes, "fake set (list or folder), repeatable").required();
  add_list_option(s, "names", &o.names, "names of the fake sets, comma separated (default: file names)");
  s.add("metrics", &o.metrics, "metrics to compute", metric_kinds());
  s.add("prdc-k", &o.prdc_k, "prdc: the k-th nearest neighbour sets each sample's radius");
  s.add("prdc-features", &o.prdc_features, "prdc: inception needs --inception; vgg: KVD's features",
        prdc_feature_kinds());
  add_out_option(s, &o.out, "output folder");
  add_options(s, o.extractor);
  s.add("kid-subsets", &o.kid_subsets, "KID/KVD subsets");
  s.add("kid-subset-size", &o.kid_subset_size, "KID/KVD subset size (capped by the set sizes)");
  s.add("skvd-protocol", &o.skvd.protocol, "sKVD/cKVD crops: feamgan = FeaMGAN's published metric code",
        skvd_protocols());
  s.add("skvd-frame", &o.skvd.frame,
        "sKVD/cKVD: HxW frame the crops are cut from, or auto (526x957; feamgan: "
        "526x935 when a frame is narrower at 526 rows)");
  s.add("skvd-crop-fraction", &o.skvd.crop_fraction, "sKVD/cKVD: crop area as a fraction of the frame");
  s.add("skvd-crops-per-frame", &o.skvd.crops_per_frame, "sKVD/cKVD (epe protocol): random crops per frame");
  s.add("skvd-every", &o.skvd.every,
        "sKVD/cKVD (feamgan protocol): evaluate every N-th frame (kvdEval's --every_x_steps)");
  s.add("skvd-feamgan-seed", &o.skvd.feamgan_seed, "sKVD/cKVD (feamgan protocol): numpy default_rng seed of the crops");
  s.add("skvd-grid", &o.skvd.grid, "sKVD/cKVD: label grid side");
  s.add("skvd-threshold", &o.skvd.threshold, "sKVD/cKVD: keep pairs agreeing on more than this fraction of the grid");
  s.add("skvd-layer", &o.skvd.layer, "sKVD/cKVD: VGG-16 tap");
  s.add("skvd-pool", &o.skvd.pool, "sKVD/cKVD: none = flatten", feature_pools());
  s.add("skvd-subsets", &o.skvd.subsets, "sKVD/cKVD: subsets (1 = all kept pairs once)");
  s.add("skvd-subset-size", &o.skvd.subset_size, "sKVD/cKVD: pairs per subset when --skvd-subsets > 1 (0 = all)");
  s.add("ckvd-min-share", &o.skvd.ckvd_min_share, "cKVD: a class group enters a crop above this share of its pixels");
  s.add("model", &o.semantic.model, "semantic: TorchScript segmenter (epe segment's model contract)");
  s.add("semantic-source", &o.semantic.source,
        "semantic: the frames the fake sets were made from, row by row (default: the first --fake)");
  s.add("semantic-gt-map", &o.semantic.gt_map, "semantic: table mapping the lists' GT ids to universal ids, or none");
  add_options(s, o.semantic.protocol, "seg-");
  s.add("cache", &o.cache, "feature cache folder (reused by later runs)").not_recorded();
  add_shard_option(s, &o.shard,
                   "I/N: extract only the Inception/VGG-16 features (fid, kid, kvd, prdc) of part I (0-based) of N "
                   "contiguous parts of every set's rows into shard stores in --out (a folder all shards may share) "
                   "and compute no metric; epe merge features --out CACHE joins them into a --cache; auto: from "
                   "SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT");
  s.add("seed", &o.seed, "seed of subsets and crops");
  s.add("force", &o.force, "replace an existing output folder").not_recorded();
}

std::string format_summary(const MetricsOptions& o, const MetricsResult& r) {
  std::string s =
      cat("metrics: ", r.rows.size(), " fake set(s) against ", r.real_frames, " real frames, in ",
          format_duration(r.seconds), " (feature cache: ", r.cache_hits, " hit, ", r.cache_misses, " computed)\n");
  s += format_metrics_table(r, false);
  for (const auto& x : r.comparisons) s += "  " + x + "\n";
  for (const auto& w : r.warnings) s += "  WARNING: " + w + "\n";
  return s + cat("  report: ", o.out, "/metrics.md, ", o.out, "/metrics.json\n");
}

std::string format_summary(const MetricsOptions& o, const MetricsShardResult& r) {
  std::string s = cat("metrics: shard ", o.shard.label(), " of ", r.stores.size(), " feature set(s) in ",
                      format_duration(r.seconds), ", into ", o.out, " (no metrics: epe merge features --out CACHE ",
                      o.out, ", then epe metrics --cache CACHE)\n");
  for (const FeatureShardResult& x : r.stores) {
    s += cat(strprintf("  %-9s", x.extractor.c_str()), " rows [", x.row_begin, ", ", x.row_end, ") of ", x.rows, " of ",
             x.source, ": ", x.path, x.already_complete ? " (already complete)" : "", "\n");
  }
  if (!r.skipped.empty()) s += "  not sharded: " + join(r.skipped, ", ") + " (the unsharded run computes them)\n";
  for (const auto& w : r.warnings) s += "  WARNING: " + w + "\n";
  return s;
}

void add_options(OptionSet& s, LpipsPairsOptions& o) {
  s.add("a", &o.a, "image, list or folder").required().positional();
  s.add("b", &o.b, "image, list or folder").required().positional();
  s.add("vgg", &o.vgg, "VGG-16 weights (torchvision state dict); without: random init (warned)");
  s.add("lin", &o.lin, "LPIPS linear weights (default: data/lpips/v0.1/vgg_zip.pt)");
  add_out_option(s, &o.out, "CSV of per-pair distances", false);
  add_device_option(s, &o.device);
  s.add("seed", &o.seed, "seed of the random VGG-16 initialisation");
  add_force_option(s, &o.force, "overwrite OUT");
}

std::string format_summary(const LpipsPairsOptions& o, const LpipsPairsResult& r) {
  std::string s;
  if (r.distance.size() == 1) {
    s += strprintf("%.6f\n", r.distance[0]);
  } else {
    for (std::size_t i = 0; i < r.distance.size() && i < 10; ++i) {
      s += cat(strprintf("  %.6f  ", r.distance[i]), r.a[i], " | ", r.b[i], "\n");
    }
    if (r.distance.size() > 10) s += cat("  ... (", r.distance.size(), " pairs)\n");
    s += cat("lpips: ", r.distance.size(), " pairs, ", strprintf("mean %.6f, std %.6f\n", r.mean, r.std));
  }
  if (r.random_vgg) s += "  WARNING: VGG-16 has random weights (no --vgg): these are not LPIPS values\n";
  if (!o.out.empty()) s += "  per pair: " + o.out + "\n";
  return s;
}

void add_options(OptionSet& s, ColorTransferOptions& o) {
  s.add("list", &o.list, "frames to transform (file list)").required();
  s.add("reference", &o.reference, "reference set (list or folder) giving the target statistics").required();
  add_out_option(s, &o.out, "output folder");
  s.add("name", &o.name, "name of the written list (default: <list>-color-transfer)");
  add_force_option(s, &o.force, "replace an existing output folder");
}

std::string format_summary(const ColorTransferOptions&, const ColorTransferResult& r) {
  const std::string lab =
      strprintf("target Lab mean %.2f %.2f %.2f, std %.2f %.2f %.2f", r.target.mean[0], r.target.mean[1],
                r.target.mean[2], r.target.std[0], r.target.std[1], r.target.std[2]);
  return cat("color-transfer: ", r.frames, " frames in ", format_duration(r.seconds), "; ", lab, " (", r.target.pixels,
             " pixels)\n  list: ", r.list, "\n");
}

}  // namespace epe
