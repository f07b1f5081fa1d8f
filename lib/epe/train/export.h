#pragma once
// `epe export-model`: a trained generator as a TorchScript module for a game or another tool.
// The module is traced at one frame size (a game renders at a fixed resolution): forward(image
// [N,3,H,W] in [0,1], gbuffers [N,G,H,W], classes [N,K,H,W]) -> enhanced [N,3,H,W]. The weights
// are embedded; no epe code is needed to run it (torch.jit.load in Python, torch::jit::load in C++).

#include <string>

#include "epe/core/options.h"

namespace epe {

struct ExportOptions {
  std::string checkpoint;        // checkpoint file or run folder
  std::string out;               // .pt file
  std::string size = "526x957";  // HxW the module is traced at
  bool force = false;
};

struct ExportResult {
  std::string generator;  // the checkpoint used
  int height = 0, width = 0, gbuffer_channels = 0, num_classes = 0;
};

ExportResult export_model(const ExportOptions& o);
// Binds every option of `epe export-model` to `o`; the line it prints when done.
void add_options(OptionSet& s, ExportOptions& o);
std::string format_summary(const ExportOptions& o, const ExportResult& r);

}  // namespace epe
