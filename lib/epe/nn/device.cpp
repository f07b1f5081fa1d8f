#include "epe/nn/device.h"

#include <torch/cuda.h>

#include "epe/core/error.h"
#include "epe/runtime/runtime.h"

namespace epe::nn {

c10::Device parse_device(const std::string& s, const std::string& option) {
  if (s == "cpu") return c10::Device(c10::kCPU);
  EPE_CHECK(s == "cuda" || s.rfind("cuda:", 0) == 0, "option ", option, ": '", s,
            "' is not a device (expected cpu, cuda or cuda:N)");
  int index = 0;
  if (s.size() > 5) {
    const std::string digits = s.substr(5);
    EPE_CHECK(!digits.empty() && digits.find_first_not_of("0123456789") == std::string::npos, "option ", option, ": '",
              s, "' is not a device (expected cpu, cuda or cuda:N)");
    index = std::stoi(digits);
  }
  EPE_CHECK(built_with_cuda() || torch::cuda::is_available(), "option ", option, " ", s,
            ": this epe was built with a CPU-only LibTorch; use --device cpu");
  EPE_CHECK(torch::cuda::is_available(), "option ", option, " ", s, ": no usable CUDA device on this machine");
  EPE_CHECK(index < static_cast<int>(torch::cuda::device_count()), "option ", option, " ", s, ": only ",
            torch::cuda::device_count(), " CUDA device(s) present");
  return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
}

c10::ScalarType parse_precision(const std::string& s, const c10::Device& device, const std::string& option) {
  c10::ScalarType t;
  if (s == "float32") {
    t = c10::kFloat;
  } else if (s == "float16") {
    t = c10::kHalf;
  } else if (s == "bfloat16") {
    t = c10::kBFloat16;
  } else {
    throw UserError(cat("option ", option, ": '", s, "' is not a precision (float32, float16 or bfloat16)"));
  }
  EPE_CHECK(t == c10::kFloat || device.is_cuda(), "option ", option, " ", s,
            ": half precision is only supported with --device cuda");
  return t;
}

}  // namespace epe::nn
