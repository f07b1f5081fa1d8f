#include "epe/metrics/metrics.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <opencv2/imgproc.hpp>

#include "epe/core/atomic_file.h"
#include "epe/core/error.h"
#include "epe/core/json.h"
#include "epe/core/log.h"
#include "epe/core/options.h"
#include "epe/core/progress.h"
#include "epe/core/rng.h"
#include "epe/core/thread_pool.h"
#include "epe/core/timer.h"
#include "epe/io/classes.h"
#include "epe/io/image.h"
#include "epe/io/labels.h"
#include "epe/nn/convert.h"
#include "epe/nn/device.h"
#include "epe/nn/vgg16.h"

namespace fs = std::filesystem;

namespace epe {

// ---- the command ---------------------------------------------------------------------------

const Choices<PrdcFeatures>& prdc_feature_kinds() {
  static const Choices<PrdcFeatures> c{{"inception", PrdcFeatures::inception}, {"vgg", PrdcFeatures::vgg}};
  return c;
}

void MetricsOptions::check() const {
  EPE_CHECK(!real.empty(), "option --real is required");
  EPE_CHECK(!fakes.empty(), "give at least one --fake");
  EPE_CHECK(names.empty() || names.size() == fakes.size(), "option --names: give one name per --fake (", fakes.size(),
            "), got ", names.size());
  EPE_CHECK(!metrics.empty(), "option --metrics is empty");
  EPE_CHECK(prdc_k >= 1, "option --prdc-k must be >= 1");
  EPE_CHECK(!out.empty(), "option --out is required");
  EPE_CHECK(!shard.active() || cache.empty(),
            "options --shard and --cache: a shard run writes its feature shards into --out; join the shards of all "
            "jobs into a cache with epe merge features --out CACHE, then run epe metrics --cache CACHE unsharded");
  EPE_CHECK(kid_subsets >= 1 && kid_subset_size >= 2, "options --kid-subsets >= 1 and --kid-subset-size >= 2");
  extractor.check();
  if (wants(Metric::skvd) || wants(Metric::ckvd)) skvd.check();
  if (wants(Metric::semantic)) semantic.check();
}

bool MetricsOptions::wants(Metric m) const {
  return std::find(metrics.begin(), metrics.end(), m) != metrics.end();
}

const Choices<Metric>& metric_kinds() {
  static const Choices<Metric> c{{"fid", Metric::fid},          {"kid", Metric::kid},   {"kvd", Metric::kvd},
                                 {"skvd", Metric::skvd},        {"ckvd", Metric::ckvd}, {"prdc", Metric::prdc},
                                 {"semantic", Metric::semantic}};
  return c;
}

namespace {

// The fake sets' names: --names, else the file names' stems.
std::vector<std::string> fake_names(const MetricsOptions& o) {
  if (!o.names.empty()) return o.names;
  std::vector<std::string> names;
  for (const auto& f : o.fakes) names.push_back(fs::path(f).stem().string());
  return names;
}

std::string num(double v, const char* f = "%.4f") {
  return std::isfinite(v) ? format_number(v, f) : "-";
}

void field_or_null(JsonWriter& j, const std::string& k, double v) {
  if (std::isfinite(v))
    j.field(k, v);
  else
    j.key(k).null();
}

// "lower" / "higher" / "equal within std" of b against a (values with stds).
std::string compare(const std::string& metric, const std::string& na, double a, double sa, const std::string& nb,
                    double b, double sb, bool has_std) {
  const double diff = b - a;
  if (has_std && std::abs(diff) <= sa + sb)
    return cat(nb, ": ", metric, " ", num(1e3 * b, "%.3f"), " equals ", na, "'s ", num(1e3 * a, "%.3f"),
               " within their std (difference ", num(1e3 * std::abs(diff), "%.3f"),
               " <= ", num(1e3 * (sa + sb), "%.3f"), ", x10^3)");
  return cat(
      nb, ": ", metric, " ", diff < 0 ? "lower" : "higher", " than ", na, "'s (", num(has_std ? 1e3 * b : b, "%.3f"),
      " vs ", num(has_std ? 1e3 * a : a, "%.3f"),
      has_std ? cat(", difference beyond the sum of their std ", num(1e3 * (sa + sb), "%.3f"), ", x10^3)") : ")");
}

void score_json(JsonWriter& j, const Confusion::Score& s) {
  j.begin_object();
  field_or_null(j, "miou", s.miou);
  field_or_null(j, "pixel_accuracy", s.pixel_accuracy);
  j.field("pixels", s.pixels);
  j.key("classes").begin_array();
  for (const auto& c : s.classes)
    j.begin_object()
        .field("id", c.id)
        .field("name", c.name)
        .field("iou", c.iou)
        .field("reference_pixels", c.reference_pixels)
        .field("predicted_pixels", c.predicted_pixels)
        .end_object();
  j.end_array();
  j.end_object();
}

// What every number of the report was measured with (metrics.md's "Protocols", metrics.json's
// "protocols"): one entry per metric asked for.
struct Protocols {
  std::vector<std::pair<std::string, std::string>> entries;  // metric, protocol
};

Protocols protocols(const MetricsOptions& o, const MetricsResult& r, const std::string& inception_desc,
                    const std::string& vgg_desc, const std::string& vgg_weights, const std::string& seg_desc) {
  Protocols p;
  const std::string resize =
      cat("frames resized with --resize ", to_string(o.extractor.resize),
          o.extractor.resize == ResizeMode::clean       ? " (PIL bicubic on float, as clean-fid's default)"
          : o.extractor.resize == ResizeMode::legacy_tf ? " (TF1 bilinear, as torch-fidelity / pytorch-fid)"
                                                        : " (OpenCV area / bicubic; matches no published tool)");
  if (o.wants(Metric::fid))
    p.entries.push_back({"fid", cat("Inception features: ", inception_desc, "; ", resize,
                                    "; Fréchet distance, covariances with n - 1")});
  if (o.wants(Metric::kid))
    p.entries.push_back(
        {"kid", cat("Inception features: ", inception_desc, "; ", resize, "; unbiased MMD², kernel (x·y/d + 1)³, ",
                    o.kid_subsets, " subsets of min(", o.kid_subset_size, ", n_real, n_fake), mean ± std (ddof 0)")});
  if (o.wants(Metric::kvd))
    p.entries.push_back({"kvd", cat("VGG-16 features: ", vgg_desc, "; ", resize, "; KID's estimator, ", o.kid_subsets,
                                    " subsets of min(", o.kid_subset_size, ", n_real, n_fake)")});
  if (o.wants(Metric::skvd) || o.wants(Metric::ckvd)) {
    std::string plans;
    for (const auto& row : r.rows)
      if (!row.skvd_protocol.empty() && plans.find(row.skvd_protocol) == std::string::npos)
        plans += (plans.empty() ? "" : " | ") + row.skvd_protocol;
    if (o.wants(Metric::skvd)) p.entries.push_back({"skvd", cat(plans, "; VGG-16 weights ", vgg_weights)});
    if (o.wants(Metric::ckvd))
      p.entries.push_back({"ckvd", cat(plans, "; FeaMGAN's class groups, crops masked to a group covering more than ",
                                       o.skvd.ckvd_min_share,
                                       " of them (mid-grey elsewhere), pairs within the group; "
                                       "all = mean over groups with >= 2 pairs; VGG-16 weights ",
                                       vgg_weights)});
  }
  if (o.wants(Metric::prdc))
    p.entries.push_back({"prdc", cat("precision/recall (Kynkäänniemi et al. 2019, torch-fidelity's definition, <=) and "
                                     "density/coverage (Naeem et al. 2020, <), Euclidean distances on ",
                                     o.prdc_features == PrdcFeatures::vgg ? vgg_desc : inception_desc, "; ", resize,
                                     "; k = ", o.prdc_k)});
  if (o.wants(Metric::semantic))
    p.entries.push_back(
        {"semantic",
         cat("segmenter ", seg_desc, " with epe segment's protocol (base-size ", o.semantic.protocol.base_size,
             ", crop ", o.semantic.protocol.crop, o.semantic.protocol.flip ? ", flip" : "",
             "); each fake frame's labels against its source frame's (",
             o.semantic.source.empty() ? "the first fake set" : o.semantic.source, ") and against GT via ",
             o.semantic.gt_map, "; IoU over all pixels per class, mIoU over classes present")});
  return p;
}

std::string metrics_json(const MetricsOptions& o, const MetricsResult& r, const Protocols& prot,
                         const std::string& inception_desc, const std::string& vgg_desc, const std::string& seg_desc) {
  JsonWriter j;
  j.begin_object();
  j.field("epe_format", "metrics")
      .field("command", o.command)
      .field("real", o.real)
      .field("real_frames", r.real_frames);
  j.key("sets").begin_object();
  for (const auto& row : r.rows) {
    j.key(row.name).begin_object().field("source", row.source).field("frames", row.frames);
    if (row.has_fid) j.field("fid", row.fid);
    if (row.has_kid) j.field("kid_mean", row.kid.mean).field("kid_std", row.kid.std);
    if (row.has_kvd) j.field("kvd_mean", row.kvd.mean).field("kvd_std", row.kvd.std);
    if (row.has_prdc)
      j.field("precision", row.prdc.precision)
          .field("recall", row.prdc.recall)
          .field("density", row.prdc.density)
          .field("coverage", row.prdc.coverage);
    if (row.has_skvd || row.has_ckvd)
      j.field("skvd_frame", cat(row.skvd_height, "x", row.skvd_width)).field("skvd_crop_side", row.skvd_side);
    if (row.has_skvd) {
      j.field("skvd_mean", row.skvd.mean).field("skvd_std", row.skvd.std).field("skvd_pairs", row.skvd.pairs);
      j.field("skvd_candidates", row.skvd.candidates);
      j.key("skvd_classes").begin_array();
      for (const auto& c : row.skvd.classes) {
        j.begin_object().field("id", c.id).field("name", c.name).field("pairs", c.pairs);
        field_or_null(j, "skvd", c.value);
        j.end_object();
      }
      j.end_array();
    }
    if (row.has_ckvd) {
      j.field("ckvd_mean", row.ckvd.mean).field("ckvd_std", row.ckvd.std).field("ckvd_groups", row.ckvd.groups);
      j.key("ckvd_classes").begin_array();
      for (const auto& c : row.ckvd.classes) {
        j.begin_object().field("name", c.name).field("pairs", c.pairs).field("candidates", c.candidates);
        field_or_null(j, "ckvd", c.mean);
        field_or_null(j, "ckvd_std", c.std);
        j.end_object();
      }
      j.end_array();
    }
    if (row.has_semantic) {
      j.key("semantic_vs_input");
      score_json(j, row.semantic.vs_input);
      if (row.semantic.has_gt) {
        j.key("semantic_vs_gt");
        score_json(j, row.semantic.vs_gt);
      }
    }
    j.end_object();
  }
  j.end_object();
  j.key("comparisons").begin_array();
  for (const auto& c : r.comparisons) j.value(c);
  j.end_array();
  j.key("warnings").begin_array();
  for (const auto& w : r.warnings) j.value(w);
  j.end_array();
  j.key("protocols").begin_object();
  for (const auto& [m, text] : prot.entries) j.field(m, text);
  j.end_object();
  j.key("options").begin_object();
  j.key("metrics").begin_array();
  for (Metric m : o.metrics) j.value(choice_name(metric_kinds(), m));
  j.end_array();
  j.field("seed", static_cast<std::int64_t>(o.seed)).field("resize", to_string(o.extractor.resize));
  if (o.wants(Metric::fid) || o.wants(Metric::kid)) {
    j.field("inception", inception_desc);
  }
  if (o.wants(Metric::kid)) j.field("kid_subsets", o.kid_subsets).field("kid_subset_size", o.kid_subset_size);
  if (o.wants(Metric::kvd)) {
    j.field("kvd_extractor", vgg_desc).field("kvd_subsets", o.kid_subsets).field("kvd_subset_size", o.kid_subset_size);
  }
  if (o.wants(Metric::prdc))
    j.key("prdc")
        .begin_object()
        .field("k", o.prdc_k)
        .field("features", o.prdc_features == PrdcFeatures::vgg ? vgg_desc : inception_desc)
        .end_object();
  if (o.wants(Metric::skvd) || o.wants(Metric::ckvd)) {
    const SkvdOptions& s = o.skvd;
    j.key("skvd")
        .begin_object()
        .field("protocol", choice_name(skvd_protocols(), s.protocol))
        .field("frame", s.frame)
        .field("crop_side", r.rows.empty() ? 0 : r.rows.front().skvd_side)
        .field("crop_fraction", s.crop_fraction)
        .field("crops_per_frame", s.crops_per_frame)
        .field("every", s.every)
        .field("feamgan_seed", static_cast<std::int64_t>(s.feamgan_seed))
        .field("grid", s.grid)
        .field("threshold", s.threshold)
        .field("layer", s.layer)
        .field("pool", choice_name(feature_pools(), s.pool))
        .field("subsets", s.subsets)
        .field("subset_size", s.subset_size)
        .field("ckvd_min_share", s.ckvd_min_share)
        .field("vgg", vgg_desc)
        .end_object();
  }
  if (o.wants(Metric::semantic))
    j.key("semantic")
        .begin_object()
        .field("model", seg_desc)
        .field("source", o.semantic.source.empty() ? o.fakes.front() : o.semantic.source)
        .field("gt_map", o.semantic.gt_map)
        .field("base_size", o.semantic.protocol.base_size)
        .field("crop", o.semantic.protocol.crop)
        .field("flip", o.semantic.protocol.flip)
        .end_object();
  j.end_object();
  j.end_object();
  return j.str();
}

}  // namespace

std::string format_metrics_table(const MetricsResult& r, bool md) {
  bool fid = false, kid = false, kvd = false, skvd = false, ckvd = false, pr = false, sem = false, sem_gt = false;
  for (const auto& row : r.rows) {
    pr |= row.has_prdc;
    fid |= row.has_fid;
    kid |= row.has_kid;
    kvd |= row.has_kvd;
    skvd |= row.has_skvd;
    ckvd |= row.has_ckvd;
    sem |= row.has_semantic;
    sem_gt |= row.has_semantic && row.semantic.has_gt;
  }
  std::vector<std::string> head = {"set", "frames"};
  if (fid) head.push_back("FID");
  if (kid) head.push_back("KID x10^3");
  if (kvd) head.push_back("KVD x10^3");
  if (skvd) {
    head.push_back("sKVD x10^3");
    head.push_back("sKVD pairs");
  }
  if (ckvd) head.push_back("cKVD x10^3");
  if (pr)
    for (const char* h : {"precision", "recall", "density", "coverage"}) head.push_back(h);
  if (sem) {
    head.push_back("mIoU vs input");
    head.push_back("pixel acc.");
  }
  if (sem_gt) head.push_back("mIoU vs GT");
  std::vector<std::vector<std::string>> rows;
  auto pm = [](double m, double s) { return num(1e3 * m, "%.3f") + " ± " + num(1e3 * s, "%.3f"); };
  for (const auto& row : r.rows) {
    std::vector<std::string> v = {row.name, std::to_string(row.frames)};
    if (fid) v.push_back(row.has_fid ? num(row.fid, "%.3f") : "-");
    if (kid) v.push_back(row.has_kid ? pm(row.kid.mean, row.kid.std) : "-");
    if (kvd) v.push_back(row.has_kvd ? pm(row.kvd.mean, row.kvd.std) : "-");
    if (skvd) {
      v.push_back(row.has_skvd ? pm(row.skvd.mean, row.skvd.std) : "-");
      v.push_back(row.has_skvd ? cat(row.skvd.pairs, "/", row.skvd.candidates) : "-");
    }
    if (ckvd) v.push_back(row.has_ckvd ? pm(row.ckvd.mean, row.ckvd.std) : "-");
    if (pr)
      for (double x : {row.prdc.precision, row.prdc.recall, row.prdc.density, row.prdc.coverage})
        v.push_back(row.has_prdc ? num(x, "%.3f") : "-");
    if (sem) {
      v.push_back(row.has_semantic ? num(row.semantic.vs_input.miou, "%.4f") : "-");
      v.push_back(row.has_semantic ? num(row.semantic.vs_input.pixel_accuracy, "%.4f") : "-");
    }
    if (sem_gt) v.push_back(row.has_semantic && row.semantic.has_gt ? num(row.semantic.vs_gt.miou, "%.4f") : "-");
    rows.push_back(v);
  }
  std::string s;
  if (md) {
    s += "| " + join(head, " | ") + " |\n|";
    for (std::size_t i = 0; i < head.size(); ++i) s += i == 0 ? "---|" : "---:|";
    s += "\n";
    for (const auto& v : rows) s += "| " + join(v, " | ") + " |\n";
    return s;
  }
  std::vector<std::size_t> w(head.size());
  for (std::size_t i = 0; i < head.size(); ++i) w[i] = head[i].size();
  for (const auto& v : rows)
    for (std::size_t i = 0; i < v.size(); ++i) w[i] = std::max(w[i], v[i].size());
  auto line = [&](const std::vector<std::string>& v) {
    std::string l = " ";
    for (std::size_t i = 0; i < v.size(); ++i) {
      const std::string pad(w[i] - std::min(w[i], v[i].size() - (v[i].find("±") != std::string::npos ? 1 : 0)), ' ');
      l += " " + (i == 0 ? v[i] + pad : pad + v[i]);
    }
    return l + "\n";
  };
  s += line(head);
  for (const auto& v : rows) s += line(v);
  return s;
}

MetricsShardResult extract_metric_shards(const MetricsOptions& o, Progress* progress) {
  o.check();
  EPE_CHECK(o.shard.active(), "extract_metric_shards: no --shard");
  const Timer t0;
  MetricsShardResult r;
  std::vector<std::pair<std::string, ImageSet>> sets;  // what to call it, the set
  sets.emplace_back("real", read_image_set(o.real));
  const std::vector<std::string> names = fake_names(o);
  for (std::size_t i = 0; i < o.fakes.size(); ++i) sets.emplace_back(names[i], read_image_set(o.fakes[i]));
  std::vector<std::unique_ptr<FeatureExtractor>> extractors;
  if (o.wants(Metric::fid) || o.wants(Metric::kid) ||
      (o.wants(Metric::prdc) && o.prdc_features == PrdcFeatures::inception))
    extractors.push_back(make_inception_extractor(o.extractor));
  if (o.wants(Metric::kvd) || (o.wants(Metric::prdc) && o.prdc_features == PrdcFeatures::vgg))
    extractors.push_back(make_vgg_extractor(o.extractor));
  std::vector<std::string> asked;
  for (Metric m : o.metrics) asked.push_back(choice_name(metric_kinds(), m));
  for (Metric m : {Metric::skvd, Metric::ckvd, Metric::semantic})
    if (o.wants(m)) r.skipped.push_back(choice_name(metric_kinds(), m));
  EPE_CHECK(!extractors.empty(), "option --shard: the metrics asked (", join(asked, ","),
            ") need no whole-frame features; a shard run extracts the Inception features of fid, kid and prdc and "
            "the VGG-16 features of kvd (sKVD/cKVD crops and semantic labels are computed by the unsharded run)");
  for (const auto& ex : extractors)
    if (ex->random_init)
      r.warnings.push_back(
          "VGG-16 has RANDOM weights (no --vgg): the KVD these features give is not comparable with "
          "published numbers");
  for (const auto& ex : extractors)
    for (const auto& [what, set] : sets) {
      const auto [begin, end] = o.shard.rows(static_cast<std::int64_t>(set.images.size()));
      if (progress)
        progress->phase(cat(ex->name(), " features of ", what, " (shard ", o.shard.label(), ")"), end - begin,
                        "images");
      r.stores.push_back(write_feature_shard(*ex, set, o.shard, o.out, o.force, progress));
    }
  r.seconds = t0.seconds();
  return r;
}

MetricsResult run_metrics(const MetricsOptions& o, Progress* progress) {
  o.check();
  EPE_CHECK(!o.shard.active(), "run_metrics: a --shard run extracts features only (extract_metric_shards)");
  const Timer t0;
  check_output_path(o.out, o.force);
  MetricsResult r;
  const ImageSet real = read_image_set(o.real);
  r.real_frames = static_cast<std::int64_t>(real.images.size());
  std::vector<ImageSet> fakes;
  for (const auto& f : o.fakes) fakes.push_back(read_image_set(f));
  const std::vector<std::string> names = fake_names(o);

  const bool want_skvd = o.wants(Metric::skvd), want_ckvd = o.wants(Metric::ckvd);
  std::unique_ptr<FeatureExtractor> inception, vgg;
  std::shared_ptr<nn::Vgg16> vgg_net;  // one VGG-16 (one weights read) for KVD, sKVD and cKVD
  std::string inception_desc, vgg_desc, seg_desc;
  const bool prdc_inception = o.wants(Metric::prdc) && o.prdc_features == PrdcFeatures::inception;
  const bool prdc_vgg = o.wants(Metric::prdc) && o.prdc_features == PrdcFeatures::vgg;
  if (o.wants(Metric::fid) || o.wants(Metric::kid) || prdc_inception) {
    inception = make_inception_extractor(o.extractor);
    inception_desc = inception->description();
  }
  if (o.wants(Metric::kvd) || want_skvd || want_ckvd || prdc_vgg) {
    vgg_net = make_metrics_vgg(o.extractor);
    vgg = make_vgg_extractor(o.extractor, vgg_net);
    vgg_desc = vgg->description();
    if (vgg->random_init)
      r.warnings.push_back(
          "VGG-16 has RANDOM weights (no --vgg): KVD, sKVD and cKVD are not comparable with published "
          "numbers; pass torchvision's ImageNet VGG-16 state dict");
  }
  std::unique_ptr<Segmenter> segmenter;
  std::vector<cv::Mat> source_labels;
  ImageSet source_set;
  if (o.wants(Metric::semantic)) {
    segmenter = std::make_unique<Segmenter>(o.semantic.model, o.semantic.protocol);
    seg_desc = segmenter->provenance();
    source_set = o.semantic.source.empty() ? fakes.front() : read_image_set(o.semantic.source);
  }
  auto features = [&](FeatureExtractor& ex, const ImageSet& set, const std::string& what) {
    if (progress)
      progress->phase(cat(ex.name(), " features of ", what), static_cast<std::int64_t>(set.images.size()), "images");
    bool hit = false;
    FeatureMatrix m = cached_features(ex, set, o.cache, &hit, progress);
    (hit ? r.cache_hits : r.cache_misses) += 1;
    if (hit) log_info("features of ", what, " (", ex.name(), ") read from the cache");
    return m;
  };
  auto labels = [&](const ImageSet& set, const std::string& what) {
    if (progress)
      progress->phase(cat("segmenter labels of ", what), static_cast<std::int64_t>(set.images.size()), "frames");
    bool hit = false;
    std::vector<cv::Mat> l = semantic_labels(*segmenter, o.semantic.protocol, set, o.cache, &hit, progress);
    (hit ? r.cache_hits : r.cache_misses) += 1;
    return l;
  };
  if (segmenter) source_labels = labels(source_set, "the source frames");
  FeatureMatrix real_inc, real_vgg;
  if (inception) real_inc = features(*inception, real, "real");
  if (o.wants(Metric::kvd) || prdc_vgg) real_vgg = features(*vgg, real, "real");
  // The real crops of sKVD/cKVD: under the feamgan protocol they depend on the fake set's length
  // (the sets are read in lockstep), so they are re-extracted only when the plan changes.
  std::vector<CropSpec> real_specs;
  SkvdCrops real_crops;
  for (std::size_t i = 0; i < fakes.size(); ++i) {
    MetricsRow row;
    row.name = names[i];
    row.source = o.fakes[i];
    row.frames = static_cast<std::int64_t>(fakes[i].images.size());
    if (inception) {
      const FeatureMatrix f = features(*inception, fakes[i], names[i]);
      if (o.wants(Metric::fid)) {
        row.fid = fid(real_inc, f);
        row.has_fid = true;
      }
      if (o.wants(Metric::kid)) {
        row.kid = kid(real_inc, f, o.kid_subsets, o.kid_subset_size, o.seed);
        row.has_kid = true;
      }
      if (prdc_inception) {
        row.prdc = prdc(real_inc, f, o.prdc_k);
        row.has_prdc = true;
      }
    }
    if (o.wants(Metric::kvd) || prdc_vgg) {
      const FeatureMatrix f = features(*vgg, fakes[i], names[i]);
      if (o.wants(Metric::kvd)) {
        row.kvd = kid(real_vgg, f, o.kid_subsets, o.kid_subset_size, o.seed);
        row.has_kvd = true;
      }
      if (prdc_vgg) {
        row.prdc = prdc(real_vgg, f, o.prdc_k);
        row.has_prdc = true;
      }
    }
    if (want_skvd || want_ckvd) {
      const CropPlan plan = plan_crops(o.skvd, real, fakes[i], o.seed);
      row.skvd_protocol = describe_skvd(o.skvd, plan);
      row.skvd_height = plan.height;
      row.skvd_width = plan.width;
      row.skvd_side = plan.side;
      if (real_specs.empty() || !(plan.real == real_specs)) {
        if (progress) progress->phase("sKVD crops of real", static_cast<std::int64_t>(plan.real.size()), "crops");
        real_crops = skvd_crops(real, plan.real, plan, o.skvd, *vgg_net, o.extractor.device, want_skvd, want_ckvd,
                                o.extractor.threads, progress);
        real_specs = plan.real;
      }
      if (progress)
        progress->phase(cat("sKVD crops of ", names[i]), static_cast<std::int64_t>(plan.fake.size()), "crops");
      const SkvdCrops fc = skvd_crops(fakes[i], plan.fake, plan, o.skvd, *vgg_net, o.extractor.device, want_skvd,
                                      want_ckvd, o.extractor.threads, progress);
      if (want_skvd) {
        row.skvd = skvd(real_crops, fc, o.skvd, o.seed);
        row.has_skvd = true;
      }
      if (want_ckvd) {
        row.ckvd = ckvd(real_crops, fc, o.skvd, o.seed);
        row.has_ckvd = true;
      }
    }
    if (segmenter) {
      const std::vector<cv::Mat> fl = o.semantic.source.empty() && i == 0 ? source_labels : labels(fakes[i], names[i]);
      row.semantic = semantic_consistency(source_labels, fl, fakes[i], o.semantic.gt_map);
      row.has_semantic = true;
    }
    r.rows.push_back(row);
  }
  // Every later set against the first (usually the unenhanced input).
  const MetricsRow& base = r.rows.front();
  for (std::size_t i = 1; i < r.rows.size(); ++i) {
    const MetricsRow& x = r.rows[i];
    if (x.has_fid) r.comparisons.push_back(compare("FID", base.name, base.fid, 0, x.name, x.fid, 0, false));
    if (x.has_kid)
      r.comparisons.push_back(
          compare("KID", base.name, base.kid.mean, base.kid.std, x.name, x.kid.mean, x.kid.std, true));
    if (x.has_kvd)
      r.comparisons.push_back(
          compare("KVD", base.name, base.kvd.mean, base.kvd.std, x.name, x.kvd.mean, x.kvd.std, true));
    if (x.has_skvd)
      r.comparisons.push_back(
          compare("sKVD", base.name, base.skvd.mean, base.skvd.std, x.name, x.skvd.mean, x.skvd.std, true));
    if (x.has_ckvd)
      r.comparisons.push_back(
          compare("cKVD", base.name, base.ckvd.mean, base.ckvd.std, x.name, x.ckvd.mean, x.ckvd.std, true));
    if (x.has_prdc && base.has_prdc)
      r.comparisons.push_back(cat(x.name, ": precision ", num(x.prdc.precision, "%.3f"), " (", base.name, " ",
                                  num(base.prdc.precision, "%.3f"), "), recall ", num(x.prdc.recall, "%.3f"), " (",
                                  num(base.prdc.recall, "%.3f"), "); higher is closer to the real set"));
    if (x.has_semantic)
      r.comparisons.push_back(cat(x.name, ": the segmenter's labels agree with those of its input frames at mIoU ",
                                  num(x.semantic.vs_input.miou, "%.4f"), " (pixel accuracy ",
                                  num(x.semantic.vs_input.pixel_accuracy, "%.4f"), "); 1 = nothing changed"));
  }
  const Protocols prot = protocols(o, r, inception_desc, vgg_desc, vgg_net ? vgg_net->provenance() : "", seg_desc);
  // Reports.
  AtomicDir dir(o.out, o.force);
  const fs::path tmp = dir.temp_path();
  write_file_atomic((tmp / "metrics.json").string(), metrics_json(o, r, prot, inception_desc, vgg_desc, seg_desc));
  std::string md = "# Realism metrics\n\n";
  md += cat("Real set: `", o.real, "` (", r.real_frames, " frames). Command: `", o.command, "`\n\n");
  md += format_metrics_table(r, true);
  md +=
      "\nKID, KVD, sKVD and cKVD are unbiased MMD² estimates with the kernel (x·y/d + 1)³, shown ×10³ as mean ± std "
      "over subsets (raw values in metrics.json). Lower is closer to the real set.\n";
  if (!r.comparisons.empty()) {
    md += "\n## Against the first set\n\n";
    for (const auto& c : r.comparisons) md += "- " + c + "\n";
  }
  if (!r.warnings.empty()) {
    md += "\n## Warnings\n\n";
    for (const auto& w : r.warnings) md += "- **" + w + "**\n";
  }
  md +=
      "\n## Protocols\n\nWhat each number was measured with; numbers are comparable only under the same protocol.\n\n";
  for (const auto& [m, text] : prot.entries) md += cat("- **", m, "**: ", text, "\n");
  if (want_skvd) {
    md += "\n## sKVD by dominant class of the fake crop\n\n| set | class | pairs | sKVD x10^3 |\n|---|---|---:|---:|\n";
    for (const auto& row : r.rows)
      for (const auto& c : row.skvd.classes)
        md += cat("| ", row.name, " | ", c.name, " | ", c.pairs, " | ", num(1e3 * c.value, "%.3f"), " |\n");
  }
  if (want_ckvd) {
    md += "\n## cKVD by class group\n\n| set | group | pairs | crops | cKVD x10^3 |\n|---|---|---:|---:|---:|\n";
    for (const auto& row : r.rows)
      for (const auto& c : row.ckvd.classes)
        md += cat("| ", row.name, " | ", c.name, " | ", c.pairs, " | ", c.candidates, " | ", num(1e3 * c.mean, "%.3f"),
                  " |\n");
  }
  if (o.wants(Metric::semantic)) {
    md +=
        "\n## Semantic consistency: IoU per class against the input frames' labels\n\n| set | class | IoU | input "
        "pixels | pixels |\n|---|---|---:|---:|---:|\n";
    for (const auto& row : r.rows)
      for (const auto& c : row.semantic.vs_input.classes)
        md += cat("| ", row.name, " | ", c.name, " | ", num(c.iou, "%.4f"), " | ", c.reference_pixels, " | ",
                  c.predicted_pixels, " |\n");
  }
  write_file_atomic((tmp / "metrics.md").string(), md);
  dir.commit();
  r.seconds = t0.seconds();
  return r;
}

}  // namespace epe
