// The main of every test binary. Tests whose name ends in _CUDA compare a GPU path with the CPU
// one; without a usable CUDA device this main skips them (GTEST_SKIP through the CudaTest
// fixture, so CTest reports them as skipped rather than passed), with one line saying why.

#include <gtest/gtest.h>

#include <cstdio>

#include "cuda_test.h"
#include "epe/runtime/runtime.h"

namespace epe::test {

bool cuda_usable() {
  static const bool usable = built_with_cuda() && cuda_available();
  return usable;
}

void CudaTest::SetUp() {
  if (!cuda_usable())
    GTEST_SKIP() << "no CUDA device (this build " << (built_with_cuda() ? "has" : "lacks") << " CUDA)";
}

}  // namespace epe::test

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (!epe::test::cuda_usable() && ::testing::UnitTest::GetInstance()->test_to_run_count() > 1)
    std::printf("note: no CUDA device; tests named *_CUDA are skipped\n");
  return RUN_ALL_TESTS();
}
