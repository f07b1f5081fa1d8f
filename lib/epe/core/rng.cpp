#include "epe/core/rng.h"

#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "epe/core/error.h"

namespace epe {

std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream) {
  std::uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (stream + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::uint64_t Rng::uniform_int(std::uint64_t n) {
  EPE_ASSERT(n > 0, "uniform_int(0)");
  std::uint64_t limit = ~std::uint64_t(0) - (~std::uint64_t(0) % n);  // multiple of n
  for (;;) {
    std::uint64_t x = engine_();
    if (x < limit) return x % n;
  }
}

std::int64_t Rng::uniform_int(std::int64_t lo, std::int64_t hi) {
  EPE_ASSERT(lo <= hi, "empty range");
  return lo + static_cast<std::int64_t>(uniform_int(static_cast<std::uint64_t>(hi - lo) + 1));
}

double Rng::uniform() {
  return (engine_() >> 11) * (1.0 / 9007199254740992.0);
}

double Rng::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  double u1;
  do u1 = uniform();
  while (u1 <= 0.0);
  double u2 = uniform();
  double r = std::sqrt(-2.0 * std::log(u1));
  double t = 2.0 * M_PI * u2;
  spare_ = r * std::sin(t);
  has_spare_ = true;
  return r * std::cos(t);
}

std::vector<std::int64_t> Rng::sample_without_replacement(std::int64_t n, std::int64_t k) {
  EPE_ASSERT(k >= 0 && k <= n, "cannot draw ", k, " of ", n);
  std::vector<std::int64_t> out;
  out.reserve(k);
  if (k * 4 >= n) {  // dense: partial Fisher–Yates over all indices
    std::vector<std::int64_t> all(n);
    for (std::int64_t i = 0; i < n; ++i) all[i] = i;
    for (std::int64_t i = 0; i < k; ++i) {
      std::int64_t j = i + static_cast<std::int64_t>(uniform_int(static_cast<std::uint64_t>(n - i)));
      std::swap(all[i], all[j]);
      out.push_back(all[i]);
    }
  } else {  // sparse: Floyd's algorithm
    std::unordered_set<std::int64_t> chosen;
    for (std::int64_t j = n - k; j < n; ++j) {
      std::int64_t t = static_cast<std::int64_t>(uniform_int(static_cast<std::uint64_t>(j + 1)));
      if (!chosen.insert(t).second) {
        chosen.insert(j);
        out.push_back(j);
      } else {
        out.push_back(t);
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace epe
