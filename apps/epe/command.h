#pragma once
// Shared plumbing of `epe` commands: each command file defines `int run_<name>(args)`,
// binds its stage's options struct with add_common() + its own options, calls one library
// function and prints a summary. Errors propagate to main(), which maps UserError to
// exit 1 and anything else to exit 2.

#include <string>
#include <vector>

#include "epe/core/options.h"

namespace epe::app {

using Args = std::vector<std::string>;

// Options every command accepts.
struct CommonOptions {
  std::string log_level = "info";  // debug | info | warn | error | quiet
  bool quiet = false;              // same as --log-level warn
  int threads = 0;                 // worker threads for LibTorch, OpenCV, FAISS, BLAS; 0 = all cores
};

void add_common(OptionSet& s, CommonOptions& c);
// Applies log level and thread counts; call right after OptionSet::parse().
void apply_common(const CommonOptions& c);
// add_common() + parse + apply_common(): false when --help was printed.
bool parse_command(OptionSet& s, CommonOptions& c, const Args& args);
// The command line and the resolved options, for a stage's output record.
void record_options(const OptionSet& s, std::string* command, std::string* options_ini);

// The full command line of this process, for the `command` attribute of outputs.
const std::string& command_line();
void set_command_line(int argc, char** argv);

struct Command {
  const char* name;
  const char* summary;
  int (*run)(const Args& args);
};
const std::vector<Command>& commands();

int run_demo_data(const Args& args);
int run_check(const Args& args);
int run_lists(const Args& args);
int run_gbuffers(const Args& args);
int run_info(const Args& args);
int run_crops(const Args& args);
int run_merge(const Args& args);
int run_export(const Args& args);
int run_import(const Args& args);
int run_bench(const Args& args);
int run_layout(const Args& args);
int run_metrics(const Args& args);
int run_lpips(const Args& args);
int run_baseline(const Args& args);
int run_train(const Args& args);
int run_enhance(const Args& args);
int run_fake_gbuffers(const Args& args);
int run_export_model(const Args& args);
int run_import_checkpoint(const Args& args);
int run_match(const Args& args);
int run_weights(const Args& args);
int run_show_matches(const Args& args);
int run_segment(const Args& args);
int run_demo_segmenter(const Args& args);

}  // namespace epe::app
