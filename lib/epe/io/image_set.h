#pragma once
// The one reader of image sets, the input of every stage that takes "a list or a folder" (epe
// metrics, epe lpips, epe baseline color-transfer): a file list (synthetic, real, or one image
// per line; io/file_list.h) or a folder of PNG/JPEG images (sorted by name, not recursive).

#include <string>
#include <vector>

#include "epe/io/labels.h"

namespace epe {

// Whether `path` names a PNG or JPEG file by its extension (.png, .jpg, .jpeg, any case).
bool is_image_file(const std::string& path);

// A list (synthetic, real, or one image per line) or a folder of PNG/JPEG images (sorted).
struct ImageSet {
  std::string source;                  // the list or folder as given
  std::vector<std::string> images;     // resolved paths
  std::vector<std::string> labels;     // robust label maps ("" when the list has none)
  LabelFormat label_format;            // how they are encoded (the list's directives)
  std::vector<std::string> gt_labels;  // GT label maps of a synthetic list's rows ("" otherwise)
  LabelFormat gt_format;
  std::vector<long> lines;                 // line in the list (0 for a folder)
  std::string checksum;                    // SHA-256 of paths, sizes and modification times
  std::string where(std::size_t i) const;  // "list.csv:12" or the file, for messages
};
ImageSet read_image_set(const std::string& list_or_folder);

}  // namespace epe
