// NumpyGenerator against NumPy 1.24's own outputs (Debian python3-numpy), printed by:
//   import numpy as np
//   np.random.SeedSequence(42).generate_state(8, np.uint32)
//   np.random.default_rng(s).bit_generator.random_raw(3)      for s in (42, 0, 2**40 + 5)
//   g = np.random.default_rng(42); [g.integers(125, 401), g.integers(125, 832), ...]  (FeaMGAN's crops)
//   g = np.random.default_rng(7);  [g.integers(-5, 3000000000) for _ in range(6)]
#include "epe/core/numpy_rng.h"

#include <gtest/gtest.h>

namespace epe {
namespace {

TEST(NumpyRng, SeedSequenceState) {
  EXPECT_EQ(NumpyGenerator::seed_sequence_state({42}, 8),
            (std::vector<std::uint32_t>{3444837047u, 2669555309u, 2046530742u, 3581440988u, 1691623607u, 2099784219u,
                                        1184028159u, 862288241u}));
  // 2^40 + 5 is entropy [5, 256].
  EXPECT_EQ(NumpyGenerator::seed_sequence_state({5, 256}, 4),
            (std::vector<std::uint32_t>{3767146251u, 3672381269u, 2127416108u, 2216012776u}));
}

TEST(NumpyRng, RawOutputs) {
  const std::pair<std::uint64_t, std::vector<std::uint64_t>> cases[] = {
      {42, {14276969152011380360ull, 8095878257575067585ull, 15838336090824644132ull}},
      {0, {11749869230777074271ull, 4976686463289251617ull, 755828109848996024ull}},
      {(1ull << 40) + 5, {87427594128977387ull, 6872972437549564694ull, 10832470946844950135ull}},
  };
  for (const auto& [seed, want] : cases) {
    NumpyGenerator g(seed);
    for (std::uint64_t w : want) EXPECT_EQ(g.next_uint64(), w) << "seed " << seed;
  }
}

TEST(NumpyRng, IntegersAsFeaMganDrawsCrops) {
  // Alternating ranges of a 526x957 frame's 250-pixel crop centres: [125, 401) and [125, 832).
  NumpyGenerator g(42);
  const std::int64_t want[] = {149, 672, 305, 435, 244, 732, 148, 618, 180, 191};
  for (int i = 0; i < 10; ++i) EXPECT_EQ(g.integers(125, i % 2 ? 832 : 401), want[i]) << "draw " << i;
}

TEST(NumpyRng, IntegersWideRangeAndNegativeLow) {
  NumpyGenerator g(7);
  const std::int64_t want[] = {2052539808, 2691641401, 1734877354, 2500953063, 675621565, 166594727};
  for (std::int64_t w : want) EXPECT_EQ(g.integers(-5, 3000000000LL), w);
  EXPECT_EQ(g.integers(3, 4), 3);  // a one-value range draws nothing
}

}  // namespace
}  // namespace epe
