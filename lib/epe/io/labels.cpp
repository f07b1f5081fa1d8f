#include "epe/io/labels.h"

#include <opencv2/imgcodecs.hpp>

#include "epe/core/error.h"
#include "epe/io/image.h"

namespace epe {

std::string find_invalid_label(const cv::Mat& labels, int max_id, bool allow_unlabeled) {
  for (int r = 0; r < labels.rows; ++r) {
    const auto* p = labels.ptr<std::uint8_t>(r);
    for (int c = 0; c < labels.cols; ++c)
      if (p[c] > max_id && !(allow_unlabeled && p[c] == kIgnoreLabel))
        return cat("label id ", int(p[c]), " at (row ", r, ", col ", c, ") is out of range (valid: 0..", max_id,
                   allow_unlabeled ? " or 255)" : ")");
  }
  return "";
}

cv::Mat read_label_map(const std::string& path, int max_id, bool allow_unlabeled) {
  std::vector<std::uint8_t> bytes = read_image_bytes(path);
  cv::Mat m;
  try {
    m = cv::imdecode(bytes, cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    throw UserError(cat("label map '", path, "' cannot be decoded: ", e.what()));
  }
  EPE_CHECK(!m.empty(), "label map '", path, "' cannot be decoded (damaged data)");
  EPE_CHECK(m.type() == CV_8UC1, "label map '", path, "' must be a single-channel 8-bit PNG, found ", m.channels(),
            " channel(s) of ", m.depth() == CV_16U ? 16 : 8, " bits");
  std::string bad = find_invalid_label(m, max_id, allow_unlabeled);
  EPE_CHECK(bad.empty(), "label map '", path, "': ", bad);
  return m;
}

void check_same_size(const cv::Mat& labels, const std::string& label_path, int image_h, int image_w,
                     const std::string& image_path) {
  EPE_CHECK(labels.rows == image_h && labels.cols == image_w, "label map '", label_path, "' is ", labels.rows, "x",
            labels.cols, " (HxW) but its image '", image_path, "' is ", image_h, "x", image_w);
}

}  // namespace epe
