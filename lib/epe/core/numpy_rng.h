#pragma once
// NumPy's default generator, bit for bit: `numpy.random.default_rng(seed)` (a SeedSequence
// seeding PCG64 XSL-RR 128/64) and `Generator.integers(low, high)` for int64 (Lemire's bounded
// method on the 32-bit output stream when the range fits in 32 bits). Written from NumPy's
// documented algorithms (SeedSequence's hash mixing, PCG64's step and output functions) so that
// protocols defined by Python code that draws from default_rng — FeaMGAN's sKVD/cKVD crops —
// can be reproduced exactly. tests/core/numpy_rng_test.cpp holds NumPy's own outputs.
//
// Not a general-purpose RNG for the toolkit (use epe::Rng); only for matching NumPy.

#include <cstdint>
#include <vector>

namespace epe {

class NumpyGenerator {
 public:
  // default_rng(seed) for a non-negative integer seed.
  explicit NumpyGenerator(std::uint64_t seed);

  std::uint64_t next_uint64();  // PCG64's raw 64-bit output (bit_generator.random_raw())
  std::uint32_t next_uint32();  // low half of a 64-bit output, then its high half (NumPy's buffering)
  // Generator.integers(low, high): uniform in [low, high), high > low, range below 2^32.
  std::int64_t integers(std::int64_t low, std::int64_t high);

  // SeedSequence(entropy).generate_state(n, uint32), exposed for tests.
  static std::vector<std::uint32_t> seed_sequence_state(const std::vector<std::uint32_t>& entropy, int n_words);

 private:
  unsigned __int128 state_ = 0, inc_ = 0;
  bool has_uint32_ = false;
  std::uint32_t uinteger_ = 0;
};

}  // namespace epe
