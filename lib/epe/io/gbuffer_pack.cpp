#include "epe/io/gbuffer_pack.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "epe/core/error.h"
#include "epe/core/options.h"
#include "epe/core/progress.h"
#include "epe/core/thread_pool.h"
#include "epe/core/timer.h"
#include "epe/io/classes.h"
#include "epe/io/file_list.h"
#include "epe/io/gbuffers.h"
#include "epe/io/image.h"
#include "epe/io/npz.h"

namespace fs = std::filesystem;

namespace epe {

namespace {

// OpenCV 4 reads OpenEXR only when OPENCV_IO_ENABLE_OPENEXR is set when its codecs are first
// registered (lazily, at the first imread/imdecode), so it is set here, at static
// initialisation, unless the user set it.
const bool kExrEnabled = [] {
  ::setenv("OPENCV_IO_ENABLE_OPENEXR", "1", 0);
  return true;
}();

std::string trim(const std::string& s) {
  const std::size_t a = s.find_first_not_of(" \t\r");
  if (a == std::string::npos) return "";
  return s.substr(a, s.find_last_not_of(" \t\r") - a + 1);
}

double parse_number(const std::string& path, long line, const std::string& key, const std::string& v) {
  char* end = nullptr;
  // "1/255" style fractions are accepted: scales of 8- and 16-bit buffers read better that way.
  double x = std::strtod(v.c_str(), &end);
  if (end != v.c_str() && *end == '/') {
    const char* d = end + 1;
    double y = std::strtod(d, &end);
    if (end != d && y != 0)
      x /= y;
    else
      end = const_cast<char*>(d - 1);
  }
  if (v.empty() || *end != 0 || !std::isfinite(x))
    throw UserError(at_line(path, line, cat("'", key, "' must be a number, not '", v, "'")));
  return x;
}

std::vector<int> parse_take(const std::string& path, long line, const std::string& v) {
  std::vector<int> out;
  for (const std::string& t : split_list(v)) {
    const std::string l = t;
    if (l == "r" || l == "R")
      out.push_back(0);
    else if (l == "g" || l == "G")
      out.push_back(1);
    else if (l == "b" || l == "B")
      out.push_back(2);
    else if (l == "a" || l == "A")
      out.push_back(3);
    else {
      char* end = nullptr;
      long i = std::strtol(l.c_str(), &end, 10);
      if (l.empty() || *end != 0 || i < 0 || i > 4095)
        throw UserError(
            at_line(path, line, cat("'take' lists channels as r, g, b, a or 0-based indices, not '", l, "'")));
      out.push_back(static_cast<int>(i));
    }
  }
  return out;
}

// Source channels as float planes, channel order R, G, B, A for images.
std::vector<cv::Mat> read_source(const std::string& file, const std::string& key, const std::string& buffer) {
  std::error_code ec;
  EPE_CHECK(fs::is_regular_file(file, ec), "buffer [", buffer, "]: file '", file, "' does not exist");
  std::string ext = fs::path(file).extension().string();
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::vector<cv::Mat> planes;
  if (ext == ".npz") {
    NpyArray a;
    if (key.empty()) {
      auto all = read_npz(file);
      if (all.count("data"))
        a = all.at("data");
      else {
        EPE_CHECK(all.size() == 1, "buffer [", buffer, "]: '", file, "' holds several arrays; name one with `key`");
        a = all.begin()->second;
      }
    } else {
      a = read_npz_array(file, key);
    }
    EPE_CHECK(a.shape.size() == 2 || a.shape.size() == 3, "buffer [", buffer, "]: array in '", file,
              "' must be H×W or H×W×C, has ", a.shape.size(), " dimensions");
    const int h = static_cast<int>(a.shape[0]), w = static_cast<int>(a.shape[1]);
    const int c = a.shape.size() == 3 ? static_cast<int>(a.shape[2]) : 1;
    const std::vector<float> v = a.to_float();
    for (int k = 0; k < c; ++k) {
      cv::Mat p(h, w, CV_32F);
      for (int i = 0; i < h * w; ++i) p.at<float>(i) = v[static_cast<std::size_t>(i) * c + k];
      planes.push_back(p);
    }
    return planes;
  }
  cv::Mat m;
  try {
    if (ext == ".exr") {
      m = cv::imread(file, cv::IMREAD_UNCHANGED);
    } else {
      const std::vector<std::uint8_t> bytes = read_image_bytes(file);
      m = cv::imdecode(bytes, cv::IMREAD_UNCHANGED);
    }
  } catch (const cv::Exception& e) {
    throw UserError(cat("buffer [", buffer, "]: '", file, "' cannot be decoded: ", e.what()));
  }
  EPE_CHECK(!m.empty(), "buffer [", buffer, "]: '", file, "' cannot be decoded",
            ext == ".exr" ? " (OpenEXR: is OPENCV_IO_ENABLE_OPENEXR set to 0?)" : "");
  cv::split(m, planes);
  if (planes.size() >= 3) std::swap(planes[0], planes[2]);  // OpenCV's BGR(A) -> RGB(A)
  for (auto& p : planes) p.convertTo(p, CV_32F);
  return planes;
}

std::string expand(const std::string& tmpl, const ListRow& row, const std::string& list_dir, const std::string& buffer,
                   const std::string& where) {
  const fs::path gb(row.gbuffers()), img(row.image());
  const std::string gstem = gb.filename().replace_extension().string();
  std::string id;
  if (const std::size_t d = gstem.rfind('-'); d != std::string::npos) id = gstem.substr(d + 1);
  std::string out;
  for (std::size_t i = 0; i < tmpl.size();) {
    if (tmpl[i] != '{') {
      out += tmpl[i++];
      continue;
    }
    const std::size_t e = tmpl.find('}', i);
    EPE_CHECK(e != std::string::npos, "buffer [", buffer, "]: unclosed '{' in its file template");
    const std::string field = tmpl.substr(i + 1, e - i - 1);
    std::string value;
    if (field == "gbuffers")
      value = row.gbuffers();
    else if (field == "gbuffers_stem")
      value = gstem;
    else if (field == "id")
      value = id;
    else if (field == "image_dir")
      value = img.parent_path().string();
    else if (field == "image_stem")
      value = img.stem().string();
    else
      throw UserError(cat("buffer [", buffer, "]: unknown template field {", field,
                          "} (known: gbuffers, gbuffers_stem, id, image_dir, image_stem)"));
    EPE_CHECK(!value.empty(), where, ": buffer [", buffer, "] needs {", field, "}, which is empty for this row",
              field.rfind("gbuffers", 0) == 0 || field == "id" ? " (the gbuffers column is empty)" : "");
    out += value;
    i = e + 1;
  }
  fs::path p(out);
  if (p.is_relative()) p = fs::path(list_dir) / p;
  return p.lexically_normal().string();
}

}  // namespace

int GBufferSpec::channels() const {
  int n = 0;
  for (auto& b : buffers) n += static_cast<int>(b.channels.size());
  return n;
}

GBufferSpec GBufferSpec::read(const std::string& spec) {
  std::error_code ec;
  std::string path = spec;
  if (!fs::is_regular_file(path, ec)) {
    const std::string shipped = data_dir() + "/gbuffers/" + spec + ".ini";
    EPE_CHECK(fs::is_regular_file(shipped, ec), "G-buffer spec '", spec, "' is neither a file nor a shipped spec (",
              data_dir(), "/gbuffers/*.ini)");
    path = shipped;
  }
  std::ifstream in(path);
  EPE_CHECK(in, "cannot read G-buffer spec '", path, "'");
  GBufferSpec s;
  s.path = path;
  std::string line;
  long n = 0;
  while (std::getline(in, line)) {
    ++n;
    const std::string t = trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    if (t[0] == '[') {
      EPE_CHECK(t.back() == ']' && t.size() > 2, at_line(path, n, "a section is written [name]"));
      GBufferSource b;
      b.name = trim(t.substr(1, t.size() - 2));
      b.line = n;
      for (auto& o : s.buffers)
        EPE_CHECK(o.name != b.name, at_line(path, n, cat("buffer [", b.name, "] is defined twice")));
      s.buffers.push_back(b);
      continue;
    }
    const std::size_t eq = t.find('=');
    EPE_CHECK(eq != std::string::npos, at_line(path, n, "expected key = value"));
    const std::string k = trim(t.substr(0, eq)), v = trim(t.substr(eq + 1));
    if (s.buffers.empty()) {
      EPE_CHECK(k == "description",
                at_line(path, n, cat("unknown key '", k, "' before the first [buffer] (known: description)")));
      s.description = v;
      continue;
    }
    GBufferSource& b = s.buffers.back();
    if (k == "file")
      b.file = v;
    else if (k == "key")
      b.key = v;
    else if (k == "take")
      b.take = parse_take(path, n, v);
    else if (k == "channels")
      b.channels = split_list(v);
    else if (k == "scale")
      b.scale = parse_number(path, n, k, v);
    else if (k == "offset")
      b.offset = parse_number(path, n, k, v);
    else if (k == "decode") {
      EPE_CHECK(v == "linear" || v == "carla-depth",
                at_line(path, n, cat("'decode' is linear or carla-depth, not '", v, "'")));
      b.decode = v;
    } else {
      throw UserError(
          at_line(path, n, cat("unknown key '", k, "' (known: file, key, take, channels, decode, scale, offset)")));
    }
  }
  EPE_CHECK(!s.buffers.empty(), "G-buffer spec '", path, "' defines no [buffer]");
  std::vector<std::string> all;
  for (auto& b : s.buffers) {
    EPE_CHECK(!b.file.empty(), at_line(path, b.line, cat("buffer [", b.name, "] has no `file`")));
    EPE_CHECK(!b.channels.empty(), at_line(path, b.line, cat("buffer [", b.name, "] has no `channels`")));
    if (b.decode == "carla-depth") {
      if (b.take.empty()) b.take = {0, 1, 2};
      EPE_CHECK(b.take.size() == 3 && b.channels.size() == 1,
                at_line(path, b.line, cat("buffer [", b.name, "]: carla-depth takes 3 channels (r, g, b) into 1")));
    } else {
      EPE_CHECK(b.take.empty() || b.take.size() == b.channels.size(),
                at_line(path, b.line,
                        cat("buffer [", b.name, "]: `take` lists ", b.take.size(), " channels but `channels` names ",
                            b.channels.size())));
    }
    for (auto& c : b.channels) {
      for (auto& o : all) EPE_CHECK(o != c, at_line(path, b.line, cat("channel name '", c, "' is used twice")));
      all.push_back(c);
    }
  }
  return s;
}

void PackOptions::check() const {
  EPE_CHECK(!list.empty(), "option --list is required");
  EPE_CHECK(!spec.empty(), "option --spec is required");
  EPE_CHECK(!out.empty(), "option --out is required");
  EPE_CHECK(!(resume && force), "options --resume and --force exclude each other");
  EPE_CHECK(threads >= 0, "option --threads must be >= 0");
}

PackResult pack_gbuffers(const PackOptions& o, Progress* progress) {
  (void)kExrEnabled;
  o.check();
  const Timer t0;
  const GBufferSpec spec = GBufferSpec::read(o.spec);
  const FileList list = read_file_list(o.list, DatasetKind::synthetic);
  std::error_code ec;
  EPE_CHECK(!fs::exists(o.out, ec) || fs::is_directory(o.out, ec), "option --out: '", o.out, "' is a file");
  EPE_CHECK(!fs::exists(o.out, ec) || fs::is_empty(o.out, ec) || o.resume || o.force, "'", o.out,
            "' exists; pass --resume to continue it or --force to repack every frame");
  fs::create_directories(fs::path(o.out) / "gbuffers", ec);
  EPE_CHECK(!ec, "cannot create '", o.out, "/gbuffers': ", ec.message());
  const std::string list_dir = fs::path(list.path).parent_path().string();

  PackResult r;
  r.frames = static_cast<std::int64_t>(list.rows.size());
  r.channels = spec.channels();
  for (auto& b : spec.buffers) r.names.insert(r.names.end(), b.channels.begin(), b.channels.end());
  std::vector<std::string> outputs(list.rows.size());
  for (std::size_t i = 0; i < list.rows.size(); ++i) {
    char prefix[32];
    std::snprintf(prefix, sizeof prefix, "%06zu_", i);
    outputs[i] =
        (fs::path(o.out) / "gbuffers" / (prefix + fs::path(list.rows[i].image()).stem().string() + ".h5")).string();
  }
  if (progress) progress->set_total(r.frames);
  std::mutex mu;
  std::string err;
  std::size_t err_row = SIZE_MAX;
  ThreadPool pool(o.threads > 0 ? std::size_t(o.threads) : 0);
  pool.parallel_for(list.rows.size(), [&](std::size_t i) {
    const ListRow& row = list.rows[i];
    const std::string where = at_line(list.path, row.line, "");
    try {
      if (o.resume && fs::exists(outputs[i])) {
        const GBufferHeader h = probe_gbuffers(outputs[i]);
        EPE_CHECK(h.names == r.names, "'", outputs[i], "' was packed with another spec; use --force");
        std::lock_guard<std::mutex> lock(mu);
        ++r.kept;
      } else {
        const auto hw = read_image_size(row.image());
        GBuffers g;
        g.height = hw[0];
        g.width = hw[1];
        g.channels = r.channels;
        g.names = r.names;
        g.data.assign(static_cast<std::size_t>(g.height) * g.width * g.channels, 0.f);
        int c0 = 0;
        for (const GBufferSource& b : spec.buffers) {
          const std::string file = expand(b.file, row, list_dir, b.name, where.substr(0, where.size() - 2));
          std::vector<cv::Mat> planes = read_source(file, b.key, b.name);
          EPE_CHECK(planes[0].rows == g.height && planes[0].cols == g.width, "buffer [", b.name, "]: '", file, "' is ",
                    planes[0].rows, "x", planes[0].cols, " (HxW) but image '", row.image(), "' is ", g.height, "x",
                    g.width);
          std::vector<int> take = b.take;
          if (take.empty())
            for (int k = 0; k < static_cast<int>(b.channels.size()); ++k) take.push_back(k);
          for (int t : take)
            EPE_CHECK(t < static_cast<int>(planes.size()), "buffer [", b.name, "]: '", file, "' has ", planes.size(),
                      " channel(s), the spec takes channel ", t);
          EPE_CHECK(b.decode == "carla-depth" || b.take.size() > 0 || planes.size() == b.channels.size(), "buffer [",
                    b.name, "]: '", file, "' has ", planes.size(), " channel(s) but the spec names ", b.channels.size(),
                    " (say which with `take`)");
          const std::size_t n = static_cast<std::size_t>(g.height) * g.width;
          auto put = [&](int out_c, const std::function<double(std::size_t)>& value) {
            for (std::size_t p = 0; p < n; ++p) {
              const double v = value(p) * b.scale + b.offset;
              EPE_CHECK(std::isfinite(v), "buffer [", b.name, "]: '", file, "' has a non-finite value at (row ",
                        p / g.width, ", col ", p % g.width, ")");
              g.data[p * g.channels + out_c] = static_cast<float>(v);
            }
          };
          if (b.decode == "carla-depth") {
            const float *R = planes[take[0]].ptr<float>(), *G = planes[take[1]].ptr<float>(),
                        *B = planes[take[2]].ptr<float>();
            put(c0, [&](std::size_t p) { return (R[p] + 256.0 * G[p] + 65536.0 * B[p]) / 16777215.0; });
            c0 += 1;
          } else {
            for (std::size_t k = 0; k < take.size(); ++k) {
              const float* P = planes[take[k]].ptr<float>();
              put(c0 + static_cast<int>(k), [&](std::size_t p) { return double(P[p]); });
            }
            c0 += static_cast<int>(take.size());
          }
        }
        write_gbuffers(outputs[i], g);
        std::lock_guard<std::mutex> lock(mu);
        ++r.packed;
      }
    } catch (const UserError& e) {
      std::lock_guard<std::mutex> lock(mu);
      if (i < err_row) err_row = i, err = at_line(list.path, row.line, e.what());
    }
    if (progress) progress->add(1);
  });
  if (!err.empty()) throw UserError(err);
  std::vector<std::vector<std::string>> rows;
  for (std::size_t i = 0; i < list.rows.size(); ++i) {
    std::vector<std::string> f = list.rows[i].fields;
    for (auto& x : f)
      if (!x.empty()) x = fs::absolute(x).lexically_normal().string();
    f[2] = fs::absolute(outputs[i]).lexically_normal().string();
    rows.push_back(f);
  }
  r.list_out = (fs::path(o.out) / (fs::path(o.list).stem().string() + ".csv")).string();
  ListFormat format = list.format;
  format.notes.erase(
      std::remove_if(format.notes.begin(), format.notes.end(), [](const auto& kv) { return kv.first == "source"; }),
      format.notes.end());
  format.notes.emplace_back("source", "epe gbuffers pack --spec " + fs::path(spec.path).filename().string());
  write_file_list(r.list_out, rows, format);
  r.seconds = t0.seconds();
  return r;
}

}  // namespace epe
