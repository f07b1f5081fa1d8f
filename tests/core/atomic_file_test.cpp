#include "epe/core/atomic_file.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "epe/core/error.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace epe {

TEST(AtomicFile, CommitPutsContentUnderTheFinalName) {
  test::TempDir dir;
  std::string p = dir / "out.txt";
  {
    AtomicFile f(p);
    f.write("hello");
    EXPECT_FALSE(fs::exists(p));  // not visible before commit
    EXPECT_EQ(fs::path(f.temp_path()).parent_path(), fs::path(p).parent_path());
    f.commit();
  }
  EXPECT_EQ(test::read_text(p), "hello");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

TEST(AtomicFile, FailureBeforeCommitLeavesNothingAndKeepsTheOldFile) {
  test::TempDir dir;
  std::string p = dir / "store.h5";
  test::write_text(p, "old content");
  try {
    AtomicFile f(p);
    f.write("partial new content");
    throw UserError("simulated failure while writing");
  } catch (const UserError&) {
  }
  EXPECT_EQ(test::read_text(p), "old content");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1) << "temporary left behind";

  std::string q = dir / "new.png";
  try {
    AtomicFile f(q);
    f.write("x");
    throw UserError("boom");
  } catch (const UserError&) {
  }
  EXPECT_FALSE(fs::exists(q));
}

TEST(AtomicFile, TemporaryKeepsExtensionAndMissingFolderIsAUserError) {
  test::TempDir dir;
  AtomicFile f(dir / "a.png");
  EXPECT_EQ(fs::path(f.temp_path()).extension(), ".png");
  EXPECT_THROW(AtomicFile(dir / "no/such/folder/x.txt"), UserError);
  AtomicFile empty(dir / "never.txt");
  EXPECT_THROW(empty.commit(), UserError);  // nothing written
}

TEST(AtomicDir, FolderAppearsOnlyOnCommitAndForceReplaces) {
  test::TempDir dir;
  std::string out = dir / "result";
  {
    AtomicDir d(out, false);
    test::write_text(d.temp_path() + "/a.txt", "1");
    EXPECT_FALSE(fs::exists(out));
  }
  EXPECT_FALSE(fs::exists(out)) << "uncommitted folder must vanish";
  {
    AtomicDir d(out, false);
    test::write_text(d.temp_path() + "/a.txt", "1");
    d.commit();
  }
  EXPECT_EQ(test::read_text(out + "/a.txt"), "1");
  EXPECT_THROW(AtomicDir(out, false), UserError);
  {
    AtomicDir d(out, true);
    test::write_text(d.temp_path() + "/b.txt", "2");
    d.commit();
  }
  EXPECT_FALSE(fs::exists(out + "/a.txt"));
  EXPECT_EQ(test::read_text(out + "/b.txt"), "2");
}

TEST(CheckOutputPath, RefusesAnExistingFileWithoutForce) {
  test::TempDir dir;
  std::string p = dir / "x.h5";
  EXPECT_NO_THROW(check_output_path(p, false));
  test::write_text(p, "x");
  try {
    check_output_path(p, false, "--out");
    FAIL();
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("--force"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find(p), std::string::npos);
  }
  EXPECT_NO_THROW(check_output_path(p, true));
  EXPECT_THROW(check_output_path(dir / "missing/x.h5", true), UserError);
}

}  // namespace epe
