#pragma once
// File lists built from datasets' folder layouts as downloaded (`epe lists <layout>`). Each
// layout knows its tree (data/README.md, "Building lists"), pairs images with their label maps
// (and G-buffers) by stem or frame id, reports what it could not pair, and writes a list of the
// right kind with `# epe:` directives saying how its label maps are encoded and which material
// table its GT ids use.
//
//   layout      kind       images                                   labels
//   cityscapes  real       leftImg8bit/<split>/<city>/*_leftImg8bit.png  gtFine/<split>/<city>/*_gtFine_labelIds.png
//   pfd, gta5   synthetic  images/*.png                             labels/*.png (palette, Cityscapes labelIds)
//   viper       synthetic  <split>/img/<seq>/<seq>_<frame>.jpg|png  <split>/cls/<seq>/<seq>_<frame>.png
//   vistas      real       <split>/images/<key>.jpg                 <split>/v1.2/labels/<key>.png or <split>/labels/
//   carla       synthetic  Frames/FinalColor-<id>.png               SemanticSegmentation/SemanticSegmentation-<id>.png
//   folder      either     any images under --images                optional, under --labels, same stem

#include <cstdint>
#include <string>
#include <vector>

#include "epe/core/options.h"
#include "epe/io/file_list.h"

namespace epe {

enum class ListLayout { cityscapes, pfd, gta5, viper, vistas, carla, folder };
enum class RobustColumn { automatic, gt, none };
enum class CityscapesIds { label_ids, train_ids };
enum class CarlaLabels { raw, palette };
const Choices<RobustColumn>& robust_columns();    // "auto", "gt", "none"
const Choices<CityscapesIds>& cityscapes_ids();   // "labelIds", "trainIds"
const Choices<CarlaLabels>& carla_label_kinds();  // "raw", "palette"

struct ListsOptions {
  ListLayout layout = ListLayout::folder;  // cityscapes | pfd | gta5 | viper | vistas | carla | folder
  std::string root;                        // the dataset's folder as downloaded
  std::string out;                         // the list to write (CSV)
  std::string split;                       // cityscapes: train|val|test|train_extra; viper: train|val|test; vistas:
                                           // training|validation|testing; "" = the layout's default
  // robust_labels column: auto (GT mapped to MSeg universal ids where a shipped mapping exists,
  // CARLA2Real's RobustImages/ when present) | gt | none
  RobustColumn robust = RobustColumn::automatic;
  CityscapesIds ids = CityscapesIds::label_ids;  // cityscapes GT: labelIds (gtFine_labelIds) | trainIds
  CarlaLabels carla_labels = CarlaLabels::raw;   // carla: raw (tag in R, CARLA2Real's capture) | palette
  // folder layout
  DatasetKind kind = DatasetKind::real;  // synthetic | real
  std::string images;                    // image folder, relative to the root ("" = the root)
  std::string labels;                    // label folder, relative to the root ("" = none)
  std::string gbuffers;                  // G-buffer folder (synthetic), files <stem>.h5|.npz ("" = none)
  std::string label_colors;              // colour table of the labels (directive)
  std::string label_remap;               // id table of the labels (directive)
  std::string materials;                 // material table for GT ids (synthetic; "" = the layout's)
  std::int64_t limit = 0;                // keep the first N rows (0 = all)
  std::int64_t sample = 0;               // keep N rows drawn with --seed (0 = all), in list order
  std::uint64_t seed = 0;
  bool plain = false;  // write no `# epe:` directives (for the reference's loaders)
  bool force = false;
  void check() const;  // UserError naming the option
};

struct ListsResult {
  std::string list;  // the list written
  DatasetKind kind = DatasetKind::real;
  std::int64_t images = 0, labels = 0;                        // files found
  std::int64_t rows = 0;                                      // rows written (after --limit / --sample)
  std::int64_t paired = 0;                                    // images with their label map
  std::int64_t robust = 0, gbuffers = 0;                      // rows with those columns filled
  std::vector<std::string> unpaired_images, unpaired_labels;  // every one (report the first few)
  std::vector<std::string> notes;                             // what the columns hold, what to run next
  ListFormat format;
};

// The layout names, for --help and errors.
const Choices<ListLayout>& list_layouts();

// Binds every option of `epe lists` to `o`.
void add_options(OptionSet& s, ListsOptions& o);

// Scans the tree, pairs, writes the list atomically (never over an existing one without
// force). UserError naming the option or the folder when the tree is not the layout's (the
// message says which folder was expected) or nothing pairs.
ListsResult build_list(const ListsOptions& o);

// Human-readable summary (counts, first unpaired files, notes).
std::string format_lists_result(const ListsResult& r, int examples = 5);

}  // namespace epe
