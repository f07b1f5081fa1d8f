#pragma once
// A match store in the reference implementation's formats (filter.py, compute_weights.py):
//   matched_crops[_<name>].csv  header src_path,src_r0,src_r1,src_c0,src_c1,dst_path,dst_r0,dst_r1,dst_c0,dst_c1
//   crop_weights[_<name>].npz   key `w`, [m, 1] float64 (only when the store has weights)

#include <cstdint>
#include <string>
#include <vector>

#include "epe/crops/exchange.h"

namespace epe {

struct MatchExportResult {
  std::string csv, npz;  // npz empty when the store has no weights yet
  std::int64_t pairs = 0;
};
MatchExportResult export_matches_epe(const std::string& store, const std::string& out_dir, const std::string& name,
                                     bool force);

// `epe export`: a crop store (crops/exchange.h) or a match store, told apart by its format.
struct StoreExportOptions {
  std::string store;  // the store to export
  std::string out;    // output folder (created when missing)
  std::string name;   // name in the file names (crops default: the store's name; match default: none)
  ExchangeFormat format = ExchangeFormat::epe;
  bool force = false;  // overwrite existing files
};
struct StoreExportResult {
  std::string kind;                // "crops" | "match"
  std::int64_t rows = 0;           // crops or matched pairs
  std::vector<std::string> files;  // written
};
// UserError naming the store when it is neither a crop nor a match store.
StoreExportResult export_store(const StoreExportOptions& options);
void add_options(OptionSet& s, StoreExportOptions& o);
std::string format_summary(const StoreExportOptions& o, const StoreExportResult& r);

}  // namespace epe
