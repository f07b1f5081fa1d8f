#include "epe/io/image.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "epe/core/atomic_file.h"
#include "epe/core/error.h"

namespace epe {

namespace {
const std::uint8_t kPngSig[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
const std::uint8_t kPngIend[8] = {'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82};
}  // namespace

std::vector<std::uint8_t> read_image_bytes(const std::string& path) {
  std::error_code ec;
  EPE_CHECK(std::filesystem::exists(path, ec), "image '", path, "' does not exist");
  std::ifstream in(path, std::ios::binary);
  EPE_CHECK(in, "cannot open image '", path, "'");
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EPE_CHECK(!bytes.empty(), "image '", path, "' is empty (0 bytes)");
  const std::size_t n = bytes.size();
  if (n >= 8 && std::memcmp(bytes.data(), kPngSig, 8) == 0) {
    bool iend = false;  // IEND at the end; a few trailing bytes are tolerated
    for (std::size_t k = 0; k <= 64 && n >= 20 + k && !iend; ++k)
      iend = std::memcmp(bytes.data() + n - 8 - k, kPngIend, 8) == 0;
    EPE_CHECK(iend, "image '", path, "' is a truncated PNG (no IEND chunk at the end of the file)");
  } else if (n >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF) {
    // EOI must be at the end (a few padding bytes after it are tolerated).
    bool eoi = false;
    for (std::size_t i = n >= 2 ? n - 2 : 0, k = 0; k < 64 && i > 0; --i, ++k)
      if (bytes[i] == 0xFF && bytes[i + 1] == 0xD9) {
        eoi = true;
        break;
      }
    EPE_CHECK(eoi, "image '", path, "' is a truncated JPEG (no end-of-image marker)");
  } else {
    throw UserError(cat("image '", path, "' is neither PNG nor JPEG (unknown file signature)"));
  }
  return bytes;
}

namespace {
cv::Mat decode(const std::string& path) {
  std::vector<std::uint8_t> bytes = read_image_bytes(path);
  cv::Mat m;
  try {
    m = cv::imdecode(bytes, cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    throw UserError(cat("image '", path, "' cannot be decoded: ", e.what()));
  }
  EPE_CHECK(!m.empty(), "image '", path, "' cannot be decoded (damaged data)");
  EPE_CHECK(m.depth() == CV_8U || m.depth() == CV_16U, "image '", path, "' has an unsupported pixel type (", m.depth(),
            "); expected 8- or 16-bit");
  cv::Mat rgb;
  switch (m.channels()) {
    case 1:
      cv::cvtColor(m, rgb, cv::COLOR_GRAY2RGB);
      break;
    case 3:
      cv::cvtColor(m, rgb, cv::COLOR_BGR2RGB);
      break;
    case 4:
      cv::cvtColor(m, rgb, cv::COLOR_BGRA2RGB);
      break;
    default:
      throw UserError(cat("image '", path, "' has ", m.channels(), " channels; expected 1, 3 or 4"));
  }
  return rgb;
}
}  // namespace

cv::Mat read_image(const std::string& path) {
  cv::Mat rgb = decode(path);
  cv::Mat out;
  rgb.convertTo(out, CV_32FC3, rgb.depth() == CV_16U ? 1.0 / 65535.0 : 1.0 / 255.0);
  return out;
}

cv::Mat read_image_u8(const std::string& path) {
  cv::Mat rgb = decode(path);
  if (rgb.depth() == CV_8U) return rgb;
  cv::Mat out;
  rgb.convertTo(out, CV_8UC3, 255.0 / 65535.0);
  return out;
}

cv::Mat to_u8(const cv::Mat& rgb_float) {
  cv::Mat out;
  rgb_float.convertTo(out, CV_8U, 255.0);  // saturate_cast rounds and clamps
  return out;
}

void write_png(const std::string& path, const cv::Mat& image) {
  EPE_ASSERT(!image.empty(), "writing an empty image to ", path);
  cv::Mat out;
  if (image.type() == CV_8UC1 || image.type() == CV_16UC1) {
    out = image;
  } else if (image.type() == CV_8UC3) {
    cv::cvtColor(image, out, cv::COLOR_RGB2BGR);
  } else if (image.type() == CV_32FC3) {
    cv::cvtColor(to_u8(image), out, cv::COLOR_RGB2BGR);
  } else {
    throw InternalError(cat("write_png: unsupported matrix type ", image.type(), " for ", path));
  }
  std::vector<std::uint8_t> bytes;
  try {
    EPE_CHECK(cv::imencode(".png", out, bytes, {cv::IMWRITE_PNG_COMPRESSION, 3}), "cannot encode PNG '", path, "'");
  } catch (const cv::Exception& e) {
    throw UserError(cat("cannot encode PNG '", path, "': ", e.what()));
  }
  AtomicFile f(path);
  f.write(bytes.data(), bytes.size());
  f.commit();
}

}  // namespace epe

namespace epe {

std::array<int, 2> read_image_size(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EPE_CHECK(in, "cannot open image '", path, "'");
  auto u8 = [&]() -> int {
    int c = in.get();
    EPE_CHECK(c != EOF, "image '", path, "' is truncated (header)");
    return c;
  };
  auto be16 = [&]() {
    int hi = u8();
    return (hi << 8) | u8();
  };
  int b0 = u8(), b1 = u8();
  if (b0 == 0x89 && b1 == 'P') {  // PNG: signature (8 bytes), IHDR length + type, width, height
    for (int i = 2; i < 16; ++i) u8();
    long w = (long(be16()) << 16) | be16();
    long h = (long(be16()) << 16) | be16();
    EPE_CHECK(w > 0 && h > 0 && w < (1L << 30) && h < (1L << 30), "image '", path, "' has a damaged PNG header");
    return {static_cast<int>(h), static_cast<int>(w)};
  }
  EPE_CHECK(b0 == 0xFF && b1 == 0xD8, "'", path, "' is neither a PNG nor a JPEG image");
  for (;;) {  // JPEG: walk the marker segments up to the first start-of-frame
    int m = u8();
    while (m != 0xFF) m = u8();
    while (m == 0xFF) m = u8();
    if (m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7)) continue;  // no length field
    EPE_CHECK(m != 0xD9 && m != 0xDA, "image '", path, "' has no JPEG frame header");
    int len = be16();
    EPE_CHECK(len >= 2, "image '", path, "' has a damaged JPEG segment");
    if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
      u8();  // precision
      int h = be16(), w = be16();
      EPE_CHECK(h > 0 && w > 0, "image '", path, "' has a damaged JPEG frame header");
      return {h, w};
    }
    in.seekg(len - 2, std::ios::cur);
    EPE_CHECK(in, "image '", path, "' is truncated (JPEG segment)");
  }
}

}  // namespace epe
