// `epe layout` end to end on small demo data: stores, comparison.json, report, the sampling
// analysis on a real match store, the notebook executed with jupyter nbconvert, and errors.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "epe/layout/layout.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace epe::test {
namespace {

TEST(LayoutCli, DemoDataReportSamplingAndNotebook) {
  TempDir dir;
  std::string out;
  const std::string demo = dir / "demo";
  ASSERT_EQ(run_epe("demo-data --out " + demo + " --images 8 --height 262 --width 478 --seed 2 --quiet", &out), 0)
      << out;
  for (const char* set : {"synthetic", "real"})
    ASSERT_EQ(run_epe(cat("crops --list ", demo, "/", set, ".csv --name ", set, " --out ", dir / set,
                          ".h5 --mode grid --quiet"),
                      &out),
              0)
        << out;
  ASSERT_EQ(run_epe("match --src " + dir / "synthetic.h5" + " --dst " + dir / "real.h5" + " --out " + dir / "m.h5" +
                        " -k 5 --center --quiet",
                    &out),
            0)
      << out;
  ASSERT_EQ(run_epe("weights " + dir / "m.h5" + " --quiet", &out), 0) << out;
  const std::string lay = dir / "layout";
  ASSERT_EQ(run_epe("layout --list " + demo + "/synthetic.csv --list " + demo + "/real.csv --out " + lay +
                        " --matches " + dir / "m.h5" + " --pairs 1000 --grid 32x64",
                    &out),
            0)
      << out;
  EXPECT_TRUE(contains(out, "8 + 8 label maps")) << out;
  for (const char* f : {"synthetic.h5", "real.h5", "comparison.json", "report.md", "shares.png"})
    EXPECT_TRUE(fs::exists(lay + "/" + f)) << f;

  const std::string json = read_text(lay + "/comparison.json");
  // Matching aligns layouts: matched pairs agree on more positions than independent ones.
  const double random = json_number(json, "random", "agreement"), matched = json_number(json, "matched", "agreement"),
               weighted = json_number(json, "weighted", "agreement");
  EXPECT_GT(matched, random + 0.1) << json;
  EXPECT_GT(weighted, random + 0.1) << json;
  // The classes the demo data was built to differ in (horizon: sky, building, road, sidewalk;
  // trees, grass verge, car positions, people) lead the mismatch table; terrain is synthetic-only.
  const LayoutStats a = read_layout_store(lay + "/synthetic.h5"), b = read_layout_store(lay + "/real.h5");
  const LayoutComparison c = compare_layouts(a, b);
  const std::set<std::string> designed = {"sky",        "building", "road", "sidewalk_pavement",
                                          "vegetation", "terrain",  "car",  "person"};
  for (std::size_t i = 0; i < 5 && i < c.classes.size(); ++i)
    EXPECT_TRUE(designed.count(c.classes[i].name)) << c.classes[i].name;
  // Each of these classes must be in the table (a missing one fails, not passes silently).
  std::map<std::string, const ClassComparison*> by_name;
  for (const auto& k : c.classes) by_name[k.name] = &k;
  for (const char* name : {"terrain", "vegetation", "car"}) ASSERT_EQ(by_name.count(name), 1u) << name;
  EXPECT_EQ(by_name["terrain"]->tv, 1.0);
  EXPECT_EQ(by_name["terrain"]->share_b, 0.0);
  EXPECT_GT(by_name["vegetation"]->share_a, 2 * by_name["vegetation"]->share_b);
  EXPECT_GT(by_name["car"]->tv, 0.5);
  EXPECT_NEAR(json_number(json, "overall", "tv"), c.overall_tv, 1e-12);
  const std::string report = read_text(lay + "/report.md");
  EXPECT_TRUE(contains(report, "| matched | 1000 |")) << report;
  EXPECT_TRUE(contains(report, "class_")) << report;

  // The notebook runs on this output (Debian's jupyter-nbconvert, python3-h5py, python3-matplotlib).
  ASSERT_EQ(
      run_command(cat("cd ", dir.path(), " && EPE_LAYOUT_DIR=", lay, " jupyter nbconvert --to notebook --execute ",
                      EPE_SOURCE_DIR, "/notebooks/layout.ipynb --output ", dir / "executed.ipynb", " 2>&1"),
                  &out),
      0)
      << out;
  const std::string executed = read_text(dir / "executed.ipynb");
  EXPECT_TRUE(contains(executed, "classes checked; largest TV/JS difference")) << executed.substr(0, 2000);
  EXPECT_TRUE(contains(executed, "image/png"));

  // Existing output: refused without --force; with --force replaced.
  EXPECT_EQ(run_epe("layout --list " + demo + "/synthetic.csv --list " + demo + "/real.csv --out " + lay, &out), 1);
  EXPECT_TRUE(contains(out, "--force")) << out;
  EXPECT_TRUE(fs::exists(lay + "/report.md"));
  EXPECT_EQ(run_epe("layout --list " + demo + "/synthetic.csv --list " + demo + "/real.csv --out " + lay +
                        " --names A,B --force --quiet",
                    &out),
            0)
      << out;
  EXPECT_TRUE(fs::exists(lay + "/A.h5"));
  EXPECT_FALSE(fs::exists(lay + "/synthetic.h5"));
}

TEST(LayoutCli, BadInputExitsWithOneAndWritesNothing) {
  TempDir dir;
  std::string out;
  const std::string demo = dir / "demo";
  ASSERT_EQ(run_epe("demo-data --out " + demo + " --images 3 --height 48 --width 64 --quiet", &out), 0) << out;
  // A label map of the wrong size (40x64, from another demo set) in row 2 of the real list.
  ASSERT_EQ(run_epe("demo-data --out " + dir / "tiny" + " --images 2 --height 40 --width 64 --quiet", &out), 0) << out;
  ASSERT_TRUE(contains(read_text(demo + "/real.csv"), "real/robust_labels/0001.png"));
  fs::copy_file(dir / "tiny/real/robust_labels/0001.png", demo + "/real/robust_labels/0001.png",
                fs::copy_options::overwrite_existing);
  EXPECT_EQ(run_epe("layout --list " + demo + "/synthetic.csv --list " + demo + "/real.csv --out " + dir / "l", &out),
            1);
  EXPECT_TRUE(contains(out, "real.csv:2:")) << out;
  EXPECT_TRUE(contains(out, "40x64")) << out;
  EXPECT_FALSE(fs::exists(dir / "l"));
  // Options.
  EXPECT_EQ(run_epe("layout --list " + demo + "/synthetic.csv --out " + dir / "l", &out), 1);
  EXPECT_TRUE(contains(out, "exactly two --list")) << out;
  EXPECT_EQ(run_epe("layout --list " + demo + "/synthetic.csv --list " + demo + "/synthetic.csv --grid 0x5 --out " +
                        dir / "l",
                    &out),
            1);
  EXPECT_TRUE(contains(out, "--grid")) << out;
  EXPECT_EQ(
      run_epe("layout --list " + demo + "/synthetic.csv --list " + demo + "/real.csv --names A,A --out " + dir / "l",
              &out),
      1);
  EXPECT_TRUE(contains(out, "names must differ")) << out;
  EXPECT_EQ(
      run_epe("layout --list " + demo + "/synthetic.csv --list " + demo + "/real.csv --labels gt --out " + dir / "l",
              &out),
      1);
  EXPECT_TRUE(contains(out, "real.csv:2:") || contains(out, "real.csv:1:")) << out;
  EXPECT_FALSE(fs::exists(dir / "l"));
}

}  // namespace
}  // namespace epe::test
