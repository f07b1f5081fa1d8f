#include "epe/crops/crop_store.h"

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <unordered_map>

#include "epe/core/error.h"
#include "epe/core/sha256.h"
#include "epe/io/file_list.h"
#include "epe/io/h5.h"

namespace epe {

namespace {

void write_meta(H5::H5File& f, const CropStoreMeta& m) {
  h5::set_attr(f, "name", m.name);
  h5::set_attr(f, "backbone", m.backbone);
  h5::set_attr(f, "layer", m.layer);
  h5::set_attr(f, "padding", m.padding);
  h5::set_attr(f, "norm", m.norm);
  h5::set_attr(f, "norm_mean", std::vector<double>(m.norm_mean.begin(), m.norm_mean.end()));
  h5::set_attr(f, "norm_std", std::vector<double>(m.norm_std.begin(), m.norm_std.end()));
  h5::set_attr(f, "mode", m.mode);
  h5::set_attr(f, "crop_size", m.crop_size);
  h5::set_attr(f, "stride", m.stride);
  h5::set_attr(f, "seed", std::to_string(m.seed));
  h5::set_attr(f, "weights", m.weights);
  h5::set_attr(f, "dim", m.dim);
}

std::array<double, 3> three(const H5::H5File& f, const std::string& name, const std::string& path) {
  std::vector<double> v = h5::attr_doubles(f, name);
  EPE_CHECK(v.size() == 3, "'", path, "': attribute '", name, "' must hold 3 values, has ", v.size());
  return {v[0], v[1], v[2]};
}

CropStoreMeta read_meta(const H5::H5File& f, const std::string& path) {
  CropStoreMeta m;
  m.name = h5::attr_string(f, "name");
  m.backbone = h5::attr_string(f, "backbone");
  m.layer = h5::attr_string(f, "layer");
  m.padding = h5::attr_string(f, "padding");
  m.norm = h5::attr_string(f, "norm");
  m.norm_mean = three(f, "norm_mean", path);
  m.norm_std = three(f, "norm_std", path);
  m.mode = h5::attr_string(f, "mode");
  m.crop_size = static_cast<int>(h5::attr_int(f, "crop_size"));
  m.stride = static_cast<int>(h5::attr_int(f, "stride"));
  const std::string seed = h5::attr_string(f, "seed");
  EPE_CHECK(!seed.empty() && seed.find_first_not_of("0123456789") == std::string::npos, "'", path,
            "': attribute 'seed' is not a number");
  m.seed = std::stoull(seed);
  m.weights = h5::attr_string(f, "weights");
  m.dim = static_cast<int>(h5::attr_int(f, "dim"));
  EPE_CHECK(m.dim > 0 && m.dim <= 65536, "'", path, "': attribute 'dim' = ", m.dim, " is out of range");
  return m;
}

}  // namespace

// ---------------------------------------------------------------- writer

struct CropStoreWriter::Handles {
  explicit Handles(H5::H5File f) : file(std::move(f)) {}
  H5::H5File file;
  H5::DataSet paths, sizes, image, box, features;
};

CropStoreWriter::CropStoreWriter(const std::string& path, const CropStoreMeta& meta, const std::string& command,
                                 const std::string& options_ini)
    : h5_(std::make_unique<Handles>(h5::create_file(path))), meta_(meta), options_ini_(options_ini) {
  h5::write_store_header(h5_->file, kCropStoreFormat, kCropStoreVersion, command, options_ini);
  write_meta(h5_->file, meta_);
  h5::create_string_rows(h5_->file, "/images/path", 1024);
  h5::create_rows<std::int32_t>(h5_->file, "/images/size", {2}, 1024);
  h5::create_rows<std::int32_t>(h5_->file, "/crops/image", {}, 16384);
  h5::create_rows<std::int32_t>(h5_->file, "/crops/box", {4}, 16384);
  h5::WriteOptions half;
  half.float16 = true;
  // 256 rows x 512 x 2 bytes = 256 KiB chunks.
  h5::create_rows<float>(h5_->file, "/features", {static_cast<hsize_t>(meta_.dim)}, 256, half);
  open_datasets();
  commit(0, 0);
}

CropStoreWriter::CropStoreWriter(const std::string& path)
    : h5_(std::make_unique<Handles>(h5::open_store(path, kCropStoreFormat, kCropStoreVersion, /*writable=*/true))) {
  meta_ = read_meta(h5_->file, path);
  options_ini_ = h5::attr_string(h5_->file, "options");
  EPE_CHECK(!h5::has_attr(h5_->file, "complete") || h5::attr_int(h5_->file, "complete") == 0, "'", path,
            "' is a finished crop store, not an interrupted one");
  open_datasets();
  record_ = read_shard_record(h5_->file, path);
  frames_done_ = h5::attr_int(h5_->file, "frames_done");
  frames_skipped_ = h5::attr_int(h5_->file, "frames_skipped");
  n_images_ = h5::attr_int(h5_->file, "committed_images");
  n_crops_ = committed_crops_ = h5::attr_int(h5_->file, "committed_crops");
  EPE_CHECK(n_images_ <= static_cast<std::int64_t>(h5::rows(h5_->paths)) &&
                n_crops_ <= static_cast<std::int64_t>(h5::rows(h5_->features)),
            "'", path, "' is inconsistent (fewer rows than its last commit recorded); start again with --force");
  // Roll back whatever was appended after the last commit.
  h5::set_rows(h5_->paths, n_images_);
  h5::set_rows(h5_->sizes, n_images_);
  h5::set_rows(h5_->image, n_crops_);
  h5::set_rows(h5_->box, n_crops_);
  h5::set_rows(h5_->features, n_crops_);
}

CropStoreWriter::~CropStoreWriter() {
  try {
    h5_->file.close();
  } catch (...) {
  }
}

void CropStoreWriter::open_datasets() {
  h5_->paths = h5::open_dataset(h5_->file, "/images/path");
  h5_->sizes = h5::open_dataset(h5_->file, "/images/size");
  h5_->image = h5::open_dataset(h5_->file, "/crops/image");
  h5_->box = h5::open_dataset(h5_->file, "/crops/box");
  h5_->features = h5::open_dataset(h5_->file, "/features");
}

std::int32_t CropStoreWriter::add_image(const std::string& path, int height, int width) {
  pending_paths_.push_back(path);
  pending_sizes_.push_back(height);
  pending_sizes_.push_back(width);
  return static_cast<std::int32_t>(images() - 1);
}

void CropStoreWriter::add_crops(const CropBox* boxes, const float* features, std::int64_t n) {
  if (n <= 0) return;
  std::vector<std::int32_t> image(n), box(4 * n);
  for (std::int64_t i = 0; i < n; ++i) {
    EPE_ASSERT(boxes[i].image >= 0 && boxes[i].image < images(), "crop of unknown image ", boxes[i].image);
    image[i] = boxes[i].image;
    box[4 * i] = boxes[i].r0;
    box[4 * i + 1] = boxes[i].r1;
    box[4 * i + 2] = boxes[i].c0;
    box[4 * i + 3] = boxes[i].c1;
  }
  h5::append_rows(h5_->image, image.data(), n);
  h5::append_rows(h5_->box, box.data(), n);
  h5::append_rows(h5_->features, features, n);
  n_crops_ += n;
}

void CropStoreWriter::commit(std::int64_t frames_done, std::int64_t frames_skipped) {
  h5::append_strings(h5_->paths, pending_paths_);
  h5::append_rows(h5_->sizes, pending_sizes_.data(), pending_paths_.size());
  n_images_ += static_cast<std::int64_t>(pending_paths_.size());
  pending_paths_.clear();
  pending_sizes_.clear();
  frames_done_ = frames_done;
  frames_skipped_ = frames_skipped;
  committed_crops_ = n_crops_;
  // Data first, then the counters that make it part of the store.
  h5_->file.flush(H5F_SCOPE_GLOBAL);
  h5::set_attr(h5_->file, "committed_images", n_images_);
  h5::set_attr(h5_->file, "committed_crops", n_crops_);
  h5::set_attr(h5_->file, "frames_done", frames_done_);
  h5::set_attr(h5_->file, "frames_skipped", frames_skipped_);
  h5_->file.flush(H5F_SCOPE_GLOBAL);
}

void CropStoreWriter::record_list(const ShardRecord& record) {
  record_ = record;
  write_shard_record(h5_->file, record_);
  h5_->file.flush(H5F_SCOPE_GLOBAL);
}

void CropStoreWriter::finish() {
  EPE_ASSERT(pending_paths_.empty() && committed_crops_ == n_crops_, "CropStoreWriter::finish before commit");
  h5::set_attr(h5_->file, "complete", 1);
  h5_->file.flush(H5F_SCOPE_GLOBAL);
  h5_->file.close();
}

// ---------------------------------------------------------------- reader

struct CropStore::Handles {
  explicit Handles(H5::H5File f) : file(std::move(f)) {}
  H5::H5File file;
  H5::DataSet features;
};

CropStore::CropStore(const std::string& path)
    : path_(path), h5_(std::make_shared<Handles>(h5::open_store(path, kCropStoreFormat, kCropStoreVersion))) {
  EPE_CHECK(h5::has_attr(h5_->file, "complete") && h5::attr_int(h5_->file, "complete") == 1, "'", path,
            "' is an unfinished crop store (an interrupted run); continue it with epe crops --resume");
  meta_ = read_meta(h5_->file, path);
  record_ = read_shard_record(h5_->file, path);
  frames_done_ = h5::attr_int(h5_->file, "frames_done");
  frames_skipped_ = h5::attr_int(h5_->file, "frames_skipped");
  paths_ = h5::read_strings(h5_->file, "/images/path");
  std::vector<hsize_t> d;
  std::vector<std::int32_t> sizes = h5::read<std::int32_t>(h5_->file, "/images/size", &d);
  EPE_CHECK(d.size() == 2 && d[1] == 2 && d[0] == paths_.size(), "'", path,
            "': /images/size must be [n_images, 2] with n_images = ", paths_.size());
  for (size_t i = 0; i < paths_.size(); ++i) {
    sizes_.push_back({sizes[2 * i], sizes[2 * i + 1]});
    EPE_CHECK(sizes[2 * i] > 0 && sizes[2 * i + 1] > 0, "'", path, "': image ", i, " has size ", sizes[2 * i], "x",
              sizes[2 * i + 1]);
  }
  std::vector<std::int32_t> image = h5::read<std::int32_t>(h5_->file, "/crops/image", &d);
  EPE_CHECK(d.size() == 1, "'", path, "': /crops/image must be 1-D");
  std::vector<std::int32_t> box = h5::read<std::int32_t>(h5_->file, "/crops/box", &d);
  EPE_CHECK(d.size() == 2 && d[1] == 4 && d[0] == image.size(), "'", path, "': /crops/box must be [", image.size(),
            ", 4]");
  h5_->features = h5::open_dataset(h5_->file, "/features");
  std::vector<hsize_t> fd = h5::shape(h5_->file, "/features");
  EPE_CHECK(fd.size() == 2 && fd[0] == image.size() && fd[1] == static_cast<hsize_t>(meta_.dim), "'", path,
            "': /features must be [", image.size(), ", ", meta_.dim, "]");
  boxes_.resize(image.size());
  for (size_t i = 0; i < image.size(); ++i) {
    CropBox b{image[i], box[4 * i], box[4 * i + 1], box[4 * i + 2], box[4 * i + 3]};
    EPE_CHECK(b.image >= 0 && b.image < static_cast<std::int32_t>(paths_.size()), "'", path, "': crop ", i,
              " refers to image ", b.image, " of ", paths_.size());
    const auto& s = sizes_[b.image];
    EPE_CHECK(0 <= b.r0 && b.r0 < b.r1 && b.r1 <= s[0] && 0 <= b.c0 && b.c0 < b.c1 && b.c1 <= s[1], "'", path,
              "': crop ", i, " box [", b.r0, ",", b.r1, ")x[", b.c0, ",", b.c1, ") lies outside its ", s[0], "x", s[1],
              " frame");
    boxes_[i] = b;
  }
}

std::string CropStore::attr(const std::string& name) const {
  if (!h5::has_attr(h5_->file, name)) return "";
  return h5::attr_as_text(h5_->file.openAttribute(name));
}

std::vector<float> CropStore::features(std::int64_t begin, std::int64_t count) const {
  return h5::read_rows<float>(h5_->features, begin, count);
}

std::vector<std::uint16_t> CropStore::features_f16(std::int64_t begin, std::int64_t count) const {
  EPE_CHECK(begin >= 0 && count >= 0 && begin + count <= size(), "'", path_, "': feature rows out of range");
  std::vector<std::uint16_t> out(static_cast<size_t>(count) * meta_.dim);
  if (count == 0) return out;
  try {
    hsize_t start[2] = {static_cast<hsize_t>(begin), 0},
            cnt[2] = {static_cast<hsize_t>(count), static_cast<hsize_t>(meta_.dim)};
    H5::DataSpace file = h5_->features.getSpace();
    file.selectHyperslab(H5S_SELECT_SET, cnt, start);
    H5::DataSpace mem(2, cnt);
    h5_->features.read(out.data(), h5::float16_type(), mem, file);
  } catch (const H5::Exception& e) {
    throw UserError(cat("'", path_, "': cannot read /features (damaged file?): ", e.getDetailMsg()));
  }
  return out;
}

std::string CropStore::boxes_sha256() const {
  Sha256 h;
  for (const CropBox& b : boxes_) {
    const std::int32_t v[5] = {b.image, b.r0, b.r1, b.c0, b.c1};
    h.update(v, sizeof v);
  }
  return h.hex_digest();
}

std::string CropStore::features_sha256() const {
  Sha256 h;
  const std::int64_t block = 8192;
  for (std::int64_t b = 0; b < size(); b += block) {
    std::vector<std::uint16_t> v = features_f16(b, std::min(block, size() - b));
    h.update(v.data(), v.size() * sizeof(std::uint16_t));
  }
  return h.hex_digest();
}

namespace {
std::string resolved(const std::string& p) {
  std::error_code ec;
  auto c = std::filesystem::weakly_canonical(p, ec);
  return ec ? std::filesystem::absolute(p).lexically_normal().string() : c.string();
}
}  // namespace

std::string rows_of_frames(const CropStore& store, const FileList& list, std::vector<std::int32_t>* rows) {
  std::unordered_map<std::string, std::int32_t> by_path;
  for (std::size_t i = 0; i < list.rows.size(); ++i)
    by_path.emplace(resolved(list.rows[i].image()), static_cast<std::int32_t>(i));
  rows->clear();
  for (const std::string& p : store.image_paths()) {
    auto it = by_path.find(resolved(p));
    if (it == by_path.end())
      return cat("frame '", p, "' of crop store '", store.path(), "' is not in list '", list.path, "'");
    rows->push_back(it->second);
  }
  return "";
}

}  // namespace epe
