#pragma once
// Image files. Reading goes through the file's bytes so that damage is caught before
// decoding: a PNG must end with its IEND chunk and a JPEG with its EOI marker (OpenCV
// would otherwise return a half-grey image for a truncated JPEG without complaint).

#include <array>
#include <cstdint>
#include <opencv2/core/mat.hpp>
#include <string>
#include <vector>

namespace epe {

// Reads PNG or JPEG, 8- or 16-bit, gray, RGB or RGBA (alpha dropped) into float RGB in
// [0,1]: cv::Mat CV_32FC3, channel order R,G,B. UserError naming the file on a missing,
// truncated or undecodable file.
cv::Mat read_image(const std::string& path);

// The same, as 8-bit RGB (CV_8UC3); 16-bit input is rounded to 8 bits.
cv::Mat read_image_u8(const std::string& path);

// Reads the file's bytes and checks the container (PNG signature + IEND, JPEG SOI + EOI).
// Returns the bytes. UserError on a missing, empty, truncated or unknown-format file.
std::vector<std::uint8_t> read_image_bytes(const std::string& path);

// {H, W} of a PNG or JPEG from its header only (no decoding); UserError naming the file when it
// is missing or neither format.
std::array<int, 2> read_image_size(const std::string& path);

// Writes a PNG atomically. Accepts CV_8UC1 (gray / labels), CV_8UC3 or CV_32FC3 RGB in
// [0,1] (rounded to 8 bits), or CV_16UC1.
void write_png(const std::string& path, const cv::Mat& image);

// Converts float RGB [0,1] to 8-bit RGB with rounding and clamping.
cv::Mat to_u8(const cv::Mat& rgb_float);

}  // namespace epe
