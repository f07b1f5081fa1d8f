#pragma once
// Label maps: single-channel 8-bit PNGs.
//   robust labels: MSeg universal class ids 0..193, 255 = unlabeled;
//   GT labels (synthetic): the game's ids, Cityscapes label ids 0..33 by default, 255 = void.

#include <string>

#include <opencv2/core/mat.hpp>

namespace epe {

constexpr int kUniversalClasses = 194;  // MSeg universal taxonomy
constexpr int kIgnoreLabel = 255;

// Reads a label map (CV_8UC1). UserError naming the file when it is missing, damaged,
// not single-channel 8-bit, or holds an id > max_id other than 255 (255 too unless
// allow_unlabeled; the message gives the first offending id and its pixel).
cv::Mat read_label_map(const std::string& path, int max_id = kUniversalClasses - 1, bool allow_unlabeled = true);

// Checks ids only: returns "" or a message like "label id 200 at (row 3, col 17) ...".
std::string find_invalid_label(const cv::Mat& labels, int max_id, bool allow_unlabeled = true);

// UserError unless the label map has the image's size.
void check_same_size(const cv::Mat& labels, const std::string& label_path, int image_h, int image_w,
                     const std::string& image_path);

}  // namespace epe
