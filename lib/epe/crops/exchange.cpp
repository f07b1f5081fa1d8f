#include "epe/crops/exchange.h"

#include <array>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <tuple>

#include "epe/core/atomic_file.h"
#include "epe/core/error.h"
#include "epe/core/options.h"
#include "epe/core/sha256.h"
#include "epe/crops/crop_store.h"
#include "epe/io/file_list.h"
#include "epe/io/image.h"
#include "epe/io/npz.h"

namespace fs = std::filesystem;

namespace epe {

namespace {

std::string trim(const std::string& s) {
  std::size_t a = s.find_first_not_of(" \t\r\n");
  if (a == std::string::npos) return "";
  return s.substr(a, s.find_last_not_of(" \t\r\n") - a + 1);
}

bool parse_int(const std::string& s, long long* v) {
  if (s.empty()) return false;
  std::size_t used = 0;
  try {
    *v = std::stoll(s, &used);
  } catch (...) {
    return false;
  }
  return used == s.size();
}

}  // namespace

CropExportResult export_crops_epe(const std::string& store_path, const std::string& out_dir, const std::string& name,
                                  bool force) {
  CropStore store(store_path);
  std::error_code ec;
  ensure_output_dir(out_dir);
  const std::string n = name.empty() ? store.meta().name : name;
  EPE_CHECK(!n.empty() && n.find('/') == std::string::npos, "option --name: '", n, "' is not a usable file name");
  CropExportResult r;
  r.csv = (fs::path(out_dir) / ("crop_" + n + ".csv")).string();
  r.npz = (fs::path(out_dir) / ("crop_" + n + ".npz")).string();
  check_output_path(r.csv, force);
  check_output_path(r.npz, force);
  r.crops = store.size();

  std::string csv = "id,path,r0,r1,c0,c1\n";
  for (std::int64_t i = 0; i < store.size(); ++i) {
    const CropBox& b = store.boxes()[i];
    const std::string& p = store.image_paths()[b.image];
    EPE_CHECK(p.find(',') == std::string::npos && p.find('\n') == std::string::npos, "'", store_path, "': image path '",
              p, "' contains a comma or newline and cannot be written to the reference's CSV");
    csv += cat(i, ",", p, ",", b.r0, ",", b.r1, ",", b.c0, ",", b.c1, "\n");
  }
  NpyArray a;
  a.dtype = "<f2";
  a.shape = {static_cast<std::size_t>(store.size()), static_cast<std::size_t>(store.dim())};
  a.data.resize(a.shape[0] * a.shape[1] * 2);
  const std::int64_t block = 16384;
  for (std::int64_t b = 0; b < store.size(); b += block) {
    std::vector<std::uint16_t> v = store.features_f16(b, std::min(block, store.size() - b));
    std::memcpy(a.data.data() + static_cast<std::size_t>(b) * store.dim() * 2, v.data(), v.size() * 2);
  }
  // The CSV is staged first, so that a failure leaves neither file.
  AtomicFile csv_file(r.csv);
  csv_file.write(csv);
  write_npz(r.npz, {{"crops", a}}, /*compress=*/true);
  csv_file.commit();
  return r;
}

void CropImportOptions::check() const {
  EPE_CHECK(!csv.empty(), "option --csv is required");
  EPE_CHECK(!npz.empty(), "option --npz is required");
  EPE_CHECK(!out.empty(), "option --out is required");
}

CropImportResult import_crops_epe(const CropImportOptions& o) {
  o.check();
  check_output_path(o.out, o.force);
  int fixed_h = 0, fixed_w = 0;
  if (!o.image_size.empty()) {
    std::tie(fixed_h, fixed_w) = parse_hw(o.image_size, "--image-size");
  }

  // CSV rows.
  std::ifstream in(o.csv, std::ios::binary);
  EPE_CHECK(in, "cannot read '", o.csv, "'");
  std::vector<std::string> image_paths;
  std::map<std::string, std::int32_t> image_id;
  std::vector<CropBox> boxes;
  std::vector<long long> ids;
  std::string line;
  long n = 0;
  while (std::getline(in, line)) {
    ++n;
    const std::string t = trim(line);
    if (t.empty()) continue;
    if (n == 1 && t.rfind("id,", 0) == 0) {
      EPE_CHECK(t == "id,path,r0,r1,c0,c1", at_line(o.csv, n, "expected the header id,path,r0,r1,c0,c1"));
      continue;
    }
    const std::vector<std::string> f = split_csv_fields(t);
    EPE_CHECK(f.size() == 6, at_line(o.csv, n, cat("expected 6 columns (id,path,r0,r1,c0,c1), found ", f.size())));
    long long v[5];
    for (int k = 0; k < 5; ++k)
      EPE_CHECK(parse_int(f[k == 0 ? 0 : k + 1], &v[k]),
                at_line(o.csv, n, cat("'", f[k == 0 ? 0 : k + 1], "' is not an integer")));
    EPE_CHECK(!f[1].empty(), at_line(o.csv, n, "empty path"));
    auto it = image_id.find(f[1]);
    if (it == image_id.end()) {
      it = image_id.emplace(f[1], static_cast<std::int32_t>(image_paths.size())).first;
      image_paths.push_back(f[1]);
    }
    CropBox b{it->second, static_cast<std::int32_t>(v[1]), static_cast<std::int32_t>(v[2]),
              static_cast<std::int32_t>(v[3]), static_cast<std::int32_t>(v[4])};
    EPE_CHECK(
        b.r0 >= 0 && b.r1 > b.r0 && b.c0 >= 0 && b.c1 > b.c0,
        at_line(o.csv, n, cat("box r0,r1,c0,c1 = ", b.r0, ",", b.r1, ",", b.c0, ",", b.c1, " is empty or negative")));
    boxes.push_back(b);
    ids.push_back(v[0]);
  }
  EPE_CHECK(!boxes.empty(), "'", o.csv, "' has no crops");
  // Row i of the .npz is crop id i: order the boxes by id (the reference writes them in order).
  {
    std::vector<CropBox> by_id(boxes.size());
    std::vector<bool> seen(boxes.size(), false);
    for (std::size_t i = 0; i < boxes.size(); ++i) {
      EPE_CHECK(ids[i] >= 0 && ids[i] < static_cast<long long>(boxes.size()) && !seen[ids[i]], "'", o.csv,
                "': the id column must hold each of 0..", boxes.size() - 1, " once (row ", i + 1, " has ", ids[i], ")");
      seen[ids[i]] = true;
      by_id[ids[i]] = boxes[i];
    }
    boxes.swap(by_id);
  }

  NpyArray a = read_npz_array(o.npz, "crops");
  EPE_CHECK(a.shape.size() == 2 && a.shape[0] == boxes.size(), "'", o.npz, "': key 'crops' has shape ",
            a.shape.size() == 2 ? cat(a.shape[0], "x", a.shape[1]) : cat(a.shape.size(), "-D"), ", expected ",
            boxes.size(), " rows (one per CSV row)");
  std::vector<float> feat = a.to_float();
  for (std::size_t i = 0; i < feat.size(); ++i)
    EPE_CHECK(std::isfinite(feat[i]), "'", o.npz, "': crop ", i / a.shape[1], " has a non-finite feature");

  // Frame sizes.
  std::vector<std::array<int, 2>> sizes(image_paths.size(), {fixed_h, fixed_w});
  if (!fixed_h) {
    for (std::size_t i = 0; i < image_paths.size(); ++i) {
      std::error_code ec;
      EPE_CHECK(fs::exists(image_paths[i], ec), "'", o.csv, "' names frame '", image_paths[i],
                "', which does not exist here; pass --image-size HxW (the reference's frames all have one size)");
      cv::Mat m = read_image_u8(image_paths[i]);
      sizes[i] = {m.rows, m.cols};
    }
  }
  for (const CropBox& b : boxes) {
    const auto& s = sizes[b.image];
    EPE_CHECK(b.r1 <= s[0] && b.c1 <= s[1], "'", o.csv, "': box r0,r1,c0,c1 = ", b.r0, ",", b.r1, ",", b.c0, ",", b.c1,
              " of '", image_paths[b.image], "' lies outside its ", s[0], "x", s[1], " frame");
  }

  CropStoreMeta meta;
  meta.name = o.name;
  if (meta.name.empty()) {
    meta.name = fs::path(o.csv).stem().string();
    if (meta.name.rfind("crop_", 0) == 0) meta.name = meta.name.substr(5);
  }
  meta.mode = "imported";
  meta.norm = "unknown";
  meta.norm_mean = {0, 0, 0};
  meta.norm_std = {0, 0, 0};
  meta.crop_size = boxes[0].r1 - boxes[0].r0;
  meta.dim = static_cast<int>(a.shape[1]);
  meta.weights = cat("imported from ", fs::path(o.npz).filename().string(), " sha256:", sha256_file(o.npz));
  AtomicFile out(o.out);
  {
    CropStoreWriter w(out.temp_path(), meta, o.command, o.options_ini);
    for (std::size_t i = 0; i < image_paths.size(); ++i) w.add_image(image_paths[i], sizes[i][0], sizes[i][1]);
    w.commit(0, 0);
    w.add_crops(boxes.data(), feat.data(), static_cast<std::int64_t>(boxes.size()));
    w.commit(static_cast<std::int64_t>(image_paths.size()), 0);
    w.finish();
  }
  out.commit();
  return {static_cast<std::int64_t>(boxes.size()), static_cast<std::int64_t>(image_paths.size())};
}

}  // namespace epe
