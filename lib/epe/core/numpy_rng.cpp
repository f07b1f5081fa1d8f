#include "epe/core/numpy_rng.h"

#include "epe/core/error.h"

namespace epe {

namespace {

// SeedSequence constants (NumPy's bit_generator.pyx, after Melissa O'Neill's seed_seq design).
constexpr std::uint32_t kInitA = 0x43b0d7e5u, kMultA = 0x931e8875u;
constexpr std::uint32_t kInitB = 0x8b51f9ddu, kMultB = 0x58f38dedu;
constexpr std::uint32_t kMixMultL = 0xca01f9ddu, kMixMultR = 0x4973f715u;
constexpr int kXShift = 16;  // 4 bytes * 8 / 2
constexpr int kPoolSize = 4;

std::uint32_t hashmix(std::uint32_t value, std::uint32_t& hash_const) {
  value ^= hash_const;
  hash_const *= kMultA;
  value *= hash_const;
  value ^= value >> kXShift;
  return value;
}

std::uint32_t mix(std::uint32_t x, std::uint32_t y) {
  std::uint32_t r = kMixMultL * x - kMixMultR * y;
  r ^= r >> kXShift;
  return r;
}

constexpr unsigned __int128 kPcgMultiplier =
    (static_cast<unsigned __int128>(2549297995355413924ULL) << 64) | 4865540595714422341ULL;

}  // namespace

std::vector<std::uint32_t> NumpyGenerator::seed_sequence_state(const std::vector<std::uint32_t>& entropy, int n_words) {
  // mix_entropy: the pool absorbs the entropy words, then every word is mixed into every other.
  std::uint32_t pool[kPoolSize];
  std::uint32_t hash_const = kInitA;
  for (int i = 0; i < kPoolSize; ++i)
    pool[i] = hashmix(i < static_cast<int>(entropy.size()) ? entropy[static_cast<std::size_t>(i)] : 0u, hash_const);
  for (int s = 0; s < kPoolSize; ++s)
    for (int d = 0; d < kPoolSize; ++d)
      if (s != d) pool[d] = mix(pool[d], hashmix(pool[s], hash_const));
  for (std::size_t s = kPoolSize; s < entropy.size(); ++s)
    for (int d = 0; d < kPoolSize; ++d) pool[d] = mix(pool[d], hashmix(entropy[s], hash_const));
  // generate_state.
  std::vector<std::uint32_t> out(static_cast<std::size_t>(n_words));
  std::uint32_t hc = kInitB;
  for (int i = 0; i < n_words; ++i) {
    std::uint32_t v = pool[i % kPoolSize];
    v ^= hc;
    hc *= kMultB;
    v *= hc;
    v ^= v >> kXShift;
    out[static_cast<std::size_t>(i)] = v;
  }
  return out;
}

NumpyGenerator::NumpyGenerator(std::uint64_t seed) {
  // An integer seed is split into little-endian 32-bit words (no trailing zero words; 0 -> [0]).
  std::vector<std::uint32_t> entropy;
  do {
    entropy.push_back(static_cast<std::uint32_t>(seed & 0xffffffffu));
    seed >>= 32;
  } while (seed != 0);
  const std::vector<std::uint32_t> w = seed_sequence_state(entropy, 8);
  std::uint64_t v[4];
  for (int i = 0; i < 4; ++i)
    v[i] = static_cast<std::uint64_t>(w[2 * i]) | (static_cast<std::uint64_t>(w[2 * i + 1]) << 32);
  // PCG64 seeding: state = (v0 << 64 | v1), increment = (v2 << 64 | v3); pcg's srandom_r.
  const unsigned __int128 initstate = (static_cast<unsigned __int128>(v[0]) << 64) | v[1];
  const unsigned __int128 initseq = (static_cast<unsigned __int128>(v[2]) << 64) | v[3];
  state_ = 0;
  inc_ = (initseq << 1) | 1u;
  state_ = state_ * kPcgMultiplier + inc_;
  state_ += initstate;
  state_ = state_ * kPcgMultiplier + inc_;
}

std::uint64_t NumpyGenerator::next_uint64() {
  state_ = state_ * kPcgMultiplier + inc_;
  // XSL-RR output: xor the halves, rotate right by the top 6 bits.
  const std::uint64_t x = static_cast<std::uint64_t>(state_ >> 64) ^ static_cast<std::uint64_t>(state_);
  const unsigned rot = static_cast<unsigned>(state_ >> 122);
  return (x >> rot) | (x << ((64u - rot) & 63u));
}

std::uint32_t NumpyGenerator::next_uint32() {
  if (has_uint32_) {
    has_uint32_ = false;
    return uinteger_;
  }
  const std::uint64_t n = next_uint64();
  has_uint32_ = true;
  uinteger_ = static_cast<std::uint32_t>(n >> 32);
  return static_cast<std::uint32_t>(n & 0xffffffffu);
}

std::int64_t NumpyGenerator::integers(std::int64_t low, std::int64_t high) {
  EPE_ASSERT(high > low, "NumpyGenerator::integers: empty range");
  const std::uint64_t rng = static_cast<std::uint64_t>(high - low) - 1;  // closed range [0, rng]
  EPE_ASSERT(rng < 0xffffffffULL, "NumpyGenerator::integers: range must be below 2^32 - 1");
  if (rng == 0) return low;
  // Lemire's nearly divisionless bounded integers on 32-bit draws.
  const std::uint32_t excl = static_cast<std::uint32_t>(rng) + 1;
  std::uint64_t m = static_cast<std::uint64_t>(next_uint32()) * excl;
  std::uint32_t leftover = static_cast<std::uint32_t>(m & 0xffffffffu);
  if (leftover < excl) {
    const std::uint32_t threshold = (0xffffffffu - static_cast<std::uint32_t>(rng)) % excl;
    while (leftover < threshold) {
      m = static_cast<std::uint64_t>(next_uint32()) * excl;
      leftover = static_cast<std::uint32_t>(m & 0xffffffffu);
    }
  }
  return low + static_cast<std::int64_t>(m >> 32);
}

}  // namespace epe
