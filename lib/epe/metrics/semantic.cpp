#include "epe/metrics/semantic.h"

#include <filesystem>
#include <mutex>

#include "epe/core/atomic_file.h"
#include "epe/core/error.h"
#include "epe/core/log.h"
#include "epe/core/progress.h"
#include "epe/core/sha256.h"
#include "epe/io/classes.h"
#include "epe/io/h5.h"
#include "epe/io/image.h"
#include "epe/io/labels.h"

namespace fs = std::filesystem;

namespace epe {

void SemanticOptions::check() const {
  EPE_CHECK(!model.empty(), "the semantic metric needs --model (a TorchScript segmenter, as for epe segment)");
  protocol.check();
  if (gt_map != "none") resolve_label_table(gt_map, "option --semantic-gt-map");
}

Confusion::Confusion() : m_(256 * 256, 0) {}

void Confusion::add(const cv::Mat& ref, const cv::Mat& pred) {
  EPE_ASSERT(ref.type() == CV_8UC1 && pred.type() == CV_8UC1 && ref.size() == pred.size(), "Confusion::add: shapes");
  for (int y = 0; y < ref.rows; ++y) {
    const std::uint8_t* a = ref.ptr<std::uint8_t>(y);
    const std::uint8_t* b = pred.ptr<std::uint8_t>(y);
    for (int x = 0; x < ref.cols; ++x)
      if (a[x] != 255) ++m_[static_cast<std::size_t>(a[x]) * 256 + b[x]];
  }
}

Confusion::Score Confusion::score() const {
  Score s;
  std::int64_t tp_sum = 0;
  double iou_sum = 0;
  for (int c = 0; c < 256; ++c) {
    std::int64_t tp = m_[static_cast<std::size_t>(c) * 257], row = 0, col = 0;
    for (int k = 0; k < 256; ++k) {
      row += m_[static_cast<std::size_t>(c) * 256 + k];  // reference c
      col += m_[static_cast<std::size_t>(k) * 256 + c];  // predicted c
    }
    s.pixels += row;
    tp_sum += tp;
    if (row == 0 && col == 0) continue;
    Class k;
    k.id = c;
    k.name = c == 255 ? "unlabeled" : c < kUniversalClasses ? universal_class_name(c) : cat("id ", c);
    k.iou = double(tp) / double(row + col - tp);
    k.reference_pixels = row;
    k.predicted_pixels = col;
    iou_sum += k.iou;
    s.classes.push_back(k);
  }
  s.miou = s.classes.empty() ? std::nan("") : iou_sum / double(s.classes.size());
  s.pixel_accuracy = s.pixels > 0 ? double(tp_sum) / double(s.pixels) : std::nan("");
  return s;
}

namespace {

std::string protocol_key(const SegmentProtocol& p) {
  std::string s =
      cat("base_size=", p.base_size, " crop=", p.crop, " flip=", p.flip, " classes=", p.classes, " scales=");
  for (double x : p.scales) s += cat(x, ",");
  s += " mean=";
  for (double x : p.mean) s += cat(x, ",");
  s += " std=";
  for (double x : p.std) s += cat(x, ",");
  return s;
}

}  // namespace

std::vector<cv::Mat> semantic_labels(Segmenter& seg, const SegmentProtocol& protocol, const ImageSet& set,
                                     const std::string& cache_dir, bool* hit, Progress* progress) {
  if (hit) *hit = false;
  const std::string key = sha256_hex(set.checksum + "\n" + seg.provenance() + "\n" + protocol_key(protocol));
  std::string path;
  if (!cache_dir.empty()) {
    fs::create_directories(cache_dir);
    path = (fs::path(cache_dir) / cat("semantic-", key.substr(0, 16), ".h5")).string();
    if (fs::exists(path)) {
      try {
        std::lock_guard<std::mutex> lock(h5::h5_mutex());
        H5::H5File f = h5::open_store(path, kSemanticStoreFormat, kSemanticStoreVersion);
        if (h5::attr_string(f, "key") == key) {
          std::vector<hsize_t> dims;
          const std::vector<std::int32_t> shapes = h5::read<std::int32_t>(f, "/shapes", &dims);
          const std::vector<std::uint8_t> data = h5::read<std::uint8_t>(f, "/labels");
          if (dims.size() == 2 && dims[0] == set.images.size() && dims[1] == 2) {
            std::vector<cv::Mat> out;
            std::size_t at = 0;
            for (std::size_t i = 0; i < set.images.size(); ++i) {
              const int h = shapes[2 * i], w = shapes[2 * i + 1];
              EPE_CHECK(h > 0 && w > 0 && at + std::size_t(h) * std::size_t(w) <= data.size(), "inconsistent shapes");
              out.push_back(cv::Mat(h, w, CV_8UC1, const_cast<std::uint8_t*>(data.data() + at)).clone());
              at += std::size_t(h) * std::size_t(w);
            }
            if (hit) *hit = true;
            if (progress) progress->add(static_cast<std::int64_t>(out.size()));
            return out;
          }
        }
      } catch (const UserError& e) {
        log_warn("semantic label cache '", path, "' is unreadable (", e.what(), "); recomputing it");
      }
    }
  }
  std::vector<cv::Mat> out;
  for (std::size_t i = 0; i < set.images.size(); ++i) {
    try {
      out.push_back(seg.labels(read_image_u8(set.images[i])));
    } catch (const UserError& e) {
      throw UserError(cat(set.where(i), ": ", e.what()));
    }
    if (progress) progress->add(1);
  }
  if (!path.empty()) {
    std::vector<std::int32_t> shapes;
    std::vector<std::uint8_t> data;
    for (const cv::Mat& m : out) {
      shapes.push_back(m.rows);
      shapes.push_back(m.cols);
      for (int y = 0; y < m.rows; ++y) data.insert(data.end(), m.ptr<std::uint8_t>(y), m.ptr<std::uint8_t>(y) + m.cols);
    }
    AtomicFile file(path);
    {
      std::lock_guard<std::mutex> lock(h5::h5_mutex());
      H5::H5File f = h5::create_file(file.temp_path());
      h5::write_store_header(f, kSemanticStoreFormat, kSemanticStoreVersion, "epe metrics", "");
      h5::write(f, "/labels", data, {hsize_t(data.size())});
      h5::write(f, "/shapes", shapes, {hsize_t(out.size()), 2});
      h5::write_strings(f, "/images", set.images);
      h5::set_attr(f, "key", key);
      h5::set_attr(f, "source", set.source);
      h5::set_attr(f, "model", seg.provenance());
      h5::set_attr(f, "protocol", protocol_key(protocol));
    }
    file.commit();
  }
  return out;
}

SemanticResult semantic_consistency(const std::vector<cv::Mat>& source, const std::vector<cv::Mat>& fake,
                                    const ImageSet& fake_set, const std::string& gt_map) {
  EPE_CHECK(source.size() == fake.size(), "semantic: '", fake_set.source, "' has ", fake.size(),
            " frames but the source set has ", source.size(), " (row k of a fake set must be made from source row k)");
  SemanticResult r;
  Confusion vs_input, vs_gt;
  bool gt = gt_map != "none" && !fake_set.gt_labels.empty();
  for (const auto& g : fake_set.gt_labels) gt = gt && !g.empty();
  const std::vector<int>* table =
      gt ? &load_id_table(resolve_label_table(gt_map, "option --semantic-gt-map")) : nullptr;
  for (std::size_t i = 0; i < fake.size(); ++i) {
    EPE_CHECK(source[i].size() == fake[i].size(), fake_set.where(i), ": the frame is ", fake[i].cols, "x", fake[i].rows,
              ", its source frame ", source[i].cols, "x", source[i].rows,
              "; semantic consistency compares equal sizes");
    vs_input.add(source[i], fake[i]);
    if (table) {
      cv::Mat g;
      try {
        g = read_label_map(fake_set.gt_labels[i], 255, true, fake_set.gt_format);
        check_same_size(g, fake_set.gt_labels[i], fake[i].rows, fake[i].cols, fake_set.images[i]);
      } catch (const UserError& e) {
        throw UserError(cat(fake_set.where(i), ": ", e.what()));
      }
      for (int y = 0; y < g.rows; ++y) {
        std::uint8_t* p = g.ptr<std::uint8_t>(y);
        for (int x = 0; x < g.cols; ++x) p[x] = static_cast<std::uint8_t>((*table)[p[x]]);
      }
      vs_gt.add(g, fake[i]);
    }
  }
  r.vs_input = vs_input.score();
  if (table) {
    r.has_gt = true;
    r.vs_gt = vs_gt.score();
  }
  return r;
}

}  // namespace epe
