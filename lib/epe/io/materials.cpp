#include "epe/io/materials.h"

#include <filesystem>

#include "epe/core/error.h"
#include "epe/io/classes.h"
#include "epe/io/file_list.h"

namespace epe {

std::string default_material_table() {
  return data_dir() + "/materials/cityscapes-34_to_material.tsv";
}

std::string material_table_for(const std::string& option, const FileList& synthetic) {
  if (!option.empty()) return option;
  if (!synthetic.format.materials.empty()) return synthetic.format.materials;
  return default_material_table();
}

MaterialTable MaterialTable::read(const std::string& path) {
  std::error_code ec;
  EPE_CHECK(std::filesystem::is_regular_file(path, ec), "cannot read the material table '", path, "'");
  MaterialTable t;
  t.of_id.assign(256, -1);
  for (const TableRow& row : read_tsv_table(path, 4)) {
    const long n = row.line;
    const std::string &id = row.fields[0], &mat = row.fields[2], &mat_name = row.fields[3];
    int i = -1, m = -1;
    try {
      i = std::stoi(id);
      m = std::stoi(mat);
    } catch (...) {
    }
    EPE_CHECK(i >= 0 && i < 256 && m >= 0 && m < 256 && !mat_name.empty(),
              at_line(path, n, "expected 'gt_id<TAB>gt_name<TAB>material_id<TAB>material_name'"));
    t.of_id[i] = m;
    if (static_cast<int>(t.names.size()) <= m) t.names.resize(m + 1);
    EPE_CHECK(t.names[m].empty() || t.names[m] == mat_name,
              at_line(path, n, cat("material ", m, " is named both '", t.names[m], "' and '", mat_name, "'")));
    t.names[m] = mat_name;
  }
  EPE_CHECK(!t.names.empty(), "material table '", path, "' is empty");
  // A dataset may lack one of the 12 standard materials (VIPER and CARLA have no ego vehicle):
  // it keeps its standard name and index, so every table drives the same generator.
  static const char* kStandard[] = {"sky",          "road",        "vehicle",        "terrain",
                                    "vegetation",   "person",      "infrastructure", "traffic light",
                                    "traffic sign", "ego vehicle", "building",       "unlabeled"};
  for (std::size_t m = 0; m < t.names.size(); ++m) {
    if (t.names[m].empty() && m < 12) t.names[m] = kStandard[m];
    EPE_CHECK(!t.names[m].empty(), "material table '", path, "': material ", m, " is never named");
  }
  // Unlisted ids (and 255) go to the last material ("unlabeled" by convention).
  for (auto& v : t.of_id)
    if (v < 0) v = static_cast<int>(t.names.size()) - 1;
  return t;
}

}  // namespace epe
