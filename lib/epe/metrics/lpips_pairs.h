#pragma once
// `epe lpips A B`: LPIPS (VGG, v0.1) between two images, or between the frames of two lists
// row by row (same number of rows; each pair the same size).

#include <cstdint>
#include <string>
#include <vector>

#include "epe/core/options.h"

namespace epe {

class Progress;

struct LpipsPairsOptions {
  std::string a, b;  // two images (PNG/JPEG) or two lists / folders
  std::string vgg;   // ImageNet VGG-16 weights (random init without, warned)
  std::string lin;   // LPIPS linear weights (default: shipped v0.1)
  std::string out;   // optional CSV: a,b,lpips per pair
  std::string device = "cpu";
  std::uint64_t seed = 0;
  bool force = false;
};

struct LpipsPairsResult {
  std::vector<std::string> a, b;
  std::vector<double> distance;
  double mean = 0, std = 0;
  std::string provenance;
  bool random_vgg = false;
};

LpipsPairsResult lpips_pairs(const LpipsPairsOptions& o, Progress* progress = nullptr);
// Binds every option of `epe lpips` to `o`; the lines it prints when done.
void add_options(OptionSet& s, LpipsPairsOptions& o);
std::string format_summary(const LpipsPairsOptions& o, const LpipsPairsResult& r);

}  // namespace epe
