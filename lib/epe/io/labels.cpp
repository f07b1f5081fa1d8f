#include "epe/io/labels.h"

#include <png.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "epe/core/error.h"
#include "epe/core/options.h"
#include "epe/io/classes.h"
#include "epe/io/image.h"

namespace fs = std::filesystem;

namespace epe {

std::string LabelFormat::describe() const {
  std::string s = colors.empty() ? "ids" : "colors=" + fs::path(colors).stem().string();
  if (channel >= 0) s += cat(" channel=", "rgb"[channel]);
  if (!remap.empty()) s += " remap=" + fs::path(remap).stem().string();
  return s;
}

std::string resolve_label_table(const std::string& spec, const std::string& what, const std::string& base_dir) {
  std::error_code ec;
  EPE_CHECK(!spec.empty(), what, ": empty table name");
  fs::path p(spec);
  if (p.is_relative() && !base_dir.empty() && fs::is_regular_file(fs::path(base_dir) / p, ec))
    return (fs::path(base_dir) / p).lexically_normal().string();
  if (fs::is_regular_file(p, ec)) return fs::absolute(p).lexically_normal().string();
  const std::string d = data_dir();
  for (const std::string& c : {d + "/labels/" + spec + ".tsv", d + "/labels/" + spec + "_colors.tsv",
                               d + "/mseg/" + spec + ".tsv", d + "/materials/" + spec + ".tsv"})
    if (fs::is_regular_file(c, ec)) return c;
  std::vector<std::string> shipped;
  for (const char* sub : {"labels", "mseg", "materials"})
    for (auto& e : fs::directory_iterator(d + "/" + sub, ec))
      if (e.path().extension() == ".tsv") shipped.push_back(e.path().stem().string());
  std::sort(shipped.begin(), shipped.end());
  throw UserError(
      cat(what, " '", spec, "' is neither a file nor a shipped table (shipped: ", join(shipped, ", "), ")"));
}

namespace {

int table_int(const std::string& path, long line, const std::string& s, const char* column, int lo, int hi) {
  char* end = nullptr;
  long v = std::strtol(s.c_str(), &end, 10);
  if (s.empty() || *end != 0 || v < lo || v > hi)
    throw UserError(at_line(path, line, cat(column, " '", s, "' is not an integer in ", lo, "..", hi)));
  return static_cast<int>(v);
}

std::string rgb_text(std::uint32_t c) {
  return cat("(", c >> 16, ", ", (c >> 8) & 255, ", ", c & 255, ")");
}

// ---- libpng decoding (from memory, raw sample values: palette indices stay indices) ----
// libpng reports errors by longjmp; every step that can fail runs in its own function whose
// locals are trivial, and the message is kept in the reader.
struct PngReader {
  const std::uint8_t* data = nullptr;
  std::size_t size = 0, pos = 0;
  png_structp png = nullptr;
  png_infop info = nullptr;
  char error[256] = {0};
  ~PngReader() {
    if (png) png_destroy_read_struct(&png, info ? &info : nullptr, nullptr);
  }
};

void png_error_fn(png_structp p, png_const_charp msg) {
  auto* r = static_cast<PngReader*>(png_get_error_ptr(p));
  std::snprintf(r->error, sizeof r->error, "%s", msg);
  png_longjmp(p, 1);
}
void png_warning_fn(png_structp, png_const_charp) {}
void png_read_fn(png_structp p, png_bytep out, png_size_t n) {
  auto* r = static_cast<PngReader*>(png_get_io_ptr(p));
  if (n > r->size - r->pos) png_error(p, "the file ends early");
  std::memcpy(out, r->data + r->pos, n);
  r->pos += n;
}

bool png_header(PngReader& r, png_uint_32* w, png_uint_32* h, int* depth, int* type) {
  if (setjmp(png_jmpbuf(r.png))) return false;
  png_set_read_fn(r.png, &r, png_read_fn);
  png_read_info(r.png, r.info);
  int interlace = 0, compression = 0, filter = 0;
  png_get_IHDR(r.png, r.info, w, h, depth, type, &interlace, &compression, &filter);
  if (*depth < 8) png_set_packing(r.png);  // one byte per sample, values unscaled
  if (*depth == 16) png_set_swap(r.png);   // host (little-endian) order
  png_set_interlace_handling(r.png);
  png_read_update_info(r.png, r.info);
  return true;
}

bool png_rows(PngReader& r, png_bytep* rows) {
  if (setjmp(png_jmpbuf(r.png))) return false;
  png_read_image(r.png, rows);
  png_read_end(r.png, nullptr);
  return true;
}

// Decodes a PNG to its raw samples: CV_8UC1 (gray, palette), CV_16UC1, CV_8UC2/3/4, CV_16UC3/4.
cv::Mat decode_png(const std::string& path, const std::vector<std::uint8_t>& bytes, int* color_type) {
  PngReader r;
  r.data = bytes.data();
  r.size = bytes.size();
  r.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &r, png_error_fn, png_warning_fn);
  EPE_ASSERT(r.png, "png_create_read_struct failed");
  r.info = png_create_info_struct(r.png);
  EPE_ASSERT(r.info, "png_create_info_struct failed");
  png_uint_32 w = 0, h = 0;
  int depth = 0;
  if (!png_header(r, &w, &h, &depth, color_type))
    throw UserError(cat("label map '", path, "' cannot be decoded: ", r.error));
  EPE_CHECK(w > 0 && h > 0 && w < (1u << 20) && h < (1u << 20), "label map '", path, "' has an unsupported size ", h,
            "x", w);
  const int channels = png_get_channels(r.png, r.info);
  const int cv_depth = depth == 16 ? CV_16U : CV_8U;
  cv::Mat m(static_cast<int>(h), static_cast<int>(w), CV_MAKETYPE(cv_depth, channels));
  EPE_ASSERT(png_get_rowbytes(r.png, r.info) == m.step[0], "PNG row size ", png_get_rowbytes(r.png, r.info), " vs ",
             m.step[0]);
  std::vector<png_bytep> rows(h);
  for (png_uint_32 i = 0; i < h; ++i) rows[i] = m.ptr<png_byte>(static_cast<int>(i));
  if (!png_rows(r, rows.data())) throw UserError(cat("label map '", path, "' cannot be decoded: ", r.error));
  return m;
}

const char* png_type_name(int type) {
  switch (type) {
    case PNG_COLOR_TYPE_GRAY:
      return "gray";
    case PNG_COLOR_TYPE_PALETTE:
      return "palette";
    case PNG_COLOR_TYPE_RGB:
      return "RGB";
    case PNG_COLOR_TYPE_RGB_ALPHA:
      return "RGBA";
    case PNG_COLOR_TYPE_GRAY_ALPHA:
      return "gray+alpha";
    default:
      return "unknown";
  }
}

// 16-bit ids -> 8-bit; UserError on the first id above 255.
cv::Mat narrow_ids(const std::string& path, const cv::Mat& m16) {
  cv::Mat out(m16.size(), CV_8UC1);
  for (int r = 0; r < m16.rows; ++r) {
    const auto* p = m16.ptr<std::uint16_t>(r);
    auto* o = out.ptr<std::uint8_t>(r);
    for (int c = 0; c < m16.cols; ++c) {
      EPE_CHECK(p[c] <= 255, "label map '", path, "' is a 16-bit PNG with id ", p[c], " at (row ", r, ", col ", c,
                "); label ids must be 0..255");
      o[c] = static_cast<std::uint8_t>(p[c]);
    }
  }
  return out;
}

// RGB(A) 8-bit samples (R, G, B order) -> ids through the colour table.
cv::Mat colors_to_ids(const std::string& path, const cv::Mat& rgb, const ColorTable& table) {
  cv::Mat out(rgb.size(), CV_8UC1);
  const int ch = rgb.channels();
  std::uint32_t last = 0xFFFFFFFFu;
  int last_id = -1;
  for (int r = 0; r < rgb.rows; ++r) {
    const auto* p = rgb.ptr<std::uint8_t>(r);
    auto* o = out.ptr<std::uint8_t>(r);
    for (int c = 0; c < rgb.cols; ++c, p += ch) {
      const std::uint32_t v = (std::uint32_t(p[0]) << 16) | (std::uint32_t(p[1]) << 8) | p[2];
      if (v != last) {
        last = v;
        last_id = table.find(v);
        EPE_CHECK(last_id != -2, "label map '", path, "' has colour ", rgb_text(v), " at (row ", r, ", col ", c,
                  "), which the colour table '", table.path,
                  "' gives to more than one class; read the dataset's original (palette) label maps instead");
        EPE_CHECK(last_id >= 0, "label map '", path, "' has colour ", rgb_text(v), " at (row ", r, ", col ", c,
                  "), which is not in the colour table '", table.path, "'");
      }
      o[c] = static_cast<std::uint8_t>(last_id);
    }
  }
  return out;
}

// An RGB map whose channels are equal everywhere is a gray map saved as colour.
bool gray_as_rgb(const cv::Mat& rgb, std::uint32_t* first_color, int* fr, int* fc) {
  const int ch = rgb.channels();
  for (int r = 0; r < rgb.rows; ++r) {
    const auto* p = rgb.ptr<std::uint8_t>(r);
    for (int c = 0; c < rgb.cols; ++c, p += ch)
      if (p[0] != p[1] || p[1] != p[2]) {
        *first_color = (std::uint32_t(p[0]) << 16) | (std::uint32_t(p[1]) << 8) | p[2];
        *fr = r;
        *fc = c;
        return false;
      }
  }
  return true;
}

cv::Mat decode_ids(const std::string& path, const LabelFormat& format) {
  std::vector<std::uint8_t> bytes = read_image_bytes(path);
  const bool png = bytes.size() >= 8 && bytes[1] == 'P' && bytes[2] == 'N' && bytes[3] == 'G';
  int type = -1;
  cv::Mat m;
  if (png) {
    m = decode_png(path, bytes, &type);
  } else {
    try {
      m = cv::imdecode(bytes, cv::IMREAD_UNCHANGED);
    } catch (const cv::Exception& e) {
      throw UserError(cat("label map '", path, "' cannot be decoded: ", e.what()));
    }
    EPE_CHECK(!m.empty(), "label map '", path, "' cannot be decoded (damaged data)");
    if (m.type() == CV_8UC3) cv::cvtColor(m, m, cv::COLOR_BGR2RGB);
  }
  const std::string found =
      png ? cat(png_type_name(type), " PNG of ", m.depth() == CV_16U ? 16 : 8, "-bit samples")
          : cat("non-PNG image with ", m.channels(), " channel(s) of ", m.depth() == CV_16U ? 16 : 8, " bits");
  if (m.type() == CV_8UC1) return m;
  if (m.type() == CV_16UC1) return narrow_ids(path, m);
  if (m.type() == CV_8UC3 || (m.type() == CV_8UC4 && png)) {
    if (format.channel >= 0) {
      cv::Mat g;
      cv::extractChannel(m, g, format.channel);
      return g;
    }
    if (!format.colors.empty()) return colors_to_ids(path, m, ColorTable::load(format.colors));
    std::uint32_t color = 0;
    int r = 0, c = 0;
    if (gray_as_rgb(m, &color, &r, &c)) {
      cv::Mat g;
      cv::extractChannel(m, g, 0);
      return g;
    }
    throw UserError(cat(
        "label map '", path, "' is a colour-coded ", found, " (colour ", rgb_text(color), " at (row ", r, ", col ", c,
        ")) and no colour table was given: build the list with `epe lists` for the dataset, or add "
        "a line `# epe: gt_colors = TABLE` (or robust_colors) to the list (data/README.md, label maps)"));
  }
  throw UserError(cat("label map '", path, "' is a ", found,
                      ", which is not a label encoding epe reads (gray, palette or 16-bit gray PNG, or a colour PNG "
                      "with a colour table)"));
}

}  // namespace

int ColorTable::find(std::uint32_t rgb) const {
  auto it = std::lower_bound(colors.begin(), colors.end(), std::make_pair(rgb, std::numeric_limits<int>::min()));
  return it != colors.end() && it->first == rgb ? it->second : -1;
}

const ColorTable& ColorTable::load(const std::string& spec) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<ColorTable>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = cache[spec];
  if (slot) return *slot;
  const std::string path = resolve_label_table(spec, "colour table");
  auto t = std::make_unique<ColorTable>();
  t->path = path;
  std::map<std::uint32_t, std::size_t> seen;  // colour -> its entry
  for (const TableRow& row : read_tsv_table(path, 5)) {
    const long line = row.line;
    const std::vector<std::string>& f = row.fields;
    const int id = table_int(path, line, f[0], "id", 0, 255);
    std::uint32_t v = 0;
    for (int k = 0; k < 3; ++k) v = (v << 8) | table_int(path, line, f[2 + k], "colour value", 0, 255);
    auto [it, fresh] = seen.emplace(v, t->colors.size());
    if (fresh)
      t->colors.emplace_back(v, id);
    else if (t->colors[it->second].second != id)
      t->colors[it->second].second = -2;
    if (t->names.size() <= static_cast<std::size_t>(id)) t->names.resize(id + 1);
    t->names[id] = f[1];
  }
  EPE_CHECK(!t->colors.empty(), "colour table '", path, "' lists no colour");
  std::sort(t->colors.begin(), t->colors.end());
  slot = std::move(t);
  return *slot;
}

const std::vector<int>& load_id_table(const std::string& spec) {
  static std::mutex mu;
  static std::map<std::string, std::vector<int>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(spec);
  if (it != cache.end()) return it->second;
  const std::string path = resolve_label_table(spec, "id table");
  std::vector<int> lut(256, kIgnoreLabel);
  for (const TableRow& row : read_tsv_table(path, 3))
    lut[table_int(path, row.line, row.fields[0], "source id", 0, 255)] =
        table_int(path, row.line, row.fields[2], "target id", 0, 255);
  return cache.emplace(spec, std::move(lut)).first->second;
}

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

cv::Mat read_label_map(const std::string& path, int max_id, bool allow_unlabeled, const LabelFormat& format) {
  cv::Mat m = decode_ids(path, format);
  if (!format.remap.empty()) {
    const std::vector<int>& lut = load_id_table(format.remap);
    cv::Mat table(1, 256, CV_8UC1);
    for (int i = 0; i < 256; ++i) table.at<std::uint8_t>(i) = static_cast<std::uint8_t>(lut[i]);
    cv::LUT(m, table, m);
  }
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
