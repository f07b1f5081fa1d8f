#pragma once
// SHA-256 of bytes and files, for provenance ("weights file name + SHA-256") and for
// the references a match store keeps to its crop stores.

#include <cstddef>
#include <cstdint>
#include <string>

namespace epe {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, std::size_t n);
  std::string hex_digest();  // lowercase, 64 characters; finalises

 private:
  void block(const std::uint8_t* p);
  std::uint32_t h_[8];
  std::uint8_t buf_[64];
  std::size_t buf_len_ = 0;
  std::uint64_t total_ = 0;
};

std::string sha256_hex(const void* data, std::size_t n);
std::string sha256_hex(const std::string& s);
// UserError naming the file when it cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace epe
