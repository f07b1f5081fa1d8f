#pragma once
// `epe bench layout`: label maps per second of the layout scan (decode + check + accumulate),
// on rendered demo label maps, at two list lengths in one run; the process's peak resident
// memory after each shows whether memory grows with the number of frames.

#include <cstdint>
#include <string>
#include <vector>

namespace epe {

struct LayoutBenchOptions {
  int frames = 800;  // rows of the long list (the short one has a quarter)
  int distinct = 8;  // distinct rendered frames the rows cycle through
  int height = 526;
  int width = 957;
  std::string grid = "64x128";
  int threads = 0;  // 0 = the process's (runtime.h threads(), i.e. --threads)
  std::uint64_t seed = 0;
  std::string work;  // folder for the frames; empty = a temporary folder, removed after
  void check() const;
};

struct LayoutBenchRow {
  std::int64_t frames = 0;
  double seconds = 0, maps_per_s = 0;
  std::int64_t peak_rss_bytes = 0;  // after this row (monotone)
};

std::vector<LayoutBenchRow> bench_layout(const LayoutBenchOptions& options);

}  // namespace epe
