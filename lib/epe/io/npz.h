#pragma once
// NumPy `.npy` arrays and `.npz` archives (zip of .npy, stored or deflated), the formats
// of the reference implementation (crop features `crops`, weights `w`, G-buffers `data`).

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace epe {

struct NpyArray {
  std::string dtype;               // NumPy descr: "<f2", "<f4", "<f8", "<i4", "<i8", "|u1", ...
  std::vector<std::size_t> shape;  // C order
  std::vector<std::uint8_t> data;  // raw little-endian bytes, C order

  std::size_t size() const;  // number of elements
  std::size_t item_size() const;
  // Converts numeric data to float/double; UserError for unsupported dtypes.
  std::vector<float> to_float() const;
  std::vector<double> to_double() const;

  static NpyArray from_float(const std::vector<float>& v, std::vector<std::size_t> shape, bool as_float16);
  static NpyArray from_double(const std::vector<double>& v, std::vector<std::size_t> shape);
};

// Parses one .npy file image; `what` names it in errors.
NpyArray parse_npy(const std::uint8_t* bytes, std::size_t n, const std::string& what);
std::vector<std::uint8_t> serialize_npy(const NpyArray& a);

// Reads every array of an .npz (keys without the ".npy" suffix).
std::map<std::string, NpyArray> read_npz(const std::string& path);
// Reads one array; UserError listing the keys present when `key` is missing.
NpyArray read_npz_array(const std::string& path, const std::string& key);
// Writes an .npz atomically (deflate-compressed members when `compress`).
void write_npz(const std::string& path, const std::map<std::string, NpyArray>& arrays, bool compress = false);

}  // namespace epe
