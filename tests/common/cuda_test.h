#pragma once
// GPU-versus-CPU tests: TEST_F(CudaTest, Something_CUDA) runs where a CUDA device is usable and
// is skipped elsewhere (test_main.cpp), so the suite passes on CPU-only machines and checks the
// CUDA paths on a machine that has one.

#include <gtest/gtest.h>

namespace epe::test {

bool cuda_usable();  // this build has CUDA and a device answers

class CudaTest : public ::testing::Test {
 protected:
  void SetUp() override;
};

}  // namespace epe::test
