#include <cstdio>

#include "command.h"
#include "epe/core/error.h"
#include "epe/crops/exchange.h"
#include "epe/io/h5.h"
#include "epe/match/exchange.h"

namespace epe::app {

int run_export(const Args& args) {
  std::string store, format = "epe", out, name;
  bool force = false;
  CommonOptions c;
  OptionSet s("epe export STORE --format epe --out DIR [--name N]",
              "Writes a store in the reference implementation's formats, so its scripts can use it.\n"
              "crop store: DIR/crop_<name>.csv (id,path,r0,r1,c0,c1) and DIR/crop_<name>.npz (key 'crops',\n"
              "n x 512 float16). match store: DIR/matched_crops[_<name>].csv (src_path,src_r0,...,dst_c1) and,\n"
              "after epe weights, DIR/crop_weights[_<name>].npz (key 'w', m x 1 float64).");
  s.add("store", &store, "store to export").required().positional();
  s.add("format", &format, "target format: epe (the reference implementation)");
  s.add("out,o", &out, "output folder (created when missing)").required();
  s.add("name", &name, "name in the file names (crops default: the store's name; match default: none)");
  s.add("force", &force, "overwrite existing files");
  if (!parse_command(s, c, args)) return 0;
  EPE_CHECK(format == "epe", "option --format: '", format, "' is not supported (epe)");
  const std::string kind = [&] {
    H5::H5File f = h5::open_file(store);
    return h5::read_format(f).name;
  }();
  EPE_CHECK(kind == "crops" || kind == "match", "'", store, "' is ",
            kind.empty() ? "not an epe store" : "a '" + kind + "' store", "; epe export handles crop and match stores");
  if (kind == "match") {
    MatchExportResult r = export_matches_epe(store, out, name, force);
    std::printf("export: %lld matched pairs\n  %s\n", static_cast<long long>(r.pairs), r.csv.c_str());
    if (!r.npz.empty()) std::printf("  %s\n", r.npz.c_str());
    return 0;
  }
  CropExportResult r = export_crops_epe(store, out, name, force);
  std::printf("export: %lld crops\n  %s\n  %s\n", static_cast<long long>(r.crops), r.csv.c_str(), r.npz.c_str());
  return 0;
}

int run_import(const Args& args) {
  CropImportOptions o;
  std::string format = "epe";
  CommonOptions c;
  OptionSet s("epe import --format epe --csv crop_NAME.csv --npz crop_NAME.npz --out CROPS.h5 [--image-size HxW]",
              "Turns the reference implementation's crop files (collect_crops.py) into a crop store, so they can\n"
              "be matched with epe match. The reference's CSV has no frame sizes: --image-size gives one size for\n"
              "every frame (as compute_weights.py takes height and width); without it each frame is read.");
  s.add("format", &format, "source format: epe (the reference implementation)");
  s.add("csv", &o.csv, "crop_<name>.csv").required();
  s.add("npz", &o.npz, "crop_<name>.npz (key 'crops')").required();
  s.add("out,o", &o.out, "crop store to write").required().not_recorded();
  s.add("name", &o.name, "dataset name (default: from the CSV file name)");
  s.add("image-size", &o.image_size, "HxW of every frame (default: read from the frames)");
  s.add("force", &o.force, "overwrite OUT").not_recorded();
  if (!parse_command(s, c, args)) return 0;
  EPE_CHECK(format == "epe", "option --format: '", format, "' is not supported (epe)");
  record_options(s, &o.command, &o.options_ini);
  CropImportResult r = import_crops_epe(o);
  std::printf("import: %lld crops of %lld frames -> %s\n", static_cast<long long>(r.crops),
              static_cast<long long>(r.images), o.out.c_str());
  return 0;
}

}  // namespace epe::app
