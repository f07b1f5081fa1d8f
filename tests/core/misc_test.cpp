#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>

#include "epe/core/error.h"
#include "epe/core/log.h"
#include "epe/core/progress.h"
#include "epe/core/scratch_dir.h"
#include "epe/core/sha256.h"
#include "epe/core/thread_pool.h"
#include "test_util.h"

namespace epe {

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  std::string million(1000000, 'a');
  EXPECT_EQ(sha256_hex(million), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  test::TempDir dir;
  test::write_text(dir / "f", "abc");
  EXPECT_EQ(sha256_file(dir / "f"), sha256_hex("abc"));
  EXPECT_THROW(sha256_file(dir / "missing"), UserError);
}

TEST(ThreadPool, RunsEveryTaskAndRethrowsTaskErrors) {
  ThreadPool pool(3);
  std::atomic<int> sum{0};
  pool.parallel_for(100, [&](std::size_t i) { sum += static_cast<int>(i); });
  EXPECT_EQ(sum.load(), 4950);
  auto f = pool.submit([] { return 6 * 7; });
  EXPECT_EQ(f.get(), 42);
  EXPECT_THROW(pool.parallel_for(10,
                                 [](std::size_t i) {
                                   if (i == 5) throw UserError("task 5 failed");
                                 }),
               UserError);
}

TEST(Progress, FormatsCountRateAndEta) {
  EXPECT_EQ(Progress::format_line("crops", 50, 100, "frames", 10.0, 0), "crops 50/100  50.0% 5.0 frames/s ETA 10.0s");
  EXPECT_EQ(Progress::format_line("x", 7, 0, "rows", 2.0, 0), "x 7 3.5 rows/s elapsed 2.0s");
  std::string bar = Progress::format_line("x", 1, 4, "it", 1.0, 8);
  EXPECT_NE(bar.find("[##......]"), std::string::npos) << bar;
  EXPECT_EQ(format_duration(125), "2m05s");
  EXPECT_EQ(format_bytes(1536), "1.5 KiB");
}

TEST(Progress, PlainLinesWhenNotATerminal) {
  test::TempDir dir;
  std::FILE* f = std::fopen((dir / "log").c_str(), "w");
  {
    Progress p("work", 3, "items", Progress::Style::automatic, f, 0.0);
    EXPECT_EQ(p.style(), Progress::Style::lines);
    p.add(3);
  }
  std::fclose(f);
  std::string log = test::read_text(dir / "log");
  EXPECT_NE(log.find("work 3/3 100.0%"), std::string::npos) << log;
  EXPECT_EQ(log.find('\r'), std::string::npos);
  // The final count is printed once, not again by finish().
  EXPECT_EQ(log.find("3/3", log.find("3/3") + 1), std::string::npos) << log;
}

TEST(Progress, PhasesFinishTheirLineAndCountAnew) {
  test::TempDir dir;
  std::FILE* f = std::fopen((dir / "log").c_str(), "w");
  {
    Progress p("features of real", 2, "images", Progress::Style::lines, f, 1e9);  // no periodic lines
    p.add(2);
    p.phase("features of fake", 3, "images");
    EXPECT_EQ(p.done(), 0);
    p.add(1);
    p.phase("nothing counted", 5, "crops");  // an empty phase leaves no line
    p.phase("crops", 4, "crops");
    p.add(4);
  }
  std::fclose(f);
  const std::string log = test::read_text(dir / "log");
  const auto a = log.find("features of real 2/2 100.0%"), b = log.find("features of fake 1/3  33.3%"),
             c = log.find("crops 4/4 100.0%");
  ASSERT_NE(a, std::string::npos) << log;
  ASSERT_NE(b, std::string::npos) << log;
  ASSERT_NE(c, std::string::npos) << log;
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_EQ(log.find("nothing counted"), std::string::npos) << log;
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 3) << log;
}

TEST(Format, StrprintfHasNoLengthLimit) {
  EXPECT_EQ(strprintf("%-5s|%6.2f|%lld", "ab", 3.14159, 12345678901LL), "ab   |  3.14|12345678901");
  EXPECT_EQ(strprintf("%s", std::string(5000, 'x').c_str()).size(), 5000u);
  EXPECT_EQ(strprintf("%s", ""), "");
}

TEST(Log, LevelsFilterMessages) {
  std::vector<std::string> got;
  set_log_sink([&](LogLevel l, const std::string& m) { got.push_back(std::string(to_string(l)) + ":" + m); });
  set_log_level(LogLevel::warn);
  log_info("hidden");
  log_warn("shown ", 1);
  set_log_level(LogLevel::info);
  log_info("now shown");
  set_log_sink(nullptr);
  EXPECT_EQ(got, (std::vector<std::string>{"warning:shown 1", "info:now shown"}));
  EXPECT_EQ(parse_log_level("debug"), LogLevel::debug);
  EXPECT_THROW(parse_log_level("loud"), UserError);
}

}  // namespace epe

namespace epe {

TEST(ScratchDir, TemporaryIsRemovedGivenIsKept) {
  std::string temp;
  {
    ScratchDir s("", "epe-test-scratch");
    temp = s.path();
    test::write_text(s / "x", "1");
    EXPECT_TRUE(std::filesystem::exists(temp + "/x"));
  }
  EXPECT_FALSE(std::filesystem::exists(temp));
  test::TempDir dir;
  {
    ScratchDir s(dir / "keep/sub", "unused");
    test::write_text(s / "x", "1");
  }
  EXPECT_TRUE(std::filesystem::exists(dir / "keep/sub/x"));
}

}  // namespace epe
