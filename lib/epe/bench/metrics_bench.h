#pragma once
// `epe bench metrics`: the heavy parts of `epe metrics` on synthetic data, timed in one run:
//   KID   n x n features of dimension d (100 subsets of 1000, double precision)
//   FID   the same features (covariances + trace square root)
//   pairing  sKVD's label-agreement nearest neighbours, m x m random 16x16 label grids

#include <cstdint>
#include <string>
#include <vector>

namespace epe {

struct MetricsBenchOptions {
  std::int64_t n = 50000;
  int dim = 2048;
  int subsets = 100;
  std::int64_t subset_size = 1000;
  std::int64_t pairing = 100000;  // 0 = skip
  bool skip_fid = false;
  std::uint64_t seed = 0;
};

struct MetricsBenchRow {
  std::string name;
  double seconds = 0;
  std::string result;
};

std::vector<MetricsBenchRow> bench_metrics(const MetricsBenchOptions& o);

}  // namespace epe
