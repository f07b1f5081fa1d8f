#pragma once
// Seeded random numbers that give the same sequence on every platform and compiler:
// the engine is std::mt19937_64 (fully specified by the standard) and the distributions
// are written here (the standard library's distributions are implementation-defined).
// Every random choice in the toolkit comes from an Rng built from the user's `--seed`.

#include <cstdint>
#include <random>
#include <vector>

namespace epe {

// Mixes a seed with a stream id (e.g. an image index) into an independent seed
// (splitmix64 finaliser), so per-item streams do not depend on processing order.
std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream);

class Rng {
 public:
  explicit Rng(std::uint64_t seed = 0) : engine_(seed) {}
  Rng(std::uint64_t seed, std::uint64_t stream) : engine_(derive_seed(seed, stream)) {}

  std::uint64_t next_u64() { return engine_(); }
  // Uniform integer in [0, n), unbiased (rejection sampling). n must be > 0.
  std::uint64_t uniform_int(std::uint64_t n);
  // Uniform integer in [lo, hi] inclusive.
  std::int64_t uniform_int(std::int64_t lo, std::int64_t hi);
  // Uniform double in [0, 1) with 53 random bits.
  double uniform();
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Standard normal (Box–Muller; caches the second value).
  double normal();
  double normal(double mean, double stddev) { return mean + stddev * normal(); }
  bool bernoulli(double p) { return uniform() < p; }

  // k distinct indices from [0, n), in increasing order (k ≤ n).
  std::vector<std::int64_t> sample_without_replacement(std::int64_t n, std::int64_t k);
  template <class T>
  void shuffle(std::vector<T>& v) {
    for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[uniform_int(i)]);
  }

 private:
  std::mt19937_64 engine_;
  bool has_spare_ = false;
  double spare_ = 0;
};

}  // namespace epe
