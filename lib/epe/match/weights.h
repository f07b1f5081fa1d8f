#pragma once
// Sampling weights of matched pairs (docs/DESIGN.md §5.4), the reference's compute_weights.py rule:
// for the kept pairs, d(x) = number of pairs whose source box covers pixel x (one count per
// pair); a pair's raw weight is w_i = mean of d over its box and its sampling weight is
// max(d) / w_i, so that regions covered by many matches are not over-sampled. Computed per
// source frame size with a 2-D difference array (d) and a summed-area table (box means):
// O(m + H*W) instead of the reference's O(m * box area).

#include <cstdint>
#include <string>
#include <vector>

#include "epe/core/options.h"

namespace epe {

struct SizedBox {
  std::int32_t height = 0, width = 0;  // frame size
  std::int32_t r0 = 0, r1 = 0, c0 = 0, c1 = 0;
};

struct DensityMap {
  std::int32_t height = 0, width = 0;
  std::vector<std::int32_t> count;  // [H, W]
  std::int64_t pairs = 0;
};

// Weights of `boxes` (one per pair), and the density map of each frame size (in order of first
// appearance) when `densities` is given.
std::vector<double> sampling_weights(const std::vector<SizedBox>& boxes, std::vector<DensityMap>* densities = nullptr);

struct WeightsOptions {
  std::string store;        // match store; rewritten with /pairs/weight and /density
  std::string density_png;  // optional heat map of the density (largest size group)
  bool force = false;       // overwrite an existing --density-png
};
struct WeightsResult {
  std::int64_t pairs = 0;
  int sizes = 0;
  double min_weight = 0, max_weight = 0, mean_weight = 0;
  std::int32_t max_density = 0;
  double seconds = 0;
};
// Reads the pairs and the source crop store, computes the weights and replaces the match store
// with a copy that has them (written under a temporary name, then renamed: an interruption
// leaves the old store intact).
WeightsResult compute_weights(const WeightsOptions& options);

// Binds every option of `epe weights` to `o`; the lines it prints when done.
void add_options(OptionSet& s, WeightsOptions& o);
std::string format_summary(const WeightsOptions& o, const WeightsResult& r);

}  // namespace epe
