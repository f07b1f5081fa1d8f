#include <cstdio>

#include "command.h"
#include "epe/core/options.h"
#include "epe/io/list_builder.h"

namespace epe::app {

int run_lists(const Args& args) {
  ListsOptions o;
  CommonOptions c;
  int examples = 5;
  OptionSet s("epe lists LAYOUT --root DIR --out LIST.csv [--split S]",
              "Builds a file list from a dataset's folder tree as downloaded. LAYOUT is one of " +
                  join(list_layouts(), ", ") +
                  ".\nImages are paired with their label maps (and G-buffers) by stem or frame id; unpaired files are\n"
                  "reported. The list gets `# epe:` lines saying how its label maps are encoded and which material\n"
                  "table its GT ids use (data/README.md, \"Building lists\").");
  s.add("layout", &o.layout, "dataset layout: " + join(list_layouts(), " | ")).required().positional();
  s.add("root", &o.root, "the dataset's folder").required();
  s.add("out,o", &o.out, "the list to write (CSV)").required();
  s.add("split", &o.split,
        "cityscapes: train|val|test|train_extra; viper: train|val|test; vistas: "
        "training|validation|testing (default: the first)");
  s.add("robust", &o.robust, "robust_labels column: auto | gt (GT mapped to MSeg ids) | none (left for epe segment)");
  s.add("ids", &o.ids, "cityscapes GT maps: labelIds | trainIds");
  s.add("carla-labels", &o.carla_labels, "carla GT maps: raw (tag in R) | palette (CityScapesPalette colours)");
  s.add("kind", &o.kind, "folder layout: real | synthetic");
  s.add("images", &o.images, "folder layout: image folder under the root (default: the root)");
  s.add("labels", &o.labels, "folder layout: label folder under the root, files matched by stem");
  s.add("gbuffers", &o.gbuffers, "synthetic: folder of G-buffer files (<stem>.h5 or .npz)");
  s.add("label-colors", &o.label_colors, "folder layout: colour table of colour-coded label maps");
  s.add("label-remap", &o.label_remap, "folder layout: id table applied to the label ids");
  s.add("materials", &o.materials, "synthetic: GT id -> material table (default: the layout's)");
  s.add("limit", &o.limit, "keep the first N rows (0 = all)");
  s.add("sample", &o.sample, "keep N rows drawn with --seed, in list order (0 = all)");
  s.add("seed", &o.seed, "seed of --sample");
  s.add("plain", &o.plain, "write no `# epe:` lines (for the reference's loaders)");
  s.add("force", &o.force, "replace an existing list").not_recorded();
  s.add("max-examples", &examples, "unpaired files listed per kind");
  if (!parse_command(s, c, args)) return 0;
  ListsResult r = build_list(o);
  std::fputs(format_lists_result(r, examples).c_str(), stdout);
  return 0;
}

}  // namespace epe::app
