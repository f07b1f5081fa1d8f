#include "epe/layout/layout.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>

#include "epe/core/error.h"
#include "epe/core/options.h"
#include "epe/core/progress.h"
#include "epe/core/sha256.h"
#include "epe/core/thread_pool.h"
#include "epe/io/classes.h"
#include "epe/io/file_list.h"
#include "epe/io/h5.h"
#include "epe/io/image.h"
#include "epe/io/labels.h"

namespace epe {

const Choices<LabelKind>& label_kinds() {
  static const Choices<LabelKind> c{{"robust", LabelKind::robust}, {"gt", LabelKind::gt}};
  return c;
}

LabelKind parse_label_kind(const std::string& s) {
  return parse_choice(label_kinds(), s, "--labels");
}

const char* to_string(LabelKind k) {
  return choice_name(label_kinds(), k).c_str();
}

int label_classes(LabelKind k) {
  return k == LabelKind::robust ? kUniversalClasses : 255;
}

std::vector<std::string> label_class_names(LabelKind k) {
  if (k == LabelKind::robust) return universal_class_names();
  std::vector<std::string> names = cityscapes_class_names();
  const std::size_t known = names.size();
  names.resize(255);
  for (std::size_t i = 0; i < names.size(); ++i)
    if (i >= known || names[i].empty()) names[i] = "id" + std::to_string(i);
  return names;
}

std::pair<int, int> parse_grid(const std::string& s, const std::string& option) {
  return parse_hw(s, option, 1024);
}

// ---- accumulator ---------------------------------------------------------------------------

LayoutAccumulator::LayoutAccumulator(int classes, int grid_h, int grid_w)
    : classes_(classes), gh_(grid_h), gw_(grid_w), pixels_(classes, 0), images_(classes, 0) {
  EPE_ASSERT(classes > 0 && classes <= 255 && grid_h > 0 && grid_w > 0, "bad layout accumulator shape");
}

void LayoutAccumulator::add(const cv::Mat& labels) {
  EPE_ASSERT(labels.type() == CV_8UC1, "label map must be CV_8UC1");
  const int H = labels.rows, W = labels.cols;
  const std::size_t cells = std::size_t(gh_) * gw_;
  SizeCounts& sc = counts_[{H, W}];
  if (sc.planes.empty()) sc.planes.resize(classes_);
  std::vector<int> col_cell(W);
  for (int c = 0; c < W; ++c) col_cell[c] = static_cast<int>(std::int64_t(c) * gw_ / W);
  std::int64_t* plane[256];
  std::vector<std::int64_t> sink(cells, 0);  // 255 and (checked-away) ids >= classes
  for (int l = 0; l < 256; ++l) plane[l] = l < classes_ && sc.planes[l] ? sc.planes[l].get() : nullptr;
  std::int64_t hist[256] = {0};
  for (int r = 0; r < H; ++r) {
    const std::uint8_t* p = labels.ptr<std::uint8_t>(r);
    const std::size_t base = std::size_t(std::int64_t(r) * gh_ / H) * gw_;
    for (int c = 0; c < W; ++c) {
      const int l = p[c];
      ++hist[l];
      std::int64_t* pl = plane[l];
      if (!pl) {
        if (l < classes_) {
          sc.planes[l].reset(new std::int64_t[cells]());
          pl = plane[l] = sc.planes[l].get();
        } else {
          pl = plane[l] = sink.data();
        }
      }
      ++pl[base + col_cell[c]];
    }
  }
  for (int l = 0; l < classes_; ++l) {
    pixels_[l] += hist[l];
    images_[l] += hist[l] > 0;
  }
  for (int l = classes_; l < 256; ++l) unlabeled_ += hist[l];
  ++frames_;
  ++sizes_[{H, W}];
}

void LayoutAccumulator::merge(const LayoutAccumulator& o) {
  EPE_ASSERT(o.classes_ == classes_ && o.gh_ == gh_ && o.gw_ == gw_, "merging different layouts");
  const std::size_t cells = std::size_t(gh_) * gw_;
  frames_ += o.frames_;
  unlabeled_ += o.unlabeled_;
  for (int c = 0; c < classes_; ++c) {
    pixels_[c] += o.pixels_[c];
    images_[c] += o.images_[c];
  }
  for (const auto& [size, n] : o.sizes_) sizes_[size] += n;
  for (const auto& [size, counts] : o.counts_) {
    SizeCounts& mine = counts_[size];
    if (mine.planes.empty()) mine.planes.resize(classes_);
    for (int c = 0; c < classes_; ++c) {
      if (!counts.planes[c]) continue;
      if (!mine.planes[c]) mine.planes[c].reset(new std::int64_t[cells]());
      for (std::size_t i = 0; i < cells; ++i) mine.planes[c][i] += counts.planes[c][i];
    }
  }
}

std::vector<float> LayoutAccumulator::location() const {
  const std::size_t cells = std::size_t(gh_) * gw_;
  std::vector<double> sum(std::size_t(classes_) * cells, 0.0);
  for (const auto& [size, counts] : counts_) {
    const int H = size.first, W = size.second;
    // pixels per cell row / column for this frame size
    std::vector<std::int64_t> rows(gh_, 0), cols(gw_, 0);
    for (int r = 0; r < H; ++r) ++rows[std::int64_t(r) * gh_ / H];
    for (int c = 0; c < W; ++c) ++cols[std::int64_t(c) * gw_ / W];
    for (int c = 0; c < classes_; ++c) {
      if (!counts.planes[c]) continue;
      double* out = sum.data() + std::size_t(c) * cells;
      for (int i = 0; i < gh_; ++i)
        for (int j = 0; j < gw_; ++j) {
          const std::int64_t area = rows[i] * cols[j];
          if (area) out[std::size_t(i) * gw_ + j] += double(counts.planes[c][std::size_t(i) * gw_ + j]) / double(area);
        }
    }
  }
  std::vector<float> loc(sum.size(), 0.f);
  for (int c = 0; c < classes_; ++c) {
    const double* s = sum.data() + std::size_t(c) * cells;
    double total = 0;
    for (std::size_t i = 0; i < cells; ++i) total += s[i];
    if (total <= 0) continue;
    float* o = loc.data() + std::size_t(c) * cells;
    for (std::size_t i = 0; i < cells; ++i) o[i] = static_cast<float>(s[i] / total);
  }
  return loc;
}

LayoutStats LayoutStats::from(const LayoutAccumulator& acc) {
  LayoutStats s;
  s.classes = acc.classes();
  s.grid_h = acc.grid_h();
  s.grid_w = acc.grid_w();
  s.frames = acc.frames();
  s.unlabeled_pixels = acc.unlabeled_pixels();
  s.class_pixels = acc.class_pixels();
  s.class_images = acc.class_images();
  for (auto p : s.class_pixels) s.labeled_pixels += p;
  std::vector<std::string> sizes;
  for (const auto& [size, n] : acc.frame_sizes()) sizes.push_back(cat(size.first, "x", size.second, ":", n));
  s.frame_sizes = join(sizes, ",");
  s.location = acc.location();
  return s;
}

// ---- store ---------------------------------------------------------------------------------

void write_layout_store(const std::string& path, const LayoutStats& s, const std::string& command,
                        const std::string& options_ini) {
  std::lock_guard<std::mutex> lock(h5::h5_mutex());
  H5::H5File f = h5::create_file(path);
  h5::write_store_header(f, kLayoutStoreFormat, kLayoutStoreVersion, command, options_ini);
  const hsize_t C = static_cast<hsize_t>(s.classes);
  h5::write(f, "/class_pixels", s.class_pixels, {C});
  h5::write(f, "/class_images", s.class_images, {C});
  h5::WriteOptions wo;
  wo.compress = 4;
  wo.chunk = {1, hsize_t(s.grid_h), hsize_t(s.grid_w)};
  h5::write(f, "/location", s.location, {C, hsize_t(s.grid_h), hsize_t(s.grid_w)}, wo);
  h5::write_strings(f, "/class_names", s.class_names);
  h5::set_attr(f, "name", s.name);
  h5::set_attr(f, "list", s.list);
  h5::set_attr(f, "list_sha256", s.list_sha256);
  h5::set_attr(f, "labels", to_string(s.labels));
  h5::set_attr(f, "frames", s.frames);
  h5::set_attr(f, "labeled_pixels", s.labeled_pixels);
  h5::set_attr(f, "unlabeled_pixels", s.unlabeled_pixels);
  h5::set_attr(f, "grid_h", s.grid_h);
  h5::set_attr(f, "grid_w", s.grid_w);
  h5::set_attr(f, "frame_sizes", s.frame_sizes);
}

LayoutStats read_layout_store(const std::string& path) {
  std::lock_guard<std::mutex> lock(h5::h5_mutex());
  H5::H5File f = h5::open_store(path, kLayoutStoreFormat, kLayoutStoreVersion);
  LayoutStats s;
  s.name = h5::attr_string(f, "name");
  s.list = h5::attr_string(f, "list");
  s.list_sha256 = h5::attr_string(f, "list_sha256");
  s.labels = parse_label_kind(h5::attr_string(f, "labels"));
  s.frames = h5::attr_int(f, "frames");
  s.labeled_pixels = h5::attr_int(f, "labeled_pixels");
  s.unlabeled_pixels = h5::attr_int(f, "unlabeled_pixels");
  s.grid_h = static_cast<int>(h5::attr_int(f, "grid_h"));
  s.grid_w = static_cast<int>(h5::attr_int(f, "grid_w"));
  s.frame_sizes = h5::attr_string(f, "frame_sizes");
  std::vector<hsize_t> dims;
  s.class_pixels = h5::read<std::int64_t>(f, "/class_pixels", &dims);
  s.classes = static_cast<int>(s.class_pixels.size());
  s.class_images = h5::read<std::int64_t>(f, "/class_images");
  s.location = h5::read<float>(f, "/location", &dims);
  s.class_names = h5::read_strings(f, "/class_names");
  EPE_CHECK(s.class_images.size() == s.class_pixels.size() && s.class_names.size() == s.class_pixels.size() &&
                dims.size() == 3 && dims[0] == s.class_pixels.size() && dims[1] == hsize_t(s.grid_h) &&
                dims[2] == hsize_t(s.grid_w),
            "layout store '", path, "' is inconsistent (dataset shapes disagree with its grid and class count)");
  return s;
}

// ---- streaming over a list -------------------------------------------------------------------

namespace {

const std::string& label_field(const FileList& list, const ListRow& row, LabelKind kind) {
  if (kind == LabelKind::robust) {
    EPE_CHECK(row.fields.size() >= 2 && !row.fields[1].empty(),
              at_line(list.path, row.line, "no robust labels in this row (run `epe segment`, or use --labels gt)"));
    return row.fields[1];
  }
  EPE_CHECK(row.fields.size() >= 4 && !row.fields[3].empty(),
            at_line(list.path, row.line, "no GT labels in this row (--labels gt needs a synthetic list)"));
  return row.fields[3];
}

}  // namespace

cv::Mat read_row_labels(const FileList& list, const ListRow& row, LabelKind kind) {
  const std::string& path = label_field(list, row, kind);
  cv::Mat m;
  try {
    m = read_label_map(path, label_classes(kind) - 1, true,
                       kind == LabelKind::gt ? list.format.gt : list.format.robust);
    if (!row.image().empty()) {
      const auto hw = read_image_size(row.image());
      check_same_size(m, path, hw[0], hw[1], row.image());
    }
  } catch (const UserError& e) {
    throw UserError(at_line(list.path, row.line, e.what()));
  }
  return m;
}

LayoutStats accumulate_layout(const FileList& list, LabelKind kind, int grid_h, int grid_w, int threads,
                              Progress* progress) {
  const int C = label_classes(kind);
  const std::size_t n = list.rows.size();
  const std::size_t workers =
      std::max<std::size_t>(1, std::min<std::size_t>(n, threads > 0 ? std::size_t(threads) : hardware_threads()));
  // One accumulator per contiguous chunk of rows; each chunk stops at its first bad row, so the
  // error reported (the lowest chunk's) is the first bad row of the list.
  std::vector<LayoutAccumulator> acc;
  for (std::size_t w = 0; w < workers; ++w) acc.emplace_back(C, grid_h, grid_w);
  ThreadPool pool(workers);
  pool.parallel_for(workers, [&](std::size_t w) {
    for (std::size_t i = w * n / workers; i < (w + 1) * n / workers; ++i) {
      acc[w].add(read_row_labels(list, list.rows[i], kind));
      if (progress) progress->add(1);
    }
  });
  for (std::size_t w = 1; w < workers; ++w) acc[0].merge(acc[w]);
  LayoutStats s = LayoutStats::from(acc[0]);
  s.labels = kind;
  s.list = list.path;
  s.list_sha256 = sha256_file(list.path);
  s.class_names = label_class_names(kind);
  return s;
}

// ---- distances -------------------------------------------------------------------------------

double total_variation(const float* p, const float* q, std::size_t n) {
  // Both maps renormalised in double, so float32 storage does not leave sums of 1 - 1e-8.
  double sp = 0, sq = 0;
  for (std::size_t i = 0; i < n; ++i) {
    sp += p[i];
    sq += q[i];
  }
  if (sp <= 0 || sq <= 0) return sp <= 0 && sq <= 0 ? 0.0 : 1.0;
  double s = 0;
  for (std::size_t i = 0; i < n; ++i) s += std::abs(double(p[i]) / sp - double(q[i]) / sq);
  return std::clamp(0.5 * s, 0.0, 1.0);
}

namespace {
double js_terms(const double* p, const double* q, std::size_t n) {
  double s = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double m = 0.5 * (p[i] + q[i]);
    if (p[i] > 0) s += 0.5 * p[i] * std::log2(p[i] / m);
    if (q[i] > 0) s += 0.5 * q[i] * std::log2(q[i] / m);
  }
  return std::clamp(s, 0.0, 1.0);
}
}  // namespace

double js_divergence(const float* p, const float* q, std::size_t n) {
  std::vector<double> a(p, p + n), b(q, q + n);
  return js_divergence(a, b);
}

double js_divergence(const std::vector<double>& p, const std::vector<double>& q) {
  EPE_ASSERT(p.size() == q.size(), "js_divergence: sizes differ");
  double sp = 0, sq = 0;
  for (double v : p) sp += v;
  for (double v : q) sq += v;
  if (sp <= 0 || sq <= 0) return sp <= 0 && sq <= 0 ? 0.0 : 1.0;
  std::vector<double> a(p.size()), b(q.size());
  for (std::size_t i = 0; i < p.size(); ++i) {
    a[i] = p[i] / sp;
    b[i] = q[i] / sq;
  }
  return js_terms(a.data(), b.data(), a.size());
}

LayoutComparison compare_layouts(const LayoutStats& a, const LayoutStats& b) {
  EPE_CHECK(a.labels == b.labels, "the layouts use different labels (", to_string(a.labels), " and ",
            to_string(b.labels), ")");
  EPE_CHECK(a.classes == b.classes && a.grid_h == b.grid_h && a.grid_w == b.grid_w,
            "the layouts have different grids or class counts (", a.grid_h, "x", a.grid_w, " vs ", b.grid_h, "x",
            b.grid_w, ")");
  LayoutComparison r;
  const std::size_t cells = std::size_t(a.grid_h) * a.grid_w;
  for (int c = 0; c < a.classes; ++c) {
    const bool in_a = a.class_pixels[c] > 0, in_b = b.class_pixels[c] > 0;
    if (!in_a && !in_b) continue;
    ClassComparison k;
    k.id = c;
    k.name = c < static_cast<int>(a.class_names.size()) ? a.class_names[c] : "id" + std::to_string(c);
    k.share_a = a.share(c);
    k.share_b = b.share(c);
    k.image_share_a = a.image_share(c);
    k.image_share_b = b.image_share(c);
    if (in_a && in_b) {
      k.tv = total_variation(a.map(c), b.map(c), cells);
      k.js = js_divergence(a.map(c), b.map(c), cells);
    } else {
      k.tv = k.js = 1.0;
    }
    k.weight = 0.5 * (k.share_a + k.share_b);
    k.mismatch = k.weight * k.tv;
    r.overall_tv += k.mismatch;
    r.overall_js += k.weight * k.js;
    r.classes.push_back(k);
  }
  std::stable_sort(r.classes.begin(), r.classes.end(),
                   [](const ClassComparison& x, const ClassComparison& y) { return x.mismatch > y.mismatch; });
  return r;
}

}  // namespace epe
