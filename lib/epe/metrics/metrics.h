#pragma once
// `epe metrics` (DESIGN §5.7): FID, KID, KVD and sKVD of fake sets against a real set, as the
// benchmark table of the paper (one row per fake set: input frames, colour transfer, enhancer),
// and precision/recall/density/coverage (prdc, kernel.h) on the Inception or KVD features.

#include <cstdint>
#include <string>
#include <vector>

#include "epe/metrics/features.h"
#include "epe/metrics/kernel.h"

namespace epe {

class Progress;
namespace nn {
class Vgg16;
}

// sKVD (semantically aligned kernel VGG distance), FeaMGAN's defaults.
struct SkvdOptions {
  std::string frame = "526x957";  // frames scaled to cover HxW and centre-cropped
  double crop_fraction = 0.125;    // square crops of side floor(sqrt(H W fraction))
  int crops_per_frame = 1;
  int grid = 16;                   // label grid side (nearest downsampling)
  double threshold = 0.5;          // keep pairs whose labels agree on more than this fraction
  std::string layer = "relu5_3";
  std::string pool = "none";       // none (flatten, spatial layout kept) | mean
  int subsets = 1;                 // 1 = one subset of all kept pairs
  std::int64_t subset_size = 0;    // pairs per subset when subsets > 1 (0 = all kept pairs)
  void check() const;
  int crop_side() const;
};

// Crops of one set for sKVD: VGG-16 features and label grids.
struct SkvdCrops {
  FeatureMatrix features;
  std::vector<std::uint8_t> grids;  // [n, grid * grid]
  std::vector<std::int32_t> frame;  // row in the set
};

// role 0 = real, 1 = fake (different crop positions per role). Needs robust labels for every
// frame (UserError naming the list line otherwise).
SkvdCrops skvd_crops(const ImageSet& set, const SkvdOptions& o, nn::Vgg16& vgg, const std::string& device,
                     std::uint64_t seed, int role, int threads, Progress* progress = nullptr);

struct SkvdClass {
  int id = 0;
  std::string name;
  std::int64_t pairs = 0;
  double value = 0;  // MMD^2 over the class's pairs (NaN below 2 pairs)
};

struct SkvdResult {
  double mean = 0, std = 0;  // raw (not x 10^3)
  std::int64_t pairs = 0, candidates = 0;
  std::vector<SkvdClass> classes;  // by the fake crop's dominant label, most pairs first
};

SkvdResult skvd(const SkvdCrops& real, const SkvdCrops& fake, const SkvdOptions& o, std::uint64_t seed);

struct MetricsOptions {
  std::string real;
  std::vector<std::string> fakes;
  std::vector<std::string> names;          // default: list stems
  std::vector<std::string> metrics = {"kvd", "skvd"};  // fid, kid, kvd, skvd, prdc
  std::string out;                          // folder for metrics.json, metrics.md
  ExtractorOptions extractor;               // Inception and KVD's VGG-16 options
  int kid_subsets = 100;
  std::int64_t kid_subset_size = 1000;
  SkvdOptions skvd;
  int prdc_k = 5;                           // nearest neighbour of the precision/recall/density/coverage radii
  std::string prdc_features = "inception";  // inception | vgg (KVD's extractor)
  std::string cache;                        // feature cache folder ("" = none)
  std::uint64_t seed = 0;
  bool force = false;
  std::string command;
  void check() const;
};

struct MetricsRow {
  std::string name, source;
  std::int64_t frames = 0;
  bool has_fid = false, has_kid = false, has_kvd = false, has_skvd = false, has_prdc = false;
  double fid = 0;
  KidResult kid, kvd;
  SkvdResult skvd;
  PrdcResult prdc;
};

struct MetricsResult {
  std::int64_t real_frames = 0;
  std::vector<MetricsRow> rows;
  std::vector<std::string> comparisons;  // "colour-transfer: KVD lower than input by ... (beyond 1 std)"
  std::vector<std::string> warnings;     // random-init networks etc.
  int cache_hits = 0, cache_misses = 0;
  double seconds = 0;
};

MetricsResult run_metrics(const MetricsOptions& o);

// The console / markdown table of a result.
std::string format_metrics_table(const MetricsResult& r, bool markdown);

}  // namespace epe
