#include "epe/io/file_list.h"

#include <gtest/gtest.h>

#include "epe/core/error.h"
#include "test_util.h"

namespace epe {

TEST(FileList, ParsesRowsResolvesRelativePathsSkipsCommentsToleratesCrlf) {
  test::TempDir dir;
  std::string p = dir / "list.csv";
  test::write_text(
      p, "# header comment\r\nimg/a.png, lab/a.png\r\n\r\n/abs/b.png,lab/b.png\n  # indented comment\nc.png,\n");
  FileList l = read_file_list(p, DatasetKind::real);
  ASSERT_EQ(l.rows.size(), 3u);
  EXPECT_EQ(l.rows[0].line, 2);
  EXPECT_EQ(l.rows[0].image(), dir / "img/a.png");
  EXPECT_EQ(l.rows[0].robust_labels(), dir / "lab/a.png");
  EXPECT_EQ(l.rows[1].image(), "/abs/b.png");
  EXPECT_EQ(l.rows[1].line, 4);
  EXPECT_EQ(l.rows[2].robust_labels(), "");  // not yet segmented
}

TEST(FileList, WrongColumnCountNamesTheLine) {
  test::TempDir dir;
  std::string p = dir / "s.csv";
  test::write_text(p, "a.png,b.png,c.h5,d.png\nonly_one.png\n");
  try {
    read_file_list(p, DatasetKind::synthetic);
    FAIL();
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find(p + ":2:"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("expected 4"), std::string::npos) << e.what();
  }
  std::vector<ListIssue> issues;
  FileList l = read_file_list(p, DatasetKind::synthetic, &issues);
  EXPECT_EQ(l.rows.size(), 1u);
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].line, 2);
}

TEST(FileList, EmptyOrMissingListIsAUserError) {
  test::TempDir dir;
  test::write_text(dir / "empty.csv", "# nothing\n\n");
  EXPECT_THROW(read_file_list(dir / "empty.csv", DatasetKind::real), UserError);
  EXPECT_THROW(read_file_list(dir / "missing.csv", DatasetKind::real), UserError);
  EXPECT_THROW(read_file_list(dir.path(), DatasetKind::real), UserError);
  EXPECT_THROW(parse_dataset_kind("fake"), UserError);
}

TEST(FileList, WritesPathsRelativeToTheListAndReadsThemBack) {
  test::TempDir dir;
  std::string p = dir / "out.csv";
  write_file_list(p, {{dir / "x/1.png", dir / "y/1.png"}, {"/elsewhere/2.png", dir / "y/2.png"}});
  EXPECT_EQ(test::read_text(p), "x/1.png,y/1.png\n/elsewhere/2.png,y/2.png\n");
  FileList l = read_file_list(p, DatasetKind::real);
  EXPECT_EQ(l.rows[0].image(), dir / "x/1.png");
  // A path outside the list's folder that is relative to the working folder is written absolute.
  write_file_list(dir / "sub.csv", {{"relative/to/cwd.png", "y.png"}});
  std::string text = test::read_text(dir / "sub.csv");
  EXPECT_EQ(text.substr(0, 1), "/") << text;
}

}  // namespace epe

namespace epe {

TEST(FileList, ImageListsAcceptOneTwoOrFourColumns) {
  test::TempDir dir;
  test::write_text(dir / "plain.csv", "# frames\na.png\n\n sub/b.png \n");
  FileList plain = read_image_list(dir / "plain.csv");
  ASSERT_EQ(plain.rows.size(), 2u);
  EXPECT_EQ(plain.rows[1].image(), dir / "sub/b.png");
  EXPECT_EQ(plain.rows[1].robust_labels(), "");
  EXPECT_EQ(plain.rows[1].line, 4);
  test::write_text(dir / "real.csv", "a.png,a_l.png\n");
  EXPECT_EQ(read_image_list(dir / "real.csv").kind, DatasetKind::real);
  test::write_text(dir / "syn.csv", "a.png,l.png,g.h5,gt.png\n");
  EXPECT_EQ(read_image_list(dir / "syn.csv").kind, DatasetKind::synthetic);
  test::write_text(dir / "mixed.csv", "a.png\nb.png,c.png\n");
  EXPECT_NE(test::user_error_message([&] { read_image_list(dir / "mixed.csv"); }).find("mixed.csv:2"),
            std::string::npos);
  test::write_text(dir / "three.csv", "a,b,c\n");
  EXPECT_NE(test::user_error_message([&] { read_image_list(dir / "three.csv"); }).find("three.csv:1"),
            std::string::npos);
  test::write_text(dir / "empty.csv", "# nothing\n");
  EXPECT_NE(test::user_error_message([&] { read_image_list(dir / "empty.csv"); }).find("empty"), std::string::npos);
  EXPECT_EQ(split_csv_fields(" a , b,,c "), (std::vector<std::string>{"a", "b", "", "c"}));
}

}  // namespace epe
