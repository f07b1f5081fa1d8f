#include "epe/runtime/runtime.h"

#include <ATen/Parallel.h>
#include <H5public.h>
#include <dlfcn.h>
#include <faiss/Index.h>
#include <link.h>
#include <omp.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <cstring>
#include <opencv2/core.hpp>
#include <opencv2/core/version.hpp>

#include "epe/core/error.h"
#include "epe/core/thread_pool.h"

namespace epe {

namespace {
int g_threads = 0;

template <class F>
F blas_symbol(const char* name) {
  return reinterpret_cast<F>(::dlsym(RTLD_DEFAULT, name));
}

int find_blas(struct dl_phdr_info* info, size_t, void* data) {
  auto* out = static_cast<std::string*>(data);
  const char* name = info->dlpi_name;
  if (name && out->empty() && (std::strstr(name, "blas") || std::strstr(name, "mkl_rt"))) *out = name;
  return 0;
}
}  // namespace

void set_threads(int n) {
  if (n <= 0) n = static_cast<int>(hardware_threads());
  g_threads = n;
  at::set_num_threads(n);
  cv::setNumThreads(n);
  omp_set_num_threads(n);
  if (auto f = blas_symbol<void (*)(int)>("openblas_set_num_threads")) f(n);
}

int threads() {
  return g_threads > 0 ? g_threads : at::get_num_threads();
}

bool built_with_cuda() {
#ifdef EPE_WITH_CUDA
  return true;
#else
  return false;
#endif
}

bool cuda_available() {
  return torch::cuda::is_available();
}

std::string blas_name() {
  std::string lib;
  dl_iterate_phdr(find_blas, &lib);
  std::string base = lib.substr(lib.find_last_of('/') + 1);
  std::string resolved;
  if (!lib.empty()) {
    char buf[4096];
    if (::realpath(lib.c_str(), buf)) resolved = buf;
  }
  if (auto cfg = blas_symbol<char* (*)()>("openblas_get_config")) {
    std::string s = cat("OpenBLAS (", cfg(), ")");
    if (!resolved.empty()) s += " from " + resolved;
    return s;
  }
  if (lib.empty()) return "none loaded";
  std::string s = base + (resolved.empty() ? "" : " -> " + resolved);
  if (resolved.find("openblas") == std::string::npos && resolved.find("mkl") == std::string::npos)
    s += "  (reference BLAS: ~10x slower; install libopenblas0-pthread)";
  return s;
}

std::string version_report() {
  unsigned maj = 0, min = 0, rel = 0;
  H5get_libversion(&maj, &min, &rel);
  int blas_threads = -1;
  if (auto f = blas_symbol<int (*)()>("openblas_get_num_threads")) blas_threads = f();
  std::string s;
  s += cat("epe ", kVersion, "\n");
  s += cat("  LibTorch  ", TORCH_VERSION, "\n");
  s += cat("  FAISS     ", FAISS_VERSION_MAJOR, ".", FAISS_VERSION_MINOR, ".", FAISS_VERSION_PATCH, "\n");
  s += cat("  OpenCV    ", CV_VERSION, "\n");
  s += cat("  HDF5      ", H5_VERS_MAJOR, ".", H5_VERS_MINOR, ".", H5_VERS_RELEASE, " (runtime ", maj, ".", min, ".",
           rel, ")\n");
  s += cat("  BLAS      ", blas_name(), "\n");
  s += cat("  threads   ", threads(), " (LibTorch ", at::get_num_threads(), ", OpenMP ", omp_get_max_threads(),
           blas_threads > 0 ? cat(", OpenBLAS ", blas_threads) : std::string(), ")\n");
  s += cat("  CUDA      ", built_with_cuda() ? "built with CUDA" : "built without CUDA",
           built_with_cuda() ? (cuda_available() ? ", device available" : ", no device") : "", "\n");
  return s;
}

}  // namespace epe
