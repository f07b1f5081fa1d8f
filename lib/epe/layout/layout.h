#pragma once
// `epe layout` (docs/DESIGN.md §5.5): where each class sits in the frames of two datasets, how the
// datasets differ, and how well crop sampling strategies align what a discriminator compares.
//
// Layout store (format "layout", version 1), one per dataset:
//   /class_pixels  [C] int64    labelled pixels of each class over all frames
//   /class_images  [C] int64    frames containing the class
//   /location      [C, Hn, Wn] float32  P(x | c): the mean over frames of the fraction of each grid
//                               cell the class covers, normalised to sum 1 (all zero for a class
//                               never seen); cells are in normalised image coordinates: pixel
//                               (r, c) of an H x W frame lies in cell (floor(r Hn / H), floor(c Wn / W))
//   /class_names   [C] string
//   attributes: name, list, list_sha256, labels (robust | gt), frames, labeled_pixels,
//   unlabeled_pixels, grid_h, grid_w, frame_sizes (e.g. "526x957:60").
// Id 255 (unlabeled) is never a class.

#include <cstdint>
#include <map>
#include <memory>
#include <opencv2/core/mat.hpp>
#include <string>
#include <utility>
#include <vector>

#include "epe/core/options.h"

namespace epe {

class Progress;
struct FileList;
struct ListRow;

inline constexpr const char* kLayoutStoreFormat = "layout";
inline constexpr int kLayoutStoreVersion = 1;

enum class LabelKind { robust, gt };
const Choices<LabelKind>& label_kinds();           // "robust", "gt"
LabelKind parse_label_kind(const std::string& s);  // UserError naming --labels
const char* to_string(LabelKind k);
int label_classes(LabelKind k);  // 194 (MSeg universal) or 255 (game / Cityscapes ids 0..254)
std::vector<std::string> label_class_names(LabelKind k);

// Accumulates the layout of one dataset, frame by frame (memory independent of the number of
// frames: one count plane per class present and frame size).
class LayoutAccumulator {
 public:
  LayoutAccumulator(int classes, int grid_h, int grid_w);
  // labels: CV_8UC1 with ids < classes or 255 (checked by the caller).
  void add(const cv::Mat& labels);
  void merge(const LayoutAccumulator& other);

  int classes() const { return classes_; }
  int grid_h() const { return gh_; }
  int grid_w() const { return gw_; }
  std::int64_t frames() const { return frames_; }
  std::int64_t unlabeled_pixels() const { return unlabeled_; }
  const std::vector<std::int64_t>& class_pixels() const { return pixels_; }
  const std::vector<std::int64_t>& class_images() const { return images_; }
  // {H, W} -> frames of that size
  const std::map<std::pair<int, int>, std::int64_t>& frame_sizes() const { return sizes_; }
  // [C, Hn, Wn] P(x | c), each class's plane summing to 1 (0 everywhere if never seen).
  std::vector<float> location() const;

 private:
  struct SizeCounts {
    std::vector<std::unique_ptr<std::int64_t[]>> planes;  // per class, Hn*Wn pixel counts (null: absent)
  };
  int classes_, gh_, gw_;
  std::int64_t frames_ = 0, unlabeled_ = 0;
  std::vector<std::int64_t> pixels_, images_;
  std::map<std::pair<int, int>, std::int64_t> sizes_;
  std::map<std::pair<int, int>, SizeCounts> counts_;
};

// One dataset's layout, as written to and read from a layout store.
struct LayoutStats {
  std::string name, list, list_sha256;
  LabelKind labels = LabelKind::robust;
  int classes = 0, grid_h = 0, grid_w = 0;
  std::int64_t frames = 0, labeled_pixels = 0, unlabeled_pixels = 0;
  std::string frame_sizes;  // "526x957:60,..."
  std::vector<std::string> class_names;
  std::vector<std::int64_t> class_pixels, class_images;
  std::vector<float> location;  // [C, Hn, Wn]

  static LayoutStats from(const LayoutAccumulator& acc);
  double share(int c) const { return labeled_pixels ? double(class_pixels[c]) / double(labeled_pixels) : 0.0; }
  double image_share(int c) const { return frames ? double(class_images[c]) / double(frames) : 0.0; }
  const float* map(int c) const { return location.data() + std::size_t(c) * grid_h * grid_w; }
};

void write_layout_store(const std::string& path, const LayoutStats& s, const std::string& command,
                        const std::string& options_ini);
LayoutStats read_layout_store(const std::string& path);

// Streams every label map of a list once (decoding on `threads` workers). Checks each map's
// ids (< classes or 255) and, when the row names an image, that it has the image's size;
// UserError "list:line: ..." naming the file otherwise.
LayoutStats accumulate_layout(const FileList& list, LabelKind labels, int grid_h, int grid_w, int threads,
                              Progress* progress = nullptr);

// One row's label map (robust: 2nd column, gt: 4th), checked: ids < label_classes(kind) or 255,
// and the image's size when the row names an image. UserError "list:line: ..." otherwise.
cv::Mat read_row_labels(const FileList& list, const ListRow& row, LabelKind kind);

// Distances between two distributions over the same cells (each summing to 1).
double total_variation(const float* p, const float* q, std::size_t n);
double js_divergence(const float* p, const float* q, std::size_t n);               // base 2, in [0, 1]
double js_divergence(const std::vector<double>& p, const std::vector<double>& q);  // normalises both

struct ClassComparison {
  int id = 0;
  std::string name;
  double share_a = 0, share_b = 0;              // pixel shares
  double image_share_a = 0, image_share_b = 0;  // share of frames containing the class
  double tv = 0, js = 0;                        // of the location maps; 1 when only one side has the class
  double weight = 0;                            // (share_a + share_b) / 2
  double mismatch = 0;                          // weight * tv: the class's part of the overall score
};

struct LayoutComparison {
  std::vector<ClassComparison> classes;   // classes present in either dataset, largest mismatch first
  double overall_tv = 0, overall_js = 0;  // sum over classes of weight * tv (js); in [0, 1]
};

// UserError when the two stores' label kinds or grids differ.
LayoutComparison compare_layouts(const LayoutStats& a, const LayoutStats& b);

// ---- sampling analysis -------------------------------------------------------------------

struct SamplingOptions {
  std::string matches;        // match store (its crop stores are found through it)
  std::int64_t pairs = 2000;  // pairs drawn per strategy
  int grid = 32;              // each crop's labels, nearest-sampled on grid x grid positions
  std::uint64_t seed = 0;
  int threads = 0;
};

struct SamplingRow {
  std::string strategy;    // random | matched | weighted
  bool available = false;  // weighted needs `epe weights`; matched needs >= 1 pair
  std::string note;        // why not available
  std::int64_t pairs = 0;
  double agreement = 0;      // mean over pairs of the fraction of positions with equal labels
  double agreement_sem = 0;  // its standard error
  double class_js = 0;       // JS divergence (base 2) of the two sides' class frequencies
};

// Draws crop pairs (a) independently at random from the two crop stores, (b) uniformly from
// the match store's pairs, (c) from its pairs with their sampling weights, and measures label
// agreement. Labels come from the lists (`src_list` for the match store's source crop store,
// `dst_list` for its target): every crop store frame must be a row of its list.
std::vector<SamplingRow> sampling_analysis(const SamplingOptions& o, const FileList& src_list, const FileList& dst_list,
                                           LabelKind labels, Progress* progress = nullptr);

// The sampling rows as a console table (markdown = false) or a markdown table.
std::string format_sampling_table(const std::vector<SamplingRow>& rows, bool markdown);

// ---- the command -------------------------------------------------------------------------

struct LayoutOptions {
  std::vector<std::string> lists;        // exactly two
  std::vector<std::string> names;        // default: the lists' file stems
  std::string out;                       // output folder
  LabelKind labels = LabelKind::robust;  // robust | gt
  std::string grid = "64x128";           // Hn x Wn
  int top = 6;                           // classes drawn in the report
  std::string matches;                   // optional match store for the sampling analysis
  std::int64_t pairs = 2000;
  int sample_grid = 32;
  std::uint64_t seed = 0;
  int threads = 0;
  bool force = false;
  std::string command, options_ini;
  void check() const;
};

struct LayoutResult {
  LayoutStats a, b;
  LayoutComparison comparison;
  std::vector<SamplingRow> sampling;  // empty without --matches
  std::vector<std::string> files;     // written, relative to the output folder
  double seconds = 0, frames_per_second = 0;
};

// Writes <out>/<name_a>.h5, <out>/<name_b>.h5, comparison.json, report.md and the pictures
// (shares.png, class_<id>_<name>.png for the top classes); the folder appears when complete.
LayoutResult run_layout(const LayoutOptions& o, Progress* progress = nullptr);

// Binds every option of `epe layout` to `o` (command line, --config files, the record).
void add_options(OptionSet& s, LayoutOptions& o);
// The lines `epe layout` prints when it is done, ending in a newline.
std::string format_summary(const LayoutOptions& o, const LayoutResult& r);

// Parses "64x128" (UserError naming `option`).
std::pair<int, int> parse_grid(const std::string& s, const std::string& option);

}  // namespace epe
