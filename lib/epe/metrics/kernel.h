#pragma once
// Distances between two feature sets (docs/DESIGN.md §5.7), in double precision:
//   KID  unbiased MMD^2 with the polynomial kernel k(x, y) = (x.y / d + 1)^3, averaged over
//        random subsets (torch-fidelity's estimator; clean-fid's mean is the same number)
//   FID  |mu_r - mu_f|^2 + Tr(S_r + S_f - 2 (S_r S_f)^(1/2)), covariances with n - 1
// Feature matrices are row-major float32 [n, d].

#include <cstdint>
#include <string>
#include <vector>

namespace epe {

struct FeatureMatrix {
  std::vector<float> data;  // [n, d] row-major
  std::int64_t n = 0;
  int d = 0;
  const float* row(std::int64_t i) const { return data.data() + i * d; }
};

// Mean and standard deviation (ddof 0, as numpy's and torch-fidelity's np.std) of values.
struct MeanStd {
  double mean = 0, std = 0;
};
MeanStd mean_std(const std::vector<double>& values);

struct KidResult {
  double mean = 0, std = 0;  // over subsets; std with ddof 0 (torch-fidelity)
  std::int64_t subset_size = 0;
  int subsets = 0;
  std::vector<double> values;  // MMD^2 of each subset
};

// Unbiased MMD^2 of x [m, d] and y [m, d] (same m >= 2) with the polynomial kernel.
double mmd2_polynomial(const float* x, const float* y, std::int64_t m, int d);

// Unbiased MMD^2 of rows rx of x against rows ry of y (equal counts >= 2), any width.
double mmd2_rows(const FeatureMatrix& x, const std::vector<std::int64_t>& rx, const FeatureMatrix& y,
                 const std::vector<std::int64_t>& ry);

// Subset indices: for each subset, `size` distinct rows of a set of n (seeded; stream 2s for
// the real set, 2s + 1 for the fake set of subset s).
std::vector<std::vector<std::int64_t>> kid_subsets(std::int64_t n, std::int64_t size, int subsets, std::uint64_t seed,
                                                   int which /* 0 real, 1 fake */);

// KID with explicit subsets (real_subsets[s] and fake_subsets[s] of equal length).
KidResult kid(const FeatureMatrix& real, const FeatureMatrix& fake,
              const std::vector<std::vector<std::int64_t>>& real_subsets,
              const std::vector<std::vector<std::int64_t>>& fake_subsets);

// KID with `subsets` random subsets of min(max_subset_size, n_real, n_fake) rows.
KidResult kid(const FeatureMatrix& real, const FeatureMatrix& fake, int subsets = 100,
              std::int64_t max_subset_size = 1000, std::uint64_t seed = 0);

struct GaussianStats {
  std::vector<double> mean;  // [d]
  std::vector<double> cov;   // [d, d], unbiased (n - 1)
  int d = 0;
  std::int64_t n = 0;
};
GaussianStats gaussian_stats(const FeatureMatrix& f);
double fid(const GaussianStats& a, const GaussianStats& b);
double fid(const FeatureMatrix& a, const FeatureMatrix& b);

// Precision, recall, density and coverage of a generated set against a real one, on Euclidean
// distances (double) between feature rows; a sample's radius is the distance to its k-th nearest
// neighbour in its own set (the sample itself excluded).
//   precision  share of fake samples within the radius (<=) of some real sample
//   recall     share of real samples within the radius (<=) of some fake sample
//              (Kynkäänniemi et al. 2019, as torch-fidelity computes them with features_1 =
//              real; older torch-fidelity releases had the two names swapped, its issue #58)
//   density    (1/k) × mean over fake samples of the number of real radii (<) containing it
//   coverage   share of real samples whose nearest fake sample lies within their radius (<)
//              (Naeem et al. 2020, the prdc package's definitions)
// Memory: one block of distances at a time (about 128 MiB), never n_real × n_fake.
struct PrdcResult {
  double precision = 0, recall = 0, density = 0, coverage = 0;
  int k = 0;
};
// UserError unless both sets have more than k rows of the same width.
// Runs on LibTorch's threads (--threads).
PrdcResult prdc(const FeatureMatrix& real, const FeatureMatrix& fake, int k = 5);

// Nearest real crop of every fake crop by label agreement (sKVD pairing): for fake grid i,
// the real grid j with the most equal cells (ties: smallest j). Grids are `cells` uint8 labels
// each, row-major [n, cells]. Exact; vectorised (AVX2 when the CPU has it) and multi-threaded.
struct LabelMatch {
  std::int32_t real = -1;  // -1 when there are no real grids
  std::int32_t equal = 0;  // number of equal cells
};
std::vector<LabelMatch> nearest_by_labels(const std::uint8_t* fake, std::int64_t n_fake, const std::uint8_t* real,
                                          std::int64_t n_real, int cells, int threads = 0);

}  // namespace epe
