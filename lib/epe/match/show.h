#pragma once
// `epe show-matches`: a picture of matched pairs, source | target side by side, one row per
// similarity band, so a user can see what a cosine of 0.6 or 0.9 means on their data.

#include <cstdint>
#include <string>
#include <vector>

#include "epe/core/options.h"

namespace epe {

struct ShowMatchesOptions {
  std::string store;                                        // match store
  std::string out;                                          // PNG
  std::vector<double> bands{0.5, 0.6, 0.7, 0.8, 0.9, 1.0};  // band edges, increasing
  int per_band = 8;                                         // pairs per band (seeded choice)
  int thumb = 96;                                           // crop side in the picture
  std::uint64_t seed = 0;
  bool force = false;
  void check() const;
};
struct ShowMatchesResult {
  std::vector<std::int64_t> pairs_in_band;  // pairs available per band
  int shown = 0;
};
ShowMatchesResult show_matches(const ShowMatchesOptions& options);

// Binds every option of `epe show-matches` to `o`; the lines it prints when done.
void add_options(OptionSet& s, ShowMatchesOptions& o);
std::string format_summary(const ShowMatchesOptions& o, const ShowMatchesResult& r);

}  // namespace epe
