// Google Benchmark micro-benchmarks of the kernels the stages spend their time in: the exact
// k-NN scan (`epe match`), the polynomial-kernel MMD of KID/KVD (`epe metrics`), float16
// conversion (every crop store) and SHA-256 (every store's checksums). Built with
// EPE_BUILD_BENCHMARKS (on by default); CTest runs each once briefly (bench.micro) so that
// they keep building and running. For figures, run build/tests/bench_micro directly.
// The stage-level ratios against the reference are `epe bench` (lib/epe/bench/).

#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "epe/core/half.h"
#include "epe/core/rng.h"
#include "epe/core/sha256.h"
#include "epe/match/knn.h"
#include "epe/metrics/kernel.h"

namespace {

std::vector<float> unit_rows(std::int64_t n, int d, std::uint64_t seed) {
  epe::Rng rng(seed);
  std::vector<float> v(static_cast<size_t>(n) * d);
  for (float& x : v) x = static_cast<float>(rng.normal());
  epe::l2_normalize_rows(v.data(), n, d);
  return v;
}

// Queries x targets x 512 (relu5_3's width), k = 10: items = query-target scores.
void BM_ExactKnn(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  const int d = 512;
  const std::vector<float> targets = unit_rows(n, d, 1), queries = unit_rows(n, d, 2);
  auto index = epe::make_exact_knn(targets, n, d, "cpu");
  for (auto _ : state) benchmark::DoNotOptimize(index->search(queries.data(), n, 10));
  state.SetItemsProcessed(state.iterations() * n * n);
}
BENCHMARK(BM_ExactKnn)->Arg(2000)->Arg(8000)->Unit(benchmark::kMillisecond);

// One KID subset: MMD^2 with the cubic polynomial kernel over m x m rows of width 2048.
void BM_Mmd2Polynomial(benchmark::State& state) {
  const std::int64_t m = state.range(0);
  const int d = 2048;
  const std::vector<float> x = unit_rows(m, d, 3), y = unit_rows(m, d, 4);
  for (auto _ : state) benchmark::DoNotOptimize(epe::mmd2_polynomial(x.data(), y.data(), m, d));
  state.SetItemsProcessed(state.iterations() * m * m);
}
BENCHMARK(BM_Mmd2Polynomial)->Arg(1000)->Unit(benchmark::kMillisecond);

void BM_FloatToHalf(benchmark::State& state) {
  const std::vector<float> in = unit_rows(1 << 14, 64, 5);
  std::vector<std::uint16_t> out(in.size());
  for (auto _ : state) epe::float_to_half(in.data(), out.data(), in.size());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(in.size() * sizeof(float)));
}
BENCHMARK(BM_FloatToHalf);

void BM_Sha256(benchmark::State& state) {
  const std::vector<std::uint8_t> data(16 << 20, 0x5a);
  for (auto _ : state) benchmark::DoNotOptimize(epe::sha256_hex(data.data(), data.size()));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(data.size()));
}
BENCHMARK(BM_Sha256)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
