// sKVD and cKVD under --skvd-protocol feamgan against FeaMGAN's own SkvdMetric/CkvdMetric, run by
// tests/fixtures/metrics/make_feamgan_fixture.py on the same frames, labels and VGG-16 weights
// (16 generated frames of 120x213, 6 real frames of 128x256, a 96x160 frame, crops of 42).
// FeaMGAN computes in float32, we in double: values agree to 1e-4 relative, pair counts exactly.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>

#include "epe/metrics/metrics.h"
#include "test_util.h"

namespace epe::test {
namespace {

const std::string kDir = std::string(EPE_FIXTURES_DIR) + "/metrics/feamgan";

std::map<std::string, double> expected() {
  std::map<std::string, double> m;
  std::ifstream in(kDir + "/expected.txt");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto eq = line.find(" = ");
    m[line.substr(0, eq)] = std::strtod(line.c_str() + eq + 3, nullptr);
  }
  EXPECT_FALSE(m.empty()) << "no " << kDir << "/expected.txt";
  return m;
}

MetricsOptions options(const std::string& out, const std::string& metrics, int every) {
  MetricsOptions o;
  o.real = kDir + "/real.csv";
  o.fakes = {kDir + "/fake.csv"};
  o.names = {"fake"};
  o.metrics = {parse_choice(metric_kinds(), metrics, "--metrics")};
  o.out = out;
  o.extractor.vgg = kDir + "/vgg16_fixture.pt";
  o.skvd.frame = "96x160";  // kvdEval --data_load_height 96 --crop_size_h 96 --crop_size_w 160
  o.skvd.every = every;
  return o;
}

void expect_relative(double ours, double theirs, double tol, const std::string& what) {
  std::printf("%s: ours %.9g, FeaMGAN's %.9g, relative difference %.2g\n", what.c_str(), ours, theirs,
              std::abs(ours - theirs) / std::abs(theirs));
  EXPECT_LE(std::abs(ours - theirs), tol * std::abs(theirs)) << what << ": ours " << ours << ", FeaMGAN's " << theirs;
}

TEST(FeaMgan, SkvdEqualsFeaMgansMetricCode) {
  const auto want = expected();
  TempDir dir;
  for (int every : {1, 2}) {
    const MetricsResult r = run_metrics(options(dir / cat("s", every), "skvd", every));
    ASSERT_EQ(r.rows.size(), 1u);
    const SkvdResult& s = r.rows[0].skvd;
    EXPECT_EQ(s.candidates, every == 1 ? 16 : 8);  // one real crop per evaluated step
    EXPECT_EQ(s.pairs, static_cast<std::int64_t>(want.at(cat("skvd_every", every, "_pairs"))));
    EXPECT_EQ(s.std, 0.0);
    expect_relative(s.mean, want.at(cat("skvd_every", every)), 1e-4, cat("sKVD, every ", every));
    EXPECT_EQ(r.rows[0].skvd_side, 42);  // 2 floor(floor(sqrt(96 * 160 / 8)) / 2)
  }
}

TEST(FeaMgan, CkvdEqualsFeaMgansMetricCodePerGroupAndAll) {
  const auto want = expected();
  TempDir dir;
  const MetricsResult r = run_metrics(options(dir / "c", "ckvd", 1));
  const CkvdResult& c = r.rows[0].ckvd;
  int compared = 0;
  for (const CkvdClass& k : c.classes) {
    ASSERT_TRUE(want.count("ckvd_" + k.name)) << "FeaMGAN lists no group " << k.name;
    EXPECT_EQ(k.candidates - k.pairs, static_cast<std::int64_t>(want.at("ckvd_" + k.name + "_unpaired"))) << k.name;
    const double theirs = want.at("ckvd_" + k.name);
    if (std::isnan(theirs)) {
      EXPECT_TRUE(std::isnan(k.mean)) << k.name << " has " << k.pairs << " pair(s)";
      continue;
    }
    expect_relative(k.mean, theirs, 1e-4, "cKVD " + k.name);
    ++compared;
  }
  // Every group FeaMGAN lists is ours too, and the fixture exercises the groups that matter.
  for (const auto& [key, v] : want)
    if (key.rfind("ckvd_", 0) == 0 && key != "ckvd_all" && key.find("_unpaired") == std::string::npos) {
      bool found = false;
      for (const CkvdClass& k : c.classes) found |= "ckvd_" + k.name == key;
      EXPECT_TRUE(found) << key;
    }
  EXPECT_GE(compared, 5);
  expect_relative(c.mean, want.at("ckvd_all"), 1e-4, "cKVD all");
  EXPECT_EQ(c.groups, compared);
}

}  // namespace
}  // namespace epe::test
