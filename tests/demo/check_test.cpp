#include <gtest/gtest.h>

#include <filesystem>

#include "epe/core/error.h"
#include "epe/demo/demo_data.h"
#include "epe/io/gbuffers.h"
#include "epe/io/image.h"
#include "epe/io/list_check.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace epe {

namespace {
// A small demo dataset shared by the tests of this file.
class CheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DemoOptions o;
    o.out = dir_ / "demo";
    o.images = 6;
    o.height = 48;
    o.width = 80;
    res_ = make_demo_data(o);
  }
  CheckReport check(const std::string& list, const std::string& kind) {
    CheckOptions o;
    o.list = list;
    o.kind = kind;
    return check_file_list(o);
  }
  std::string demo(const std::string& rel) { return dir_ / ("demo/" + rel); }
  // Lines with a problem of `kind`.
  static std::vector<long> lines(const CheckReport& r, const std::string& kind) {
    std::vector<long> v;
    for (auto& p : r.problems)
      if (p.kind == kind) v.push_back(p.line);
    return v;
  }
  test::TempDir dir_;
  DemoResult res_;
};
}  // namespace

TEST_F(CheckTest, AcceptsBothDemoLists) {
  CheckReport s = check(res_.synthetic_list, "synthetic");
  EXPECT_TRUE(s.ok()) << format_check_report(s);
  EXPECT_EQ(s.rows_ok, 6);
  EXPECT_EQ(s.gbuffer_channels, 8);
  CheckReport r = check(res_.real_list, "real");
  EXPECT_TRUE(r.ok()) << format_check_report(r);
}

TEST_F(CheckTest, CatchesEachPlantedFaultOnItsLine) {
  // line 1: image deleted; line 2: label of the wrong size; line 3: label id 200;
  // line 4: truncated PNG; line 5: a row with one column; line 6: G-buffers with 3 channels.
  fs::remove(demo("synthetic/images/0000.png"));
  write_png(demo("synthetic/robust_labels/0001.png"), cv::Mat(10, 10, CV_8UC1, cv::Scalar(98)));
  cv::Mat l = cv::Mat(48, 80, CV_8UC1, cv::Scalar(98));
  l.at<std::uint8_t>(5, 6) = 200;
  write_png(demo("synthetic/robust_labels/0002.png"), l);
  test::truncate_file(demo("synthetic/images/0003.png"), 100);
  std::string list = test::read_text(res_.synthetic_list);
  std::vector<std::string> rows;
  for (std::size_t a = 0, b; (b = list.find('\n', a)) != std::string::npos; a = b + 1)
    rows.push_back(list.substr(a, b - a));
  rows[4] = rows[4].substr(0, rows[4].find(','));
  GBuffers g;
  g.height = 48;
  g.width = 80;
  g.channels = 3;
  g.data.assign(48 * 80 * 3, 0.f);
  g.names = {"a", "b", "c"};
  write_gbuffers(demo("synthetic/gbuffers/0005.h5"), g);
  std::string text;
  for (auto& r : rows) text += r + "\n";
  test::write_text(res_.synthetic_list, text);

  CheckReport r = check(res_.synthetic_list, "synthetic");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.rows, 6);
  EXPECT_EQ(r.rows_ok, 0);
  EXPECT_EQ(lines(r, problem::missing_file), (std::vector<long>{1}));
  EXPECT_EQ(lines(r, problem::label_size), (std::vector<long>{2}));
  EXPECT_EQ(lines(r, problem::label_id), (std::vector<long>{3}));
  EXPECT_EQ(lines(r, problem::bad_image), (std::vector<long>{4}));
  EXPECT_EQ(lines(r, problem::columns), (std::vector<long>{5}));
  EXPECT_EQ(lines(r, problem::gbuffer_channels), (std::vector<long>{6}));
  std::string text_report = format_check_report(r);
  EXPECT_NE(text_report.find(res_.synthetic_list + ":3: robust label map"), std::string::npos) << text_report;
  EXPECT_NE(text_report.find("label id 200 at (row 5, col 6)"), std::string::npos) << text_report;
}

TEST_F(CheckTest, MissingLabelsAreAProblemUnlessAllowed) {
  std::string list = dir_ / "unlabelled.csv";
  test::write_text(list, demo("real/images/0000.png") + ",\n" + demo("real/images/0001.png") + "," +
                             demo("real/robust_labels/0001.png") + "\n");
  CheckReport r = check(list, "real");
  EXPECT_EQ(lines(r, problem::missing_labels), (std::vector<long>{1}));
  CheckOptions o;
  o.list = list;
  o.kind = "real";
  o.allow_missing_labels = true;
  CheckReport a = check_file_list(o);
  EXPECT_TRUE(a.ok()) << format_check_report(a);
  EXPECT_EQ(a.rows_without_labels, 1);
}

TEST_F(CheckTest, GtLabelsAndGBufferSizesAreChecked) {
  write_png(demo("synthetic/gt_labels/0000.png"), cv::Mat(48, 80, CV_8UC1, cv::Scalar(40)));  // > 33
  GBuffers g = read_gbuffers(demo("synthetic/gbuffers/0001.h5"));
  g.height = 24;
  g.data.resize(24 * 80 * 8);
  write_gbuffers(demo("synthetic/gbuffers/0001.h5"), g);
  test::write_text(demo("synthetic/gbuffers/0002.h5"), "garbage");
  CheckReport r = check(res_.synthetic_list, "synthetic");
  EXPECT_EQ(lines(r, problem::label_id), (std::vector<long>{1}));
  EXPECT_EQ(lines(r, problem::gbuffer_size), (std::vector<long>{2}));
  EXPECT_EQ(lines(r, problem::bad_gbuffers), (std::vector<long>{3}));
  EXPECT_EQ(r.rows_ok, 3);
}

TEST_F(CheckTest, EmptyListAndBadKindAreUserErrors) {
  test::write_text(dir_ / "empty.csv", "\n# only a comment\n");
  EXPECT_THROW(check(dir_ / "empty.csv", "real"), UserError);
  EXPECT_THROW(check(res_.real_list, "photo"), UserError);
}

}  // namespace epe
