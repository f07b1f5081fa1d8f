#include "epe/bench/metrics_bench.h"

#include <torch/torch.h>

#include "epe/core/error.h"
#include "epe/core/rng.h"
#include "epe/core/timer.h"
#include "epe/metrics/kernel.h"

namespace epe {

namespace {
FeatureMatrix random_features(std::int64_t n, int d, double shift, std::uint64_t seed) {
  torch::NoGradGuard no_grad;
  auto gen = at::detail::createCPUGenerator(seed);
  torch::Tensor t = torch::randn({n, d}, gen, torch::kFloat32) + shift;
  FeatureMatrix f;
  f.n = n;
  f.d = d;
  f.data.assign(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
  return f;
}
}  // namespace

std::vector<MetricsBenchRow> bench_metrics(const MetricsBenchOptions& o) {
  EPE_CHECK(o.n >= 2 && o.dim >= 1 && o.subsets >= 1 && o.subset_size >= 2, "bench metrics: bad sizes");
  std::vector<MetricsBenchRow> rows;
  Timer t;
  const FeatureMatrix a = random_features(o.n, o.dim, 0.0, o.seed), b = random_features(o.n, o.dim, 0.05, o.seed + 1);
  rows.push_back({cat("generate 2 x ", o.n, " x ", o.dim, " features"), t.seconds(), ""});
  t.restart();
  const KidResult k = kid(a, b, o.subsets, o.subset_size, o.seed);
  rows.push_back({cat("KID ", o.n, " x ", o.n, ", d = ", o.dim, ", ", o.subsets, " subsets of ", k.subset_size),
                  t.seconds(), cat(k.mean, " +- ", k.std)});
  if (!o.skip_fid) {
    t.restart();
    const double f = fid(a, b);
    rows.push_back({cat("FID ", o.n, " x ", o.n, ", d = ", o.dim), t.seconds(), cat(f)});
  }
  if (o.pairing > 0) {
    Rng rng(o.seed);
    const int cells = 256;
    std::vector<std::uint8_t> fake(o.pairing * cells), real(o.pairing * cells);
    // Street-scene-like grids: a few classes in horizontal bands with noise.
    auto fill = [&](std::vector<std::uint8_t>& g) {
      for (std::int64_t i = 0; i < o.pairing; ++i) {
        const int horizon = 4 + static_cast<int>(rng.uniform_int(std::uint64_t(8)));
        for (int y = 0; y < 16; ++y)
          for (int x = 0; x < 16; ++x)
            g[i * cells + y * 16 + x] = rng.bernoulli(0.2)
                                            ? static_cast<std::uint8_t>(rng.uniform_int(std::uint64_t(20)))
                                            : static_cast<std::uint8_t>(y < horizon ? 142 : 98);
      }
    };
    fill(fake);
    fill(real);
    t.restart();
    const auto m = nearest_by_labels(fake.data(), o.pairing, real.data(), o.pairing, cells);
    std::int64_t kept = 0;
    for (const auto& x : m) kept += x.equal * 2 > cells;
    rows.push_back({cat("sKVD label pairing ", o.pairing, " x ", o.pairing, ", 16 x 16 grids"), t.seconds(),
                    cat(kept, " pairs agree on > half")});
  }
  return rows;
}

}  // namespace epe
