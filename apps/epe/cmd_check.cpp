#include <cstdio>

#include "command.h"
#include "epe/core/progress.h"
#include "epe/io/list_check.h"

namespace epe::app {

int run_check(const Args& args) {
  CheckOptions o;
  CommonOptions c;
  int max_examples = 5;
  OptionSet s("epe check --list FILE --kind synthetic|real",
              "Validates every row of a dataset file list: files exist and decode, label maps and G-buffers have\n"
              "the image's size, label ids are valid, G-buffer channel counts agree across the set. Prints the\n"
              "problems grouped by kind with their line numbers; exits 1 when any is found.");
  s.add("list,l", &o.list, "file list (CSV, reference format)").required().positional();
  s.add("kind", &o.kind, "synthetic | real");
  s.add("allow-missing-labels", &o.allow_missing_labels, "accept rows whose robust_labels column is empty");
  s.add("allow-missing-gbuffers", &o.allow_missing_gbuffers, "accept synthetic rows whose gbuffers column is empty");
  s.add("gt-max-id", &o.gt_max_id, "highest valid GT label id (Cityscapes ids: 33); 255 is always valid");
  s.add("max-examples", &max_examples, "line numbers listed per problem kind");
  if (!parse_command(s, c, args)) return 0;
  o.threads = c.threads;
  o.check();
  Progress progress("check", 0, "rows");
  CheckReport r = check_file_list(o, &progress);
  progress.finish();
  std::fputs(format_check_report(r, max_examples).c_str(), stdout);
  return r.ok() ? 0 : 1;
}

}  // namespace epe::app
