#pragma once
// `epe metrics` (docs/DESIGN.md §5.7): FID, KID, KVD, sKVD and cKVD (skvd.h) of fake sets against a
// real set, as the benchmark table of the paper (one row per fake set: input frames, colour
// transfer, enhancer); precision/recall/density/coverage (prdc, kernel.h) on the Inception or
// KVD features; semantic consistency of each fake set with its source frames (semantic.h).
// metrics.md and metrics.json state every number's protocol (resize, extractor and its weights'
// SHA-256 or RANDOM, subsets, crop protocol) so that tables can be compared honestly.

#include <cstdint>
#include <string>
#include <vector>

#include "epe/core/shard.h"
#include "epe/metrics/feature_store.h"
#include "epe/metrics/features.h"
#include "epe/metrics/kernel.h"
#include "epe/metrics/semantic.h"
#include "epe/metrics/skvd.h"

namespace epe {

class Progress;

// The features precision/recall/density/coverage are computed on.
enum class PrdcFeatures { inception, vgg };
const Choices<PrdcFeatures>& prdc_feature_kinds();  // "inception", "vgg"

// The metrics `epe metrics --metrics` computes.
enum class Metric { fid, kid, kvd, skvd, ckvd, prdc, semantic };
const Choices<Metric>& metric_kinds();  // "fid", "kid", "kvd", "skvd", "ckvd", "prdc", "semantic"

struct MetricsOptions {
  std::string real;
  std::vector<std::string> fakes;
  std::vector<std::string> names;  // default: list stems
  std::vector<Metric> metrics = {Metric::kvd, Metric::skvd};
  std::string out;             // folder for metrics.json, metrics.md
  ExtractorOptions extractor;  // Inception and KVD's VGG-16 options
  int kid_subsets = 100;
  std::int64_t kid_subset_size = 1000;
  SkvdOptions skvd;  // sKVD and cKVD
  SemanticOptions semantic;
  int prdc_k = 5;  // nearest neighbour of the precision/recall/density/coverage radii
  PrdcFeatures prdc_features = PrdcFeatures::inception;  // inception | vgg (KVD's extractor)
  std::string cache;                                     // feature cache folder ("" = none)
  Shard shard;                                           // active: extract_metric_shards() (no metrics)
  std::uint64_t seed = 0;
  bool force = false;
  std::string command;
  void check() const;
  bool wants(Metric m) const;  // whether `metrics` holds m
};

struct MetricsRow {
  std::string name, source;
  std::int64_t frames = 0;
  bool has_fid = false, has_kid = false, has_kvd = false, has_skvd = false, has_ckvd = false, has_prdc = false,
       has_semantic = false;
  double fid = 0;
  KidResult kid, kvd;
  SkvdResult skvd;
  CkvdResult ckvd;
  PrdcResult prdc;
  SemanticResult semantic;
  std::string skvd_protocol;                           // describe_skvd() of this row's crop plan
  int skvd_height = 0, skvd_width = 0, skvd_side = 0;  // its frame and crop side
};

struct MetricsResult {
  std::int64_t real_frames = 0;
  std::vector<MetricsRow> rows;
  std::vector<std::string> comparisons;  // "colour-transfer: KVD lower than input by ... (beyond 1 std)"
  std::vector<std::string> warnings;     // random-init networks etc.
  int cache_hits = 0, cache_misses = 0;
  double seconds = 0;
};

// `progress` (optional) counts each phase in turn: the features of each set, labels, sKVD crops.
MetricsResult run_metrics(const MetricsOptions& o, Progress* progress = nullptr);

// `epe metrics --shard I/N`: the whole-frame features the metrics of `o` need (Inception for
// fid/kid/prdc, VGG-16 for kvd/prdc with --prdc-features vgg) of shard I of the real set and of
// every fake set, written as shard stores into the folder o.out (feature_store.h), which many
// jobs may share; no metric is computed. `epe merge features --out CACHE` joins the shards of
// all jobs into a feature cache, and `epe metrics --cache CACHE` (unsharded) then reads every
// set's features from it and computes the metrics. sKVD/cKVD crops and semantic labels are not
// sharded: the unsharded run computes them (`skipped` names them).
struct MetricsShardResult {
  std::vector<FeatureShardResult> stores;  // one per (set, extractor), the real set first
  std::vector<std::string> skipped;        // the asked metrics whose inputs a shard does not extract
  std::vector<std::string> warnings;       // random-init networks
  double seconds = 0;
};
MetricsShardResult extract_metric_shards(const MetricsOptions& o, Progress* progress = nullptr);

// The console / markdown table of a result.
std::string format_metrics_table(const MetricsResult& r, bool markdown);

// Binds every option of `epe metrics` to `o`; the lines it prints after a run or a shard run.
void add_options(OptionSet& s, MetricsOptions& o);
std::string format_summary(const MetricsOptions& o, const MetricsResult& r);
std::string format_summary(const MetricsOptions& o, const MetricsShardResult& r);

}  // namespace epe
