#pragma once
// IEEE 754 binary16 <-> binary32 conversion (round to nearest even), for float16
// datasets (crop features, G-buffers) and the reference's `.npy` arrays.

#include <cstddef>
#include <cstdint>

namespace epe {

float half_to_float(std::uint16_t h);
std::uint16_t float_to_half(float f);
void half_to_float(const std::uint16_t* in, float* out, std::size_t n);
void float_to_half(const float* in, std::uint16_t* out, std::size_t n);

}  // namespace epe
