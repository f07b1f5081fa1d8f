#pragma once
// A match store in the reference implementation's formats (filter.py, compute_weights.py):
//   matched_crops[_<name>].csv  header src_path,src_r0,src_r1,src_c0,src_c1,dst_path,dst_r0,dst_r1,dst_c0,dst_c1
//   crop_weights[_<name>].npz   key `w`, [m, 1] float64 (only when the store has weights)

#include <cstdint>
#include <string>

namespace epe {

struct MatchExportResult {
  std::string csv, npz;  // npz empty when the store has no weights yet
  std::int64_t pairs = 0;
};
MatchExportResult export_matches_epe(const std::string& store, const std::string& out_dir, const std::string& name,
                                     bool force);

}  // namespace epe
