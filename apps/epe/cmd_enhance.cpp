#include <cstdio>

#include "command.h"
#include "epe/train/export.h"
#include "epe/train/train.h"

namespace epe::app {

int run_enhance(const Args& args) {
  EnhanceOptions o;
  CommonOptions c;
  OptionSet s(
      "epe enhance --checkpoint RUN|C.pt --list SYN.csv --out DIR [--tile 512]",
      "Enhances full frames with a trained generator (G-buffers and GT labels from the list). Writes\n"
      "DIR/images/NNNNNN.png and DIR/<name>.csv (the input rows with the enhanced image), and reports frames/s.");
  add_options(s, o);
  if (!parse_command(s, c, args)) return 0;
  std::fputs(format_summary(o, enhance(o)).c_str(), stdout);
  return 0;
}

int run_export_model(const Args& args) {
  ExportOptions o;
  CommonOptions c;
  OptionSet s("epe export-model --checkpoint RUN|C.pt --out generator.pt [--size 526x957]",
              "Writes the trained generator as a TorchScript module (weights embedded), traced at one frame size:\n"
              "forward(image [N,3,H,W] in [0,1], gbuffers [N,G,H,W], classes [N,K,H,W]) -> enhanced [N,3,H,W].\n"
              "Load it with torch.jit.load (Python) or torch::jit::load (C++) in a game or another tool.");
  add_options(s, o);
  if (!parse_command(s, c, args)) return 0;
  std::fputs(format_summary(o, export_model(o)).c_str(), stdout);
  return 0;
}

int run_import_checkpoint(const Args& args) {
  ImportCheckpointOptions o;
  CommonOptions c;
  OptionSet s("epe import-checkpoint REF --out RUN [--vgg W]",
              "Turns a reference implementation checkpoint (<name>-<iterations>_gen-network.pth.tar, with\n"
              "_disc-network.pth.tar beside it when present) into an epe run folder for epe enhance, epe export-model\n"
              "and epe train --config RUN/train.ini ... --out RUN --resume. Networks: the reference's hr generator\n"
              "(ENCODER, RAD, residual encoders, group norms) and ppde discriminator.");
  add_options(s, o);
  if (!parse_command(s, c, args)) return 0;
  std::fputs(format_summary(o, import_reference_checkpoint(o)).c_str(), stdout);
  return 0;
}

}  // namespace epe::app
