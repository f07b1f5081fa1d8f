#pragma once
// Label maps as the datasets ship them, decoded to class ids (CV_8UC1). Every reader of label
// maps (check, layout, segment, train, metrics) goes through read_label_map().
//
// Encodings read (PNG through libpng, so palette indices are seen as they are stored):
//   - 8-bit (or 1/2/4-bit) gray PNG: the value is the id;
//   - palette PNG (Playing for Data / GTA5, VIPER `cls/`, Mapillary Vistas v1.2): the palette
//     index is the id, the palette's colours are ignored;
//   - 16-bit gray PNG: the value is the id, which must be <= 255 (our label range);
//   - RGB / RGBA colour-coded PNG (CARLA's CityScapesPalette, VIPER or Vistas maps saved as
//     RGB): mapped through a colour table (LabelFormat::colors);
//   - RGB PNG carrying the id in one channel (CARLA's raw semantic camera: the tag in R):
//     LabelFormat::channel;
//   - without either, an RGB map whose three channels are equal everywhere is read as gray, any
//     other is an error;
//   - a JPEG, decoded by OpenCV, with one channel (or an RGB one as above; lossy, so rarely
//     right for labels). Other containers are refused by read_image_bytes().
// After decoding, an optional id table (LabelFormat::remap, e.g. Cityscapes labelIds ->
// MSeg universal ids) maps every id; then ids are checked against the caller's range.
//
// Robust labels: MSeg universal class ids 0..193, 255 = unlabeled.
// GT labels (synthetic): the game's ids (Cityscapes label ids 0..33 by default), 255 = void.

#include <cstdint>
#include <opencv2/core/mat.hpp>
#include <string>
#include <vector>

#include "epe/io/label_ids.h"

namespace epe {

// How a list's label column is encoded. Both fields are table specs: a shipped table's name
// (resolve_label_table()) or a path to a TSV file. Empty = none.
struct LabelFormat {
  std::string colors;  // RGB colour -> id table (`id, name, r, g, b` columns)
  std::string remap;   // id -> id table (`src_id, src_name, dst_id, dst_name` columns)
  int channel = -1;    // 0/1/2: an RGB map's R/G/B channel is the id; -1 = not used
  bool plain() const { return colors.empty() && remap.empty() && channel < 0; }
  // "ids", "colors=viper", "ids remap=cityscapes-34_to_universal", ...
  std::string describe() const;
};

// Resolves a table spec to a file: an existing path (relative ones against `base_dir` first,
// then the working directory), else the shipped tables <data>/labels/<spec>.tsv,
// <data>/labels/<spec>_colors.tsv, <data>/mseg/<spec>.tsv, <data>/materials/<spec>.tsv.
// UserError naming `what` and listing the shipped tables when nothing matches.
std::string resolve_label_table(const std::string& spec, const std::string& what, const std::string& base_dir = "");

// A colour table: packed 0xRRGGBB -> id, and the id's name. UserError naming the file and line
// on a malformed row or a value outside 0..255. A colour listed for two ids (VIPER's van and
// train share one) is ambiguous: decoding a pixel of that colour is an error naming both.
struct ColorTable {
  std::string path;
  std::vector<std::pair<std::uint32_t, int>> colors;  // sorted by colour; id -2 = ambiguous
  std::vector<std::string> names;                     // index = id ("" when unnamed)
  // -1 when the colour is not in the table, -2 when it is ambiguous.
  int find(std::uint32_t rgb) const;
  static const ColorTable& load(const std::string& path);  // cached per path, thread-safe
};

// An id table: 256 entries, src id -> dst id; ids the file does not list map to 255.
const std::vector<int>& load_id_table(const std::string& path);  // cached per path, thread-safe

// Reads a label map (CV_8UC1 ids). UserError naming the file when it is missing, damaged, in an
// encoding listed above as unreadable (the message says what was found: e.g. "RGB colour PNG
// without a colour table", "16-bit PNG with id 4000 at (row 3, col 7)"), holds a colour not in
// the table (colour and pixel named), or holds an id > max_id other than 255 (255 too unless
// allow_unlabeled; the message gives the first offending id and its pixel). The format's table
// specs must already be resolved paths (FileList does it) or shipped names.
cv::Mat read_label_map(const std::string& path, int max_id = kUniversalClasses - 1, bool allow_unlabeled = true,
                       const LabelFormat& format = {});

// Checks ids only: returns "" or a message like "label id 200 at (row 3, col 17) ...".
std::string find_invalid_label(const cv::Mat& labels, int max_id, bool allow_unlabeled = true);

// UserError unless the label map has the image's size.
void check_same_size(const cv::Mat& labels, const std::string& label_path, int image_h, int image_w,
                     const std::string& image_path);

}  // namespace epe
