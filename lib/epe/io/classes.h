#pragma once
// Shipped class tables (data/, see data/README.md): MSeg universal class names and the
// Cityscapes → universal mapping. The data folder is found in this order: the
// EPE_DATA_DIR environment variable, `<exe>/../share/epe/data` (installed), then the
// source tree's data/ (development builds).

#include <string>
#include <vector>

namespace epe {

// The data folder; UserError when none of the candidates has universal_classes.txt.
std::string data_dir();

// The 194 MSeg universal class names, index = id.
const std::vector<std::string>& universal_class_names();
// Name of an id: the class name, "unlabeled" for 255, "id<N>" otherwise.
std::string universal_class_name(int id);

// Cityscapes label id (0..33) → universal id (255 = unlabeled), from
// cityscapes-34_to_universal.tsv. 256 entries; ids outside 0..33 map to 255.
const std::vector<int>& cityscapes_to_universal();

// Cityscapes label names, index = id (0..33), from the same table.
const std::vector<std::string>& cityscapes_class_names();

}  // namespace epe
