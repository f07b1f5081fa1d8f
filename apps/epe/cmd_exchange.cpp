#include <cstdio>

#include "command.h"
#include "epe/crops/exchange.h"
#include "epe/match/exchange.h"

namespace epe::app {

int run_export(const Args& args) {
  StoreExportOptions o;
  CommonOptions c;
  OptionSet s("epe export STORE --format epe --out DIR [--name N]",
              "Writes a store in the reference implementation's formats, so its scripts can use it.\n"
              "crop store: DIR/crop_<name>.csv (id,path,r0,r1,c0,c1) and DIR/crop_<name>.npz (key 'crops',\n"
              "n x 512 float16). match store: DIR/matched_crops[_<name>].csv (src_path,src_r0,...,dst_c1) and,\n"
              "after epe weights, DIR/crop_weights[_<name>].npz (key 'w', m x 1 float64).");
  add_options(s, o);
  if (!parse_command(s, c, args)) return 0;
  std::fputs(format_summary(o, export_store(o)).c_str(), stdout);
  return 0;
}

int run_import(const Args& args) {
  CropImportOptions o;
  CommonOptions c;
  OptionSet s("epe import --format epe --csv crop_NAME.csv --npz crop_NAME.npz --out CROPS.h5 [--image-size HxW]",
              "Turns the reference implementation's crop files (collect_crops.py) into a crop store, so they can\n"
              "be matched with epe match. The reference's CSV has no frame sizes: --image-size gives one size for\n"
              "every frame (as compute_weights.py takes height and width); without it each frame is read.");
  add_options(s, o);
  if (!parse_command(s, c, args)) return 0;
  record_options(s, &o.command, &o.options_ini);
  std::fputs(format_summary(o, import_crops_epe(o)).c_str(), stdout);
  return 0;
}

}  // namespace epe::app
