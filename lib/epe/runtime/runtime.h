#pragma once
// Process-wide runtime settings shared by every command: thread counts of LibTorch,
// OpenCV, OpenMP (FAISS) and OpenBLAS, and the build/version report of `epe --version`.
// This module sits above `core` (which links none of these libraries) and below `nn`.

#include <string>

#include "epe/core/process.h"

namespace epe {

// Sets every library's thread count to n (n <= 0: all hardware threads). LibTorch alone
// would pick 1 on a 2-core machine.
void set_threads(int n);
int threads();

// Whether this build compiled the CUDA code paths, and whether a CUDA device is usable now.
bool built_with_cuda();
bool cuda_available();

// Name of the BLAS library the process loaded (e.g. "OpenBLAS 0.3.21 ... (libopenblas...)"),
// or the shared object's file name when it is not OpenBLAS.
std::string blas_name();

// The multi-line text of `epe --version`.
std::string version_report();

}  // namespace epe
