#include <cstdio>

#include "command.h"
#include "epe/core/error.h"
#include "epe/core/log.h"
#include "epe/core/progress.h"
#include "epe/core/shard.h"
#include "epe/metrics/color_transfer.h"
#include "epe/metrics/lpips_pairs.h"
#include "epe/metrics/metrics.h"
#include "epe/segment/segment.h"

namespace epe::app {

namespace {

// The extractor options shared by `epe metrics` (Inception for FID/KID, VGG-16 for KVD/sKVD).
void add_extractor(OptionSet& s, ExtractorOptions& e) {
  s.add("inception", &e.inception, "TorchScript Inception for FID/KID (see the README: 'Inception for FID/KID')");
  s.add("inception-range", &e.inception_range, "pixel range the Inception expects: 0-255 | 0-1");
  s.add("inception-size", &e.inception_size, "frames resized to this square for the Inception");
  s.add("vgg", &e.vgg, "VGG-16 weights (torchvision state dict) for KVD/sKVD; without: random init (warned)");
  s.add("kvd-layer", &e.vgg_tap, "VGG-16 tap of KVD");
  s.add("kvd-pool", &e.vgg_pool, "KVD features: mean (global average) | none (flatten)");
  s.add("kvd-size", &e.vgg_size, "frames resized to HxW for KVD, or native");
  s.add("resize", &e.resize, "how frames are resized for Inception and KVD: clean (clean-fid: PIL bicubic, antialiased) "
                             "| legacy-tf (torch-fidelity/pytorch-fid: TF1 bilinear) | opencv");
  s.add("device", &e.device, "cpu | cuda | cuda:N").not_recorded();
  s.add("batch", &e.batch, "images per forward pass").not_recorded();
}

int print_shards(const MetricsShardResult& r, const MetricsOptions& o) {
  std::printf("metrics: shard %s of %zu feature set(s) in %s, into %s (no metrics: epe merge features --out CACHE "
              "%s, then epe metrics --cache CACHE)\n",
              o.shard.label().c_str(), r.stores.size(), format_duration(r.seconds).c_str(), o.out.c_str(),
              o.out.c_str());
  for (const FeatureShardResult& x : r.stores)
    std::printf("  %-9s rows [%lld, %lld) of %lld of %s: %s%s\n", x.extractor.c_str(),
                static_cast<long long>(x.row_begin), static_cast<long long>(x.row_end), static_cast<long long>(x.rows),
                x.source.c_str(), x.path.c_str(), x.already_complete ? " (already complete)" : "");
  if (!r.skipped.empty())
    std::printf("  not sharded: %s (the unsharded run computes them)\n", join(r.skipped, ", ").c_str());
  for (const auto& w : r.warnings) std::printf("  WARNING: %s\n", w.c_str());
  return 0;
}

}  // namespace

int run_metrics(const Args& args) {
  MetricsOptions o;
  CommonOptions c;
  std::string metrics = "kvd,skvd", names;
  OptionSet s("epe metrics --real R.csv --fake F1.csv [--fake F2.csv ...] [--names a,b] --metrics fid,kid,kvd,skvd\n"
              "            --out DIR [--inception M.pt] [--vgg vgg16.pt] [--model SEG.pt] [--cache DIR]",
              "Realism metrics of fake sets (input frames, baselines, enhanced frames) against a real set: FID and KID\n"
              "on Inception features, KVD (KID on VGG-16 features), sKVD and cKVD (KVD over crop pairs with matching\n"
              "layouts, from robust labels; cKVD per class group; FeaMGAN's protocol by default), precision/recall/\n"
              "density/coverage, and semantic consistency (a segmenter's labels of each fake set against its input\n"
              "frames': mIoU). Sets are file lists or folders of images. Writes DIR/metrics.json and DIR/metrics.md\n"
              "(with every number's protocol) and prints the table; every later set is compared with the first.");
  s.add("real", &o.real, "real set (list or folder); sKVD needs its robust labels").required();
  s.add("fake", &o.fakes, "fake set (list or folder), repeatable").required();
  s.add("names", &names, "names of the fake sets, comma separated (default: file names)");
  s.add("metrics", &metrics, "comma-separated subset of fid, kid, kvd, skvd, ckvd, prdc, semantic");
  s.add("prdc-k", &o.prdc_k, "prdc: the k-th nearest neighbour sets each sample's radius");
  s.add("prdc-features", &o.prdc_features, "prdc: inception (needs --inception) | vgg (KVD's features)");
  s.add("out,o", &o.out, "output folder").required().not_recorded();
  add_extractor(s, o.extractor);
  s.add("kid-subsets", &o.kid_subsets, "KID/KVD subsets");
  s.add("kid-subset-size", &o.kid_subset_size, "KID/KVD subset size (capped by the set sizes)");
  s.add("skvd-protocol", &o.skvd.protocol, "sKVD/cKVD crops: feamgan (FeaMGAN's published metric code) | epe");
  s.add("skvd-frame", &o.skvd.frame, "sKVD/cKVD: HxW frame the crops are cut from, or auto (526x957; feamgan: "
                                     "526x935 when a frame is narrower at 526 rows)");
  s.add("skvd-crop-fraction", &o.skvd.crop_fraction, "sKVD/cKVD: crop area as a fraction of the frame");
  s.add("skvd-crops-per-frame", &o.skvd.crops_per_frame, "sKVD/cKVD (epe protocol): random crops per frame");
  s.add("skvd-every", &o.skvd.every, "sKVD/cKVD (feamgan protocol): evaluate every N-th frame (kvdEval's --every_x_steps)");
  s.add("skvd-feamgan-seed", &o.skvd.feamgan_seed, "sKVD/cKVD (feamgan protocol): numpy default_rng seed of the crops");
  s.add("skvd-grid", &o.skvd.grid, "sKVD/cKVD: label grid side");
  s.add("skvd-threshold", &o.skvd.threshold, "sKVD/cKVD: keep pairs agreeing on more than this fraction of the grid");
  s.add("skvd-layer", &o.skvd.layer, "sKVD/cKVD: VGG-16 tap");
  s.add("skvd-pool", &o.skvd.pool, "sKVD/cKVD: none (flatten) | mean");
  s.add("skvd-subsets", &o.skvd.subsets, "sKVD/cKVD: subsets (1 = all kept pairs once)");
  s.add("skvd-subset-size", &o.skvd.subset_size, "sKVD/cKVD: pairs per subset when --skvd-subsets > 1 (0 = all)");
  s.add("ckvd-min-share", &o.skvd.ckvd_min_share, "cKVD: a class group enters a crop above this share of its pixels");
  s.add("model", &o.semantic.model, "semantic: TorchScript segmenter (epe segment's model contract)");
  s.add("semantic-source", &o.semantic.source,
        "semantic: the frames the fake sets were made from, row by row (default: the first --fake)");
  s.add("semantic-gt-map", &o.semantic.gt_map,
        "semantic: table mapping the lists' GT ids to universal ids, or none");
  SegmentProtocol& sp = o.semantic.protocol;
  s.add("seg-base-size", &sp.base_size, "semantic: epe segment's --base-size");
  s.add("seg-crop", &sp.crop, "semantic: epe segment's --crop");
  s.add("seg-scales", &sp.scales, "semantic: epe segment's --scales");
  s.add("seg-flip", &sp.flip, "semantic: epe segment's --flip");
  s.add("seg-mean", &sp.mean, "semantic: epe segment's --mean");
  s.add("seg-std", &sp.std, "semantic: epe segment's --std");
  s.add("seg-classes", &sp.classes, "semantic: epe segment's --classes");
  s.add("seg-batch", &sp.batch, "semantic: windows per forward pass").not_recorded();
  s.add("cache", &o.cache, "feature cache folder (reused by later runs)").not_recorded();
  std::string shard;
  s.add("shard", &shard,
        "I/N: extract only the Inception/VGG-16 features (fid, kid, kvd, prdc) of part I (0-based) of N contiguous "
        "parts of every set's rows into shard stores in --out (a folder all shards may share) and compute no "
        "metric; epe merge features --out CACHE joins them into a --cache; auto: from SLURM_ARRAY_TASK_ID/"
        "SLURM_ARRAY_TASK_COUNT")
      .not_recorded();
  s.add("seed", &o.seed, "seed of subsets and crops");
  s.add("force", &o.force, "replace an existing output folder").not_recorded();
  if (!parse_command(s, c, args)) return 0;
  o.command = command_line();
  o.metrics = split_list(metrics);
  if (!names.empty()) o.names = split_list(names);
  o.extractor.threads = c.threads;
  o.shard = parse_shard(shard);
  if (o.shard.active()) return print_shards(extract_metric_shards(o), o);
  MetricsResult r = run_metrics(o);
  std::printf("metrics: %zu fake set(s) against %lld real frames, in %s (feature cache: %d hit, %d computed)\n",
              r.rows.size(), static_cast<long long>(r.real_frames), format_duration(r.seconds).c_str(), r.cache_hits,
              r.cache_misses);
  std::printf("%s", format_metrics_table(r, false).c_str());
  for (const auto& x : r.comparisons) std::printf("  %s\n", x.c_str());
  for (const auto& w : r.warnings) std::printf("  WARNING: %s\n", w.c_str());
  std::printf("  report: %s/metrics.md, %s/metrics.json\n", o.out.c_str(), o.out.c_str());
  return 0;
}

int run_lpips(const Args& args) {
  LpipsPairsOptions o;
  CommonOptions c;
  OptionSet s("epe lpips A B [--vgg vgg16.pt] [--out pairs.csv]",
              "LPIPS (VGG, v0.1) between two images, or between two lists/folders row by row. Uses the shipped v0.1\n"
              "linear weights and torchvision's ImageNet VGG-16 weights given with --vgg.");
  s.add("a", &o.a, "image, list or folder").required().positional();
  s.add("b", &o.b, "image, list or folder").required().positional();
  s.add("vgg", &o.vgg, "VGG-16 weights (torchvision state dict); without: random init (warned)");
  s.add("lin", &o.lin, "LPIPS linear weights (default: data/lpips/v0.1/vgg_zip.pt)");
  s.add("out,o", &o.out, "CSV of per-pair distances");
  s.add("device", &o.device, "cpu | cuda | cuda:N");
  s.add("seed", &o.seed, "seed of the random VGG-16 initialisation");
  s.add("force", &o.force, "overwrite OUT");
  if (!parse_command(s, c, args)) return 0;
  Progress p("lpips", 0, "pairs");
  LpipsPairsResult r = lpips_pairs(o, &p);
  p.finish();
  if (r.distance.size() == 1) {
    std::printf("%.6f\n", r.distance[0]);
  } else {
    for (std::size_t i = 0; i < r.distance.size() && i < 10; ++i)
      std::printf("  %.6f  %s | %s\n", r.distance[i], r.a[i].c_str(), r.b[i].c_str());
    if (r.distance.size() > 10) std::printf("  ... (%zu pairs)\n", r.distance.size());
    std::printf("lpips: %zu pairs, mean %.6f, std %.6f\n", r.distance.size(), r.mean, r.std);
  }
  if (r.random_vgg) std::printf("  WARNING: VGG-16 has random weights (no --vgg): these are not LPIPS values\n");
  if (!o.out.empty()) std::printf("  per pair: %s\n", o.out.c_str());
  return 0;
}

int run_baseline(const Args& args) {
  const char* usage =
      "Usage: epe baseline <method> [options]   (epe baseline <method> --help)\n\n"
      "Methods:\n  color-transfer   Reinhard colour transfer: each frame's Lab mean/std matched to a reference set\n";
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    std::printf("%s", usage);
    return 0;
  }
  EPE_CHECK(!args.empty() && args[0] == "color-transfer",
            "epe baseline: name a method (color-transfer); epe baseline --help lists them");
  ColorTransferOptions o;
  CommonOptions c;
  OptionSet s("epe baseline color-transfer --list SYN.csv --reference REAL.csv --out DIR",
              "Reinhard et al. 2001 colour transfer, a baseline for metrics tables: every frame of --list gets the\n"
              "per-channel mean and standard deviation (CIE Lab) of all pixels of the --reference set. Writes\n"
              "DIR/images/NNNNNN.png and DIR/<name>.csv (the input rows with the new image; labels and G-buffers\n"
              "kept, since the layout does not change).");
  s.add("list", &o.list, "frames to transform (file list)").required();
  s.add("reference", &o.reference, "reference set (list or folder) giving the target statistics").required();
  s.add("out,o", &o.out, "output folder").required();
  s.add("name", &o.name, "name of the written list (default: <list>-color-transfer)");
  s.add("force", &o.force, "replace an existing output folder");
  if (!parse_command(s, c, Args(args.begin() + 1, args.end()))) return 0;
  o.threads = c.threads;
  Progress p("color-transfer", 0, "frames");
  ColorTransferResult r = color_transfer(o, &p);
  p.finish();
  std::printf("color-transfer: %lld frames in %s; target Lab mean %.2f %.2f %.2f, std %.2f %.2f %.2f (%lld pixels)\n",
              static_cast<long long>(r.frames), format_duration(r.seconds).c_str(), r.target.mean[0], r.target.mean[1],
              r.target.mean[2], r.target.std[0], r.target.std[1], r.target.std[2],
              static_cast<long long>(r.target.pixels));
  std::printf("  list: %s\n", r.list.c_str());
  return 0;
}

}  // namespace epe::app
