#pragma once
// Exchange with the reference implementation's crop files (collect_crops.py):
//   crop_<name>.csv   header `id,path,r0,r1,c0,c1`, one row per crop (id = crop index)
//   crop_<name>.npz   key `crops`: [n, 512] float16, row i = crop i
// The CSV has no frame sizes; an import takes them from --image-size or from the images.

#include <cstdint>
#include <string>

#include "epe/core/options.h"

namespace epe {

// The formats `epe export` writes and `epe import` reads: only the reference's so far.
enum class ExchangeFormat { epe };
const Choices<ExchangeFormat>& exchange_formats();  // "epe"

struct CropExportResult {
  std::string csv, npz;
  std::int64_t crops = 0;
};
// Writes <out_dir>/crop_<name>.csv and .npz (name: the store's name unless given). Refuses to
// overwrite either file without `force`; both appear only when complete.
CropExportResult export_crops_epe(const std::string& store, const std::string& out_dir, const std::string& name,
                                  bool force);

struct CropImportOptions {
  std::string csv, npz;    // the reference's crop_<name>.csv and crop_<name>.npz
  std::string out;         // crop store to write
  std::string name;        // dataset name; empty = <name> of crop_<name>.csv
  std::string image_size;  // "HxW" for every frame; empty = read each frame's size from its file
  ExchangeFormat format = ExchangeFormat::epe;
  bool force = false;
  std::string command, options_ini;
  void check() const;
};
struct CropImportResult {
  std::int64_t crops = 0, images = 0;
};
CropImportResult import_crops_epe(const CropImportOptions& options);

// Binds every option of `epe import` to `o`; the lines it prints when done.
void add_options(OptionSet& s, CropImportOptions& o);
std::string format_summary(const CropImportOptions& o, const CropImportResult& r);

}  // namespace epe
