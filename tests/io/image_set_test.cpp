#include "epe/io/image_set.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "epe/core/error.h"
#include "test_util.h"

namespace epe {

TEST(ImageSet, ImageFilesAreKnownByTheirExtension) {
  EXPECT_TRUE(is_image_file("a/b.png"));
  EXPECT_TRUE(is_image_file("B.JPG"));
  EXPECT_TRUE(is_image_file("c.Jpeg"));
  EXPECT_FALSE(is_image_file("list.csv"));
  EXPECT_FALSE(is_image_file("png"));
  EXPECT_FALSE(is_image_file("g.h5"));
}

TEST(ImageSet, AFolderIsItsImagesSortedAndAListKeepsItsLines) {
  test::TempDir dir;
  std::filesystem::create_directories(dir / "imgs");
  std::filesystem::create_directories(dir / "empty");
  for (const char* f : {"imgs/b.png", "imgs/a.JPG", "imgs/notes.txt", "imgs/c.jpeg"}) test::write_text(dir / f, "x");
  const ImageSet folder = read_image_set(dir / "imgs");
  ASSERT_EQ(folder.images.size(), 3u);
  EXPECT_EQ(folder.images[0], dir / "imgs/a.JPG");
  EXPECT_EQ(folder.images[2], dir / "imgs/c.jpeg");
  EXPECT_EQ(folder.where(1), dir / "imgs/b.png");
  EXPECT_EQ(folder.checksum.size(), 64u);

  test::write_text(dir / "list.csv", "# images\nimgs/b.png\nimgs/c.jpeg\n");
  const ImageSet list = read_image_set(dir / "list.csv");
  ASSERT_EQ(list.images.size(), 2u);
  EXPECT_EQ(list.images[1], dir / "imgs/c.jpeg");
  EXPECT_EQ(list.where(0), dir / "list.csv" + ":2");
  EXPECT_NE(list.checksum, folder.checksum);

  test::write_text(dir / "missing.csv", "imgs/b.png\nimgs/z.png\n");
  EXPECT_EQ(test::user_error_message([&] { read_image_set(dir / "missing.csv"); }),
            dir / "missing.csv" + ":2: image '" + dir / "imgs/z.png" + "' does not exist");
  test::write_text(dir / "empty/readme.txt", "x");
  EXPECT_NE(test::user_error_message([&] { read_image_set(dir / "empty"); }).find("has no PNG or JPEG images"),
            std::string::npos);
}

}  // namespace epe
