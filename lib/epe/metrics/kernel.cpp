#include "epe/metrics/kernel.h"

#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <thread>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define EPE_X86 1
#endif

#include "epe/core/error.h"
#include "epe/core/rng.h"
#include "epe/runtime/runtime.h"

namespace epe {

namespace {

torch::Tensor as_double(const float* p, std::int64_t n, int d) {
  return torch::from_blob(const_cast<float*>(p), {n, d}, torch::kFloat32).to(torch::kFloat64);
}

// Columns [c0, c1) of the given rows, in double.
torch::Tensor gather_double(const FeatureMatrix& f, const std::vector<std::int64_t>& rows, int c0, int c1) {
  const int w = c1 - c0;
  torch::Tensor out = torch::empty({static_cast<std::int64_t>(rows.size()), w}, torch::kFloat64);
  double* o = out.data_ptr<double>();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EPE_ASSERT(rows[i] >= 0 && rows[i] < f.n, "kernel distance: row index out of range");
    const float* r = f.row(rows[i]) + c0;
    for (int j = 0; j < w; ++j) o[i * w + j] = r[j];
  }
  return out;
}

// Unbiased MMD^2 from the three Gram matrices (inner products, not yet divided by d).
double mmd2_from_gram(const torch::Tensor& gxx, const torch::Tensor& gyy, const torch::Tensor& gxy, double d) {
  const std::int64_t m = gxx.size(0);
  auto k = [d](const torch::Tensor& g) { return (g / d + 1.0).pow(3); };
  const torch::Tensor kxx = k(gxx), kyy = k(gyy), kxy = k(gxy);
  const double sxx = kxx.sum().item<double>() - kxx.diagonal().sum().item<double>();
  const double syy = kyy.sum().item<double>() - kyy.diagonal().sum().item<double>();
  const double sxy = kxy.sum().item<double>();
  return (sxx + syy) / (double(m) * double(m - 1)) - 2.0 * sxy / (double(m) * double(m));
}

// Unbiased MMD^2 of double tensors x, y [m, d].
double mmd2(const torch::Tensor& x, const torch::Tensor& y) {
  return mmd2_from_gram(torch::mm(x, x.t()), torch::mm(y, y.t()), torch::mm(x, y.t()), double(x.size(1)));
}

}  // namespace

MeanStd mean_std(const std::vector<double>& values) {
  MeanStd m;
  if (values.empty()) return m;
  for (double v : values) m.mean += v;
  m.mean /= double(values.size());
  double ss = 0;
  for (double v : values) ss += (v - m.mean) * (v - m.mean);
  m.std = std::sqrt(ss / double(values.size()));
  return m;
}

double mmd2_rows(const FeatureMatrix& x, const std::vector<std::int64_t>& rx, const FeatureMatrix& y,
                 const std::vector<std::int64_t>& ry) {
  EPE_CHECK(x.d == y.d, "feature dimensions differ (", x.d, " and ", y.d, ")");
  EPE_CHECK(rx.size() == ry.size() && rx.size() >= 2, "the kernel distance needs at least 2 samples per set, got ",
            rx.size());
  torch::NoGradGuard no_grad;
  const std::int64_t m = static_cast<std::int64_t>(rx.size());
  torch::Tensor gxx = torch::zeros({m, m}, torch::kFloat64), gyy = torch::zeros({m, m}, torch::kFloat64),
                gxy = torch::zeros({m, m}, torch::kFloat64);
  // Column chunks bound the double copies (sKVD features are ~10^5 wide).
  const int chunk = 8192;
  for (int c0 = 0; c0 < x.d; c0 += chunk) {
    const int c1 = std::min(x.d, c0 + chunk);
    const torch::Tensor a = gather_double(x, rx, c0, c1), b = gather_double(y, ry, c0, c1);
    gxx += torch::mm(a, a.t());
    gyy += torch::mm(b, b.t());
    gxy += torch::mm(a, b.t());
  }
  return mmd2_from_gram(gxx, gyy, gxy, double(x.d));
}

double mmd2_polynomial(const float* x, const float* y, std::int64_t m, int d) {
  EPE_CHECK(m >= 2, "the kernel distance needs at least 2 samples per set, got ", m);
  return mmd2(as_double(x, m, d), as_double(y, m, d));
}

std::vector<std::vector<std::int64_t>> kid_subsets(std::int64_t n, std::int64_t size, int subsets, std::uint64_t seed,
                                                   int which) {
  std::vector<std::vector<std::int64_t>> out;
  for (int s = 0; s < subsets; ++s) {
    Rng rng(seed, 2 * static_cast<std::uint64_t>(s) + static_cast<std::uint64_t>(which));
    out.push_back(rng.sample_without_replacement(n, size));
  }
  return out;
}

KidResult kid(const FeatureMatrix& real, const FeatureMatrix& fake,
              const std::vector<std::vector<std::int64_t>>& real_subsets,
              const std::vector<std::vector<std::int64_t>>& fake_subsets) {
  EPE_CHECK(real.d == fake.d, "feature dimensions differ (", real.d, " and ", fake.d, ")");
  EPE_ASSERT(real_subsets.size() == fake_subsets.size() && !real_subsets.empty(), "KID subsets");
  KidResult r;
  r.subsets = static_cast<int>(real_subsets.size());
  r.subset_size = static_cast<std::int64_t>(real_subsets[0].size());
  EPE_CHECK(r.subset_size >= 2, "KID needs at least 2 samples per set (subset size ", r.subset_size, ")");
  torch::NoGradGuard no_grad;
  for (std::size_t s = 0; s < real_subsets.size(); ++s) {
    EPE_ASSERT(real_subsets[s].size() == fake_subsets[s].size(), "KID subsets of different sizes");
    r.values.push_back(mmd2_rows(fake, fake_subsets[s], real, real_subsets[s]));
  }
  const MeanStd m = mean_std(r.values);
  r.mean = m.mean;
  r.std = m.std;
  return r;
}

KidResult kid(const FeatureMatrix& real, const FeatureMatrix& fake, int subsets, std::int64_t max_subset_size,
              std::uint64_t seed) {
  EPE_CHECK(subsets >= 1, "KID: the number of subsets must be >= 1");
  const std::int64_t m = std::min({max_subset_size, real.n, fake.n});
  EPE_CHECK(m >= 2, "KID needs at least 2 images per set (real ", real.n, ", fake ", fake.n, ")");
  return kid(real, fake, kid_subsets(real.n, m, subsets, seed, 0), kid_subsets(fake.n, m, subsets, seed, 1));
}

GaussianStats gaussian_stats(const FeatureMatrix& f) {
  EPE_CHECK(f.n >= 2, "FID needs at least 2 images per set, got ", f.n);
  torch::NoGradGuard no_grad;
  GaussianStats s;
  s.d = f.d;
  s.n = f.n;
  torch::Tensor sum = torch::zeros({f.d}, torch::kFloat64);
  torch::Tensor xtx = torch::zeros({f.d, f.d}, torch::kFloat64);
  const std::int64_t block = 4096;
  for (std::int64_t b = 0; b < f.n; b += block) {  // bounded memory: one block in double at a time
    const std::int64_t m = std::min(block, f.n - b);
    torch::Tensor x = as_double(f.row(b), m, f.d);
    sum += x.sum(0);
    xtx += torch::mm(x.t(), x);
  }
  const torch::Tensor mean = sum / double(f.n);
  const torch::Tensor cov = (xtx - double(f.n) * torch::outer(mean, mean)) / double(f.n - 1);
  s.mean.assign(mean.data_ptr<double>(), mean.data_ptr<double>() + f.d);
  const torch::Tensor c = cov.contiguous();
  s.cov.assign(c.data_ptr<double>(), c.data_ptr<double>() + std::size_t(f.d) * f.d);
  return s;
}

double fid(const GaussianStats& a, const GaussianStats& b) {
  EPE_CHECK(a.d == b.d, "feature dimensions differ (", a.d, " and ", b.d, ")");
  torch::NoGradGuard no_grad;
  const int d = a.d;
  auto t = [d](const std::vector<double>& v, bool matrix) {
    return torch::from_blob(const_cast<double*>(v.data()),
                            matrix ? std::vector<std::int64_t>{d, d} : std::vector<std::int64_t>{d}, torch::kFloat64)
        .clone();
  };
  const torch::Tensor mu1 = t(a.mean, false), mu2 = t(b.mean, false);
  torch::Tensor s1 = t(a.cov, true), s2 = t(b.cov, true);
  s1 = 0.5 * (s1 + s1.t());
  s2 = 0.5 * (s2 + s2.t());
  // Tr((S1 S2)^(1/2)) = sum of sqrt(eigenvalues of S1^(1/2) S2 S1^(1/2)), a symmetric PSD matrix:
  // two symmetric eigendecompositions instead of a general matrix square root.
  auto [l1, v1] = torch::linalg::eigh(s1, "L");
  const torch::Tensor r1 = torch::mm(v1 * l1.clamp_min(0).sqrt().unsqueeze(0), v1.t());
  torch::Tensor m = torch::mm(torch::mm(r1, s2), r1);
  m = 0.5 * (m + m.t());
  const torch::Tensor lm = torch::linalg::eigvalsh(m, "L");
  const double tr_sqrt = lm.clamp_min(0).sqrt().sum().item<double>();
  const double diff = (mu1 - mu2).pow(2).sum().item<double>();
  return diff + s1.trace().item<double>() + s2.trace().item<double>() - 2.0 * tr_sqrt;
}

double fid(const FeatureMatrix& a, const FeatureMatrix& b) {
  return fid(gaussian_stats(a), gaussian_stats(b));
}

// ---- label pairing ------------------------------------------------------------------------

namespace {

int equal_scalar(const std::uint8_t* a, const std::uint8_t* b, int cells) {
  int n = 0;
  for (int i = 0; i < cells; ++i) n += a[i] == b[i];
  return n;
}

#ifdef EPE_X86
int equal_sse2(const std::uint8_t* a, const std::uint8_t* b, int cells) {
  int n = 0, i = 0;
  for (; i + 16 <= cells; i += 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i));
    const __m128i y = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i));
    n += __builtin_popcount(static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, y))));
  }
  return n + equal_scalar(a + i, b + i, cells - i);
}

__attribute__((target("avx2,popcnt"))) void best_avx2(const std::uint8_t* f, const std::uint8_t* real, std::int64_t r0,
                                                      std::int64_t r1, int cells, LabelMatch* best) {
  for (std::int64_t j = r0; j < r1; ++j) {
    const std::uint8_t* b = real + j * cells;
    int n = 0, i = 0;
    for (; i + 32 <= cells; i += 32) {
      const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(f + i));
      const __m256i y = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + i));
      n += _mm_popcnt_u32(static_cast<unsigned>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(x, y))));
    }
    n += equal_scalar(f + i, b + i, cells - i);
    if (n > best->equal) *best = {static_cast<std::int32_t>(j), n};
  }
}
#endif

void best_generic(const std::uint8_t* f, const std::uint8_t* real, std::int64_t r0, std::int64_t r1, int cells,
                  LabelMatch* best) {
  for (std::int64_t j = r0; j < r1; ++j) {
#ifdef EPE_X86
    const int n = equal_sse2(f, real + j * cells, cells);
#else
    const int n = equal_scalar(f, real + j * cells, cells);
#endif
    if (n > best->equal) *best = {static_cast<std::int32_t>(j), n};
  }
}

}  // namespace

std::vector<LabelMatch> nearest_by_labels(const std::uint8_t* fake, std::int64_t n_fake, const std::uint8_t* real,
                                          std::int64_t n_real, int cells, int n_threads) {
  EPE_ASSERT(cells > 0, "nearest_by_labels: cells");
  std::vector<LabelMatch> out(static_cast<std::size_t>(n_fake));
  if (n_real == 0) return out;
#ifdef EPE_X86
  static const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt");
#else
  static const bool avx2 = false;
#endif
  // Blocks of fake grids against tiles of real grids that stay in cache; each fake grid scans
  // the tiles in increasing order, so "first best" is the smallest index.
  const std::int64_t fake_block = 64, real_tile = std::max<std::int64_t>(1, (1 << 20) / cells);
  const std::int64_t blocks = (n_fake + fake_block - 1) / fake_block;
  std::atomic<std::int64_t> next{0};
  auto work = [&] {
    for (;;) {
      const std::int64_t blk = next.fetch_add(1);
      if (blk >= blocks) return;
      const std::int64_t f0 = blk * fake_block, f1 = std::min(n_fake, f0 + fake_block);
      for (std::int64_t i = f0; i < f1; ++i) out[i] = {-1, -1};
      for (std::int64_t r0 = 0; r0 < n_real; r0 += real_tile) {
        const std::int64_t r1 = std::min(n_real, r0 + real_tile);
        for (std::int64_t i = f0; i < f1; ++i) {
#ifdef EPE_X86
          if (avx2) {
            best_avx2(fake + i * cells, real, r0, r1, cells, &out[i]);
            continue;
          }
#endif
          best_generic(fake + i * cells, real, r0, r1, cells, &out[i]);
        }
      }
    }
  };
  const int nt = std::max(1, std::min<int>(n_threads > 0 ? n_threads : threads(), static_cast<int>(blocks)));
  std::vector<std::thread> pool;
  for (int t = 1; t < nt; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  (void)avx2;
  return out;
}

namespace {

// [n, d] float32 rows as a double tensor (a copy).
torch::Tensor as_double(const FeatureMatrix& f) {
  return torch::from_blob(const_cast<float*>(f.data.data()), {f.n, f.d}, torch::kFloat32).to(torch::kFloat64);
}

// Rows per block so that a block of distances to `n` samples stays near 16M doubles.
std::int64_t block_rows(std::int64_t n) {
  return std::max<std::int64_t>(1, (std::int64_t(1) << 24) / std::max<std::int64_t>(1, n));
}

// Distance of every row of x to its k-th nearest other row ((k+1)-th smallest, the row itself at 0).
torch::Tensor kth_radii(const torch::Tensor& x, int k) {
  const std::int64_t n = x.size(0), b = block_rows(n);
  std::vector<torch::Tensor> parts;
  for (std::int64_t i = 0; i < n; i += b)
    parts.push_back(std::get<0>(torch::cdist(x.narrow(0, i, std::min(b, n - i)), x).kthvalue(k + 1, 1)));
  return torch::cat(parts);
}

}  // namespace

PrdcResult prdc(const FeatureMatrix& real, const FeatureMatrix& fake, int k) {
  EPE_CHECK(k >= 1, "prdc: k must be >= 1");
  EPE_CHECK(real.d == fake.d && real.d > 0, "prdc: real and fake features differ in width (", real.d, " vs ", fake.d,
            ")");
  EPE_CHECK(real.n > k && fake.n > k, "prdc with k = ", k, " needs more than ", k, " samples in each set (real ",
            real.n, ", fake ", fake.n, ")");
  torch::NoGradGuard no_grad;
  const torch::Tensor r = as_double(real), f = as_double(fake);
  const torch::Tensor rr = kth_radii(r, k), rf = kth_radii(f, k);
  std::int64_t in_real = 0, density_count = 0;
  torch::Tensor recalled = torch::zeros({real.n}, torch::kBool);
  torch::Tensor nearest = torch::full({real.n}, std::numeric_limits<double>::infinity(), torch::kFloat64);
  const std::int64_t b = block_rows(real.n);
  for (std::int64_t j = 0; j < fake.n; j += b) {
    const std::int64_t m = std::min(b, fake.n - j);
    const torch::Tensor d = torch::cdist(f.narrow(0, j, m), r);  // [m, n_real]
    in_real += (d <= rr.unsqueeze(0)).any(1).sum().item<std::int64_t>();
    density_count += (d < rr.unsqueeze(0)).sum().item<std::int64_t>();
    recalled |= (d <= rf.narrow(0, j, m).unsqueeze(1)).any(0);
    nearest = torch::minimum(nearest, std::get<0>(d.min(0)));
  }
  PrdcResult out;
  out.k = k;
  out.precision = double(in_real) / double(fake.n);
  out.recall = recalled.to(torch::kFloat64).mean().item<double>();
  out.density = double(density_count) / (double(k) * double(fake.n));
  out.coverage = (nearest < rr).to(torch::kFloat64).mean().item<double>();
  return out;
}

}  // namespace epe
