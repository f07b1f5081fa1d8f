#pragma once
// Material tables (docs/DESIGN.md §3): which material class routes each ground-truth label id
// of a synthetic dataset through the generator's G-buffer encoder. A table is a TSV file
//   gt_id <TAB> gt_name <TAB> material_id <TAB> material_name
// with a header line; data/materials/cityscapes-34_to_material.tsv is the default for
// Cityscapes-style ids (GTA/PfD, the demo data). Ids the table does not list (and 255) go to
// the last material, "unlabeled" by convention.

#include <string>
#include <vector>

namespace epe {

struct FileList;

struct MaterialTable {
  std::vector<int> of_id;          // 256 entries: GT id -> material index
  std::vector<std::string> names;  // material index -> name
  // UserError naming the file and line. A table may skip one of the 12 standard materials (VIPER
  // and CARLA have no ego vehicle): that material keeps its standard name and index.
  static MaterialTable read(const std::string& path);
};

// <data>/materials/cityscapes-34_to_material.tsv
std::string default_material_table();
// The material table a run uses: `option` (--materials) when given, else the synthetic list's
// `materials` directive, else default_material_table().
std::string material_table_for(const std::string& option, const FileList& synthetic);

}  // namespace epe
