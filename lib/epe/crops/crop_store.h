#pragma once
// The crop store (docs/DESIGN.md §4, format "crops", version 1): which crops of which frames were
// embedded, and their features.
//
//   /images/path   [n_img]       string   frame paths as listed
//   /images/size   [n_img, 2]    int32    H W
//   /crops/image   [n]           int32    row in /images
//   /crops/box     [n, 4]        int32    r0 r1 c0 c1 (half-open)
//   /features      [n, d]        float16  one embedding per crop (d = 512 for relu5_3)
//   attributes: epe_format, epe_format_version, created, command, options, name, backbone,
//   layer, padding, norm, norm_mean, norm_std, mode, crop_size, stride, seed, weights
//   (provenance: "<file> sha256:<hex>" or "random-init(seed=S)"), frames_done,
//   frames_skipped, complete (1 once the writer finished); list_sha256, list_rows and, in the
//   store of a `--shard I/N` run, shard_index, shard_count, row_begin, row_end
//   (io/shard_record.h). frames_done counts rows of the shard's part of the list.
//
// The writer appends while it runs (bounded memory) and keeps the file consistent at every
// commit(), so an interrupted run can be resumed from its last committed frame.

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "epe/io/shard_record.h"

namespace epe {

inline constexpr const char* kCropStoreFormat = "crops";
inline constexpr int kCropStoreVersion = 1;

struct CropBox {
  std::int32_t image = 0;  // row in the image table
  std::int32_t r0 = 0, r1 = 0, c0 = 0, c1 = 0;
  bool operator==(const CropBox& o) const {
    return image == o.image && r0 == o.r0 && r1 == o.r1 && c0 == o.c0 && c1 == o.c1;
  }
};

// Everything but the features and tables: what produced the store.
struct CropStoreMeta {
  std::string name;  // dataset name (file names of exports use it)
  std::string backbone = "vgg16";
  std::string layer = "relu5_3";
  std::string padding = "none";
  std::string norm = "imagenet";  // imagenet | dataset | custom | unknown
  std::array<double, 3> norm_mean{0.485, 0.456, 0.406};
  std::array<double, 3> norm_std{0.229, 0.224, 0.225};
  std::string mode = "random";  // random | grid | imported
  int crop_size = 196;
  int stride = 16;  // grid spacing in pixels (grid mode)
  std::uint64_t seed = 0;
  std::string weights;  // provenance of the network weights
  int dim = 512;        // feature length
};

class CropStoreWriter {
 public:
  // Creates a new store at `path` (truncating), writes the header and metadata.
  CropStoreWriter(const std::string& path, const CropStoreMeta& meta, const std::string& command,
                  const std::string& options_ini);
  // Reopens a store written by an interrupted run and rolls it back to its last commit().
  explicit CropStoreWriter(const std::string& path);
  ~CropStoreWriter();
  CropStoreWriter(const CropStoreWriter&) = delete;
  CropStoreWriter& operator=(const CropStoreWriter&) = delete;

  const CropStoreMeta& meta() const { return meta_; }
  const std::string& options_ini() const { return options_ini_; }
  std::int64_t frames_done() const { return frames_done_; }
  std::int64_t frames_skipped() const { return frames_skipped_; }
  std::int64_t images() const { return n_images_ + static_cast<std::int64_t>(pending_paths_.size()); }
  std::int64_t crops() const { return n_crops_; }

  // Adds a frame to the image table; returns its id. Written at the next commit().
  std::int32_t add_image(const std::string& path, int height, int width);
  // Appends n crops: boxes[n] and features[n * dim] (float32, stored as float16).
  void add_crops(const CropBox* boxes, const float* features, std::int64_t n);
  // Records that the first `frames_done` list rows are finished (`skipped` of them skipped)
  // and flushes, so a crash after this point loses nothing before it.
  void commit(std::int64_t frames_done, std::int64_t frames_skipped);
  // Records the list (and shard) the store is built from; the crops stage calls it once
  // after creating the store.
  void record_list(const ShardRecord& record);
  const ShardRecord& shard_record() const { return record_; }
  // Marks the store complete and closes it.
  void finish();

 private:
  void open_datasets();
  struct Handles;  // the HDF5 file and its datasets (HDF5 stays out of this header)
  std::unique_ptr<Handles> h5_;
  CropStoreMeta meta_;
  ShardRecord record_;
  std::string options_ini_;
  std::vector<std::string> pending_paths_;
  std::vector<std::int32_t> pending_sizes_;
  std::int64_t n_images_ = 0, n_crops_ = 0, committed_crops_ = 0, frames_done_ = 0, frames_skipped_ = 0;
};

// Read access with validation: opening checks the format, shapes and that every crop's
// image id and box are inside its frame (UserError naming the file otherwise).
class CropStore {
 public:
  explicit CropStore(const std::string& path);

  const std::string& path() const { return path_; }
  const CropStoreMeta& meta() const { return meta_; }
  std::int64_t size() const { return static_cast<std::int64_t>(boxes_.size()); }
  int dim() const { return meta_.dim; }
  const std::vector<std::string>& image_paths() const { return paths_; }
  // [n_img] of {H, W}
  const std::vector<std::array<std::int32_t, 2>>& image_sizes() const { return sizes_; }
  const std::vector<CropBox>& boxes() const { return boxes_; }
  std::string attr(const std::string& name) const;  // any root attribute as text ("" if absent)
  // The list (and shard) the store was built from (an empty checksum for older stores).
  const ShardRecord& shard_record() const { return record_; }
  std::int64_t frames_done() const { return frames_done_; }
  std::int64_t frames_skipped() const { return frames_skipped_; }

  // Features of crops [begin, begin + count) as float32, row-major [count, dim].
  std::vector<float> features(std::int64_t begin, std::int64_t count) const;
  // Raw float16 bits of the same rows (for exports that keep float16).
  std::vector<std::uint16_t> features_f16(std::int64_t begin, std::int64_t count) const;
  // SHA-256 of the float16 feature bytes (little-endian, row-major): the identity a match
  // store records for its crop stores.
  std::string features_sha256() const;
  // SHA-256 of the crop table (image, r0, r1, c0, c1 as little-endian int32, in order), cheap:
  // a match store records it to notice a crop store rebuilt with other crops.
  std::string boxes_sha256() const;

 private:
  std::string path_;
  struct Handles;  // the open file and /features, shared by copies of this reader
  std::shared_ptr<Handles> h5_;
  CropStoreMeta meta_;
  ShardRecord record_;
  std::int64_t frames_done_ = 0, frames_skipped_ = 0;
  std::vector<std::string> paths_;
  std::vector<std::array<std::int32_t, 2>> sizes_;
  std::vector<CropBox> boxes_;
};

struct FileList;

// For each frame of `store`, the index of the row of `list` with the same image (paths compared
// after resolving symbolic links and relative parts). Returns "" or a message naming the first
// frame that is not in the list.
std::string rows_of_frames(const CropStore& store, const FileList& list, std::vector<std::int32_t>* rows);

}  // namespace epe
