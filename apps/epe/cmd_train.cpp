#include <cstdio>

#include "command.h"
#include "epe/core/error.h"
#include "epe/train/train.h"

namespace epe::app {

namespace {
void print_line(const std::string& s) {
  std::printf("%s\n", s.c_str());
  std::fflush(stdout);
}
}  // namespace

int run_train(const Args& args) {
  TrainOptions o;
  NetworkOverrides n;
  CommonOptions c;
  OptionSet s(
      "epe train --config train.ini  |  epe train --synthetic S.csv --real R.csv --matches M.h5 --out RUN",
      "Trains the enhancer (generator + perceptual discriminator) on matched crops. Every option can stand in the\n"
      "--config file (key = option name). RUN gets log.csv, samples/, checkpoints/ (atomic, --resume continues\n"
      "exactly) and train.ini. --dry-run builds everything, prints both networks' parameter counts and the data\n"
      "summary, and exits. Presets: paper (the reference's configuration) and tiny (CPU tests and demos).");
  add_options(s, o, n);
  if (!parse_command(s, c, args)) return 0;
  record_options(s, &o.command, &o.options_ini);
  o.data.threads = c.threads;
  n.apply(o);
  EPE_CHECK(!o.out.empty() || o.dry_run, "option --out is required");
  std::fputs(format_summary(o, train(o, print_line)).c_str(), stdout);
  return 0;
}

}  // namespace epe::app
