#include "epe/runtime/runtime.h"

#include <gtest/gtest.h>

namespace epe {

TEST(Runtime, SetsThreadsAndReportsVersions) {
  set_threads(2);
  EXPECT_EQ(threads(), 2);
  std::string v = version_report();
  for (const char* s : {"LibTorch", "FAISS", "OpenCV", "HDF5", "BLAS", "threads", "CUDA"})
    EXPECT_NE(v.find(s), std::string::npos) << s;
  set_threads(0);
  EXPECT_GE(threads(), 1);
}

TEST(Process, ReportsAVersionAndAPositivePeakMemory) {
  EXPECT_STRNE(kVersion, "");
  EXPECT_GT(peak_rss_bytes(), 1 << 20);  // any process linking LibTorch holds more than 1 MiB
  EXPECT_EQ(version_report().rfind(std::string("epe ") + kVersion + "\n", 0), 0u);
}

}  // namespace epe
