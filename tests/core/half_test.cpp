#include "epe/core/half.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace epe {

TEST(Half, KnownValues) {
  EXPECT_EQ(float_to_half(0.f), 0x0000);
  EXPECT_EQ(float_to_half(-0.f), 0x8000);
  EXPECT_EQ(float_to_half(1.f), 0x3C00);
  EXPECT_EQ(float_to_half(-2.f), 0xC000);
  EXPECT_EQ(float_to_half(65504.f), 0x7BFF);
  EXPECT_EQ(float_to_half(65520.f), 0x7C00);               // rounds to +inf
  EXPECT_EQ(float_to_half(std::ldexp(1.f, -24)), 0x0001);  // smallest subnormal
  EXPECT_EQ(float_to_half(std::numeric_limits<float>::infinity()), 0x7C00);
  EXPECT_TRUE(std::isnan(half_to_float(float_to_half(std::nanf("")))));
  EXPECT_FLOAT_EQ(half_to_float(0x3555), 0.333251953125f);
}

TEST(Half, RoundsToNearestEven) {
  EXPECT_EQ(half_to_float(float_to_half(2049.f)), 2048.f);  // tie -> even
  EXPECT_EQ(half_to_float(float_to_half(2051.f)), 2052.f);  // tie -> even
  EXPECT_EQ(half_to_float(float_to_half(2050.f)), 2050.f);
  EXPECT_EQ(half_to_float(float_to_half(1.0f + std::ldexp(1.f, -11))), 1.0f);  // tie at 1
}

TEST(Half, EveryHalfRoundTrips) {
  for (std::uint32_t h = 0; h < 0x10000; ++h) {
    float f = half_to_float(static_cast<std::uint16_t>(h));
    if (std::isnan(f)) continue;
    ASSERT_EQ(float_to_half(f), h) << "half " << h;
  }
}

}  // namespace epe
