#include "epe/core/error.h"

#include <gtest/gtest.h>

namespace epe {

TEST(Error, CheckThrowsUserErrorWithComposedMessage) {
  try {
    EPE_CHECK(1 + 1 == 3, "option --k: ", 42, " is too large");
    FAIL() << "no exception";
  } catch (const UserError& e) {
    EXPECT_STREQ(e.what(), "option --k: 42 is too large");
  }
  EXPECT_NO_THROW(EPE_CHECK(true, "never"));
}

TEST(Error, AssertThrowsInternalErrorNamingTheCondition) {
  try {
    int n = 3;
    EPE_ASSERT(n == 4, "n was ", n);
    FAIL() << "no exception";
  } catch (const InternalError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("n == 4"), std::string::npos) << m;
    EXPECT_NE(m.find("n was 3"), std::string::npos) << m;
  }
}

TEST(Error, AtLineFormatsFileAndLine) {
  EXPECT_EQ(at_line("a.csv", 7, "bad"), "a.csv:7: bad");
}

}  // namespace epe
