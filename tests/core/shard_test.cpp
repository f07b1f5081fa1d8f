#include "epe/core/shard.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "epe/core/error.h"
#include "test_util.h"

namespace epe {
namespace {

using test::user_error_message;

TEST(Shard, PartsAreContiguousCoverEveryRowOnceAndDifferByAtMostOne) {
  for (std::int64_t n = 0; n <= 23; ++n)
    for (int count = 1; count <= 9; ++count) {
      std::int64_t next = 0, smallest = n, largest = 0;
      for (int i = 0; i < count; ++i) {
        const auto [begin, end] = Shard{i, count}.rows(n);
        EXPECT_EQ(begin, next) << i << "/" << count << " of " << n;
        EXPECT_LE(begin, end);
        smallest = std::min(smallest, end - begin);
        largest = std::max(largest, end - begin);
        next = end;
      }
      EXPECT_EQ(next, n) << count << " shards of " << n;
      EXPECT_LE(largest - smallest, 1) << count << " shards of " << n;
    }
  // The documented rule on a concrete case: 10 rows in 4 parts.
  EXPECT_EQ(Shard({0, 4}).rows(10), std::make_pair(std::int64_t{0}, std::int64_t{2}));
  EXPECT_EQ(Shard({1, 4}).rows(10), std::make_pair(std::int64_t{2}, std::int64_t{5}));
  EXPECT_EQ(Shard({2, 4}).rows(10), std::make_pair(std::int64_t{5}, std::int64_t{7}));
  EXPECT_EQ(Shard({3, 4}).rows(10), std::make_pair(std::int64_t{7}, std::int64_t{10}));
  EXPECT_EQ(Shard{}.rows(10), std::make_pair(std::int64_t{0}, std::int64_t{10}));
  // Millions of rows in many parts stay exact (no overflow).
  EXPECT_EQ(Shard({999, 1000}).rows(25000000000LL).first, 24975000000LL);
}

TEST(Shard, ParsesIOverNAndRejectsMalformedValuesNamingTheOption) {
  EXPECT_FALSE(parse_shard("").active());
  const Shard s = parse_shard("2/8");
  EXPECT_EQ(s.index, 2);
  EXPECT_EQ(s.count, 8);
  EXPECT_EQ(s.label(), "2/8");
  EXPECT_EQ(parse_shard("0/1").count, 1);
  for (const char* bad : {"8/8", "2", "2/", "/8", "-1/8", "a/b", "2/0", "1/2/3", " 1/2"})
    EXPECT_TRUE(test::contains(user_error_message([&] { parse_shard(bad, "--shard"); }), "option --shard")) << bad;
  EXPECT_TRUE(test::contains(user_error_message([] { parse_shard("8/8"); }), "from 0 to N-1 = 7"));
}

TEST(Shard, AutoTakesTheSlurmArrayTask) {
  unsetenv("SLURM_ARRAY_TASK_ID");
  unsetenv("SLURM_ARRAY_TASK_COUNT");
  unsetenv("SLURM_ARRAY_TASK_MIN");
  EXPECT_TRUE(test::contains(user_error_message([] { parse_shard("auto"); }), "not a Slurm array job"));
  setenv("SLURM_ARRAY_TASK_ID", "3", 1);
  setenv("SLURM_ARRAY_TASK_COUNT", "4", 1);
  EXPECT_EQ(parse_shard("auto"), (Shard{3, 4}));
  // --array=1-4: ids 1..4 are shards 0..3.
  setenv("SLURM_ARRAY_TASK_MIN", "1", 1);
  EXPECT_EQ(parse_shard("auto"), (Shard{2, 4}));
  setenv("SLURM_ARRAY_TASK_ID", "5", 1);
  EXPECT_TRUE(test::contains(user_error_message([] { parse_shard("auto"); }), "consecutive ids"));
  setenv("SLURM_ARRAY_TASK_ID", "x", 1);
  EXPECT_TRUE(test::contains(user_error_message([] { parse_shard("auto"); }), "are not counts"));
  unsetenv("SLURM_ARRAY_TASK_ID");
  unsetenv("SLURM_ARRAY_TASK_COUNT");
  unsetenv("SLURM_ARRAY_TASK_MIN");
}

}  // namespace
}  // namespace epe
