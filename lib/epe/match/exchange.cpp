#include "epe/match/exchange.h"

#include <filesystem>

#include "epe/core/atomic_file.h"
#include "epe/core/error.h"
#include "epe/core/log.h"
#include "epe/core/stage_options.h"
#include "epe/crops/crop_store.h"
#include "epe/io/h5.h"
#include "epe/io/npz.h"
#include "epe/match/match_store.h"

namespace fs = std::filesystem;

namespace epe {

MatchExportResult export_matches_epe(const std::string& store, const std::string& out_dir, const std::string& name,
                                     bool force) {
  MatchStore m = MatchStore::open(store);
  std::error_code ec;
  ensure_output_dir(out_dir);
  const std::string suffix = name.empty() ? "" : "_" + name;
  MatchExportResult r;
  r.csv = (fs::path(out_dir) / ("matched_crops" + suffix + ".csv")).string();
  check_output_path(r.csv, force);
  if (!m.weight.empty()) {
    r.npz = (fs::path(out_dir) / ("crop_weights" + suffix + ".npz")).string();
    check_output_path(r.npz, force);
  } else {
    log_warn("'", store, "' has no sampling weights yet (run epe weights); writing the pairs only");
  }
  CropStore src(m.src_path()), dst(m.dst_path());
  m.check_crop_stores(src, &dst);
  std::string csv = "src_path,src_r0,src_r1,src_c0,src_c1,dst_path,dst_r0,dst_r1,dst_c0,dst_c1\n";
  for (std::size_t i = 0; i < m.pair_src.size(); ++i) {
    const CropBox& a = src.boxes()[m.pair_src[i]];
    const CropBox& b = dst.boxes()[m.pair_dst[i]];
    csv += cat(src.image_paths()[a.image], ",", a.r0, ",", a.r1, ",", a.c0, ",", a.c1, ",", dst.image_paths()[b.image],
               ",", b.r0, ",", b.r1, ",", b.c0, ",", b.c1, "\n");
  }
  // The CSV is staged first, so that a failure leaves neither file.
  AtomicFile csv_file(r.csv);
  csv_file.write(csv);
  if (!r.npz.empty()) write_npz(r.npz, {{"w", NpyArray::from_double(m.weight, {m.weight.size(), 1})}}, true);
  csv_file.commit();
  r.pairs = static_cast<std::int64_t>(m.pair_src.size());
  return r;
}

StoreExportResult export_store(const StoreExportOptions& o) {
  const std::string kind = [&] {
    H5::H5File f = h5::open_file(o.store);
    return h5::read_format(f).name;
  }();
  EPE_CHECK(kind == kCropStoreFormat || kind == kMatchStoreFormat, "'", o.store, "' is ",
            kind.empty() ? "not an epe store" : "a '" + kind + "' store", "; epe export handles crop and match stores");
  StoreExportResult r;
  r.kind = kind;
  if (kind == kMatchStoreFormat) {
    const MatchExportResult m = export_matches_epe(o.store, o.out, o.name, o.force);
    r.rows = m.pairs;
    r.files = {m.csv};
    if (!m.npz.empty()) r.files.push_back(m.npz);
  } else {
    const CropExportResult c = export_crops_epe(o.store, o.out, o.name, o.force);
    r.rows = c.crops;
    r.files = {c.csv, c.npz};
  }
  return r;
}

void add_options(OptionSet& s, StoreExportOptions& o) {
  s.add("store", &o.store, "store to export").required().positional();
  s.add("format", &o.format, "target format (epe: the reference implementation)", exchange_formats());
  add_out_option(s, &o.out, "output folder (created when missing)");
  s.add("name", &o.name, "name in the file names (crops default: the store's name; match default: none)");
  add_force_option(s, &o.force, "overwrite existing files");
}

std::string format_summary(const StoreExportOptions&, const StoreExportResult& r) {
  std::string s = cat("export: ", r.rows, r.kind == kMatchStoreFormat ? " matched pairs\n" : " crops\n");
  for (const std::string& f : r.files) s += "  " + f + "\n";
  return s;
}

}  // namespace epe
