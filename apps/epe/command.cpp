#include "command.h"

#include "epe/core/log.h"
#include "epe/runtime/runtime.h"

namespace epe::app {

void add_common(OptionSet& s, CommonOptions& c) {
  s.add("threads", &c.threads, "worker threads (LibTorch, OpenCV, FAISS, BLAS); 0 = all cores").not_recorded();
  s.add("log-level", &c.log_level, "debug | info | warn | error | quiet").not_recorded();
  s.add("quiet,q", &c.quiet, "only warnings and errors (no progress)").not_recorded();
}

void apply_common(const CommonOptions& c) {
  LogLevel level = parse_log_level(c.log_level);
  if (c.quiet && level < LogLevel::warn) level = LogLevel::warn;
  set_log_level(level);
  EPE_CHECK(c.threads >= 0, "option --threads: must be >= 0 (0 = all cores)");
  set_threads(c.threads);
}

bool parse_command(OptionSet& s, CommonOptions& c, const Args& args) {
  add_common(s, c);
  if (!s.parse(args)) return false;
  apply_common(c);
  return true;
}

namespace {
std::string g_command_line;
}

void record_options(const OptionSet& s, std::string* command, std::string* options_ini) {
  *command = command_line();
  *options_ini = s.resolved_ini();
}

const std::string& command_line() {
  return g_command_line;
}

void set_command_line(int argc, char** argv) {
  g_command_line.clear();
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    bool quote = a.empty() || a.find_first_of(" \t'\"$") != std::string::npos;
    g_command_line += (i ? " " : "") + (quote ? "'" + a + "'" : a);
  }
}

const std::vector<Command>& commands() {
  static const std::vector<Command> list = {
      {"demo-data", "render the two procedural demo datasets (synthetic + real) with file lists", run_demo_data},
      {"lists", "build a file list from a dataset's folder tree (cityscapes, pfd, gta5, viper, vistas, carla, folder)",
       run_lists},
      {"gbuffers", "G-buffer files: `pack` stacks per-buffer images (PNG, EXR, .npz) into epe G-buffer files",
       run_gbuffers},
      {"check", "validate a dataset file list: files exist and decode, sizes and label ids agree", run_check},
      {"segment", "robust label maps with a TorchScript model and MSeg's sliding-window protocol", run_segment},
      {"demo-segmenter", "write the demo's colour-based TorchScript segmenter (a demo model, not MSeg)",
       run_demo_segmenter},
      {"crops", "embed image crops with VGG-16 (random or grid mode) into a crop store", run_crops},
      {"merge", "join the shard outputs of a stage run with --shard I/N into one store (crops)", run_merge},
      {"match", "k nearest target crops of every source crop (exact or FAISS), pairs above a cosine threshold",
       run_match},
      {"weights", "sampling weights of matched pairs (density over source frames), written into the match store",
       run_weights},
      {"show-matches", "picture of matched pairs (source | target) per cosine band", run_show_matches},
      {"export", "write a store in the reference implementation's CSV/.npz formats", run_export},
      {"import", "make a crop store from the reference implementation's crop_<name>.csv/.npz", run_import},
      {"layout", "where classes sit in two datasets' frames, how they differ, how well matching aligns crops",
       run_layout},
      {"metrics", "FID, KID, KVD and sKVD of fake sets against a real set (metrics.json, metrics.md)", run_metrics},
      {"lpips", "LPIPS (VGG, v0.1) between two images or two lists", run_lpips},
      {"baseline", "baseline methods for metrics tables (color-transfer)", run_baseline},
      {"train", "train the enhancer (generator + perceptual discriminator) on matched crops; resumable", run_train},
      {"enhance", "enhance full frames with a trained generator", run_enhance},
      {"export-model", "write a trained generator as a TorchScript module (for a game or another tool)",
       run_export_model},
      {"import-checkpoint", "make an epe run folder from a reference implementation training checkpoint",
       run_import_checkpoint},
      {"fake-gbuffers", "stand-in G-buffers from VGG-16 features for datasets without them (labelled as such)",
       run_fake_gbuffers},
      {"info", "describe a store, G-buffer file or .npz: kind, version, provenance, datasets", run_info},
      {"bench", "benchmarks measured in one run (crops, match, layout, metrics, generator)", run_bench},
  };
  return list;
}

}  // namespace epe::app
