#pragma once
// Facts about this process that need no third-party library: the toolkit's version string and
// the peak resident memory (for benchmarks and the match summary). Thread counts and library
// versions are in epe/runtime/runtime.h, which links LibTorch, FAISS, OpenCV and HDF5.

#include <cstdint>

namespace epe {

extern const char* const kVersion;  // e.g. "0.1.0", from CMake's project(VERSION)

// Peak resident set size of this process so far (bytes).
std::int64_t peak_rss_bytes();

}  // namespace epe
