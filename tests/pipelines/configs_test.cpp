// Every config file in pipelines/ is read by the binding of the command it is written for, the
// same binding `epe <command> --config FILE` uses: an unknown key, a bad value or a key of
// another command fails here, naming the file and line, before a user meets it. Required
// inputs the configs leave to the command line (--list, --out, ...) are given made-up file names;
// the test parses and checks the options, it opens no file.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "epe/crops/crops.h"
#include "epe/demo/demo_data.h"
#include "epe/match/match.h"
#include "epe/metrics/metrics.h"
#include "epe/segment/segment.h"
#include "epe/train/train.h"

namespace fs = std::filesystem;

namespace epe {
namespace {

const fs::path kPipelines = fs::path(EPE_SOURCE_DIR) / "pipelines";

// Parses `--config pipelines/<file>` plus `extra` with a fresh binding made by `bind`, then
// runs the options' own check (values and combinations).
template <class Options>
void parse_config(const std::string& file, const std::vector<std::string>& extra,
                  const std::function<void(OptionSet&, Options&)>& bind, Options* out = nullptr) {
  Options o;
  OptionSet s("epe test", "a pipelines config");
  bind(s, o);
  std::vector<std::string> args{"--config", (kPipelines / file).string()};
  args.insert(args.end(), extra.begin(), extra.end());
  ASSERT_TRUE(s.parse(args)) << file;
  if (out) *out = o;
}

TEST(PipelineConfigs, EveryFileIsReadByItsCommandsBinding) {
  std::vector<std::string> seen;
  for (const auto& e : fs::directory_iterator(kPipelines))
    if (e.path().extension() == ".ini") seen.push_back(e.path().filename().string());
  std::sort(seen.begin(), seen.end());
  // A new config must be added below with the command it belongs to.
  EXPECT_EQ(seen, (std::vector<std::string>{"crops.ini", "demo.ini", "match.ini", "metrics.ini", "segment.ini",
                                            "train-paper.ini", "train.ini"}));

  DemoOptions demo;
  parse_config<DemoOptions>(
      "demo.ini", {"--out", "d"}, [](OptionSet& s, DemoOptions& o) { add_options(s, o); }, &demo);
  demo.check();
  EXPECT_EQ(demo.images, 60);

  CropsOptions crops;
  parse_config<CropsOptions>(
      "crops.ini", {"--list", "l.csv", "--out", "c.h5"}, [](OptionSet& s, CropsOptions& o) { add_options(s, o); },
      &crops);
  crops.check();
  EXPECT_EQ(crops.mode, CropMode::grid);

  MatchOptions match;
  parse_config<MatchOptions>(
      "match.ini", {"--src", "a.h5", "--dst", "b.h5", "--out", "m.h5"},
      [](OptionSet& s, MatchOptions& o) { add_options(s, o); }, &match);
  match.check();
  EXPECT_TRUE(match.center);

  SegmentOptions seg;
  parse_config<SegmentOptions>(
      "segment.ini", {"--list", "l.csv", "--model", "m.pt", "--out", "d"},
      [](OptionSet& s, SegmentOptions& o) { add_options(s, o); }, &seg);
  seg.protocol.check();
  EXPECT_EQ(seg.protocol.base_size, 263);

  MetricsOptions metrics;
  parse_config<MetricsOptions>(
      "metrics.ini", {"--real", "r.csv", "--fake", "f.csv", "--out", "d", "--model", "seg.pt"},
      [](OptionSet& s, MetricsOptions& o) { add_options(s, o); }, &metrics);
  metrics.check();
  EXPECT_EQ(metrics.metrics, (std::vector<Metric>{Metric::kvd, Metric::skvd, Metric::semantic}));

  for (const char* file : {"train.ini", "train-paper.ini"}) {
    TrainOptions t;
    NetworkOverrides n;
    OptionSet s("epe test", "a pipelines config");
    add_options(s, t, n);
    ASSERT_TRUE(s.parse({"--config", (kPipelines / file).string(), "--out", "run"})) << file;
    n.apply(t);
    EXPECT_GT(t.steps, 0) << file;
  }
}

TEST(PipelineConfigs, AKeyOfAnotherCommandNamesTheFileAndLine) {
  // crops.ini read as match options: its first key is not a match option.
  MatchOptions o;
  OptionSet s("epe match", "test");
  add_options(s, o);
  try {
    s.parse({"--config", (kPipelines / "crops.ini").string(), "--src", "a", "--dst", "b", "--out", "c"});
    FAIL() << "crops.ini parsed as epe match options";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("crops.ini:"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace epe
