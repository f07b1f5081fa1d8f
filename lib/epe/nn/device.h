#pragma once
// Devices and precisions of the networks: `--device cpu|cuda[:i]`, `--precision
// float32|float16|bfloat16` (half precisions on CUDA only).

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <string>

namespace epe::nn {

// Parses "cpu", "cuda" or "cuda:i". UserError naming `option` for anything else, for CUDA in
// a build without CUDA, or when no CUDA device is usable.
c10::Device parse_device(const std::string& s, const std::string& option = "--device");

// "float32" | "float16" | "bfloat16"; half precisions need a CUDA device.
c10::ScalarType parse_precision(const std::string& s, const c10::Device& device,
                                const std::string& option = "--precision");

}  // namespace epe::nn
