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
                  choice_list(list_layouts()) +
                  ".\nImages are paired with their label maps (and G-buffers) by stem or frame id; unpaired files are\n"
                  "reported. The list gets `# epe:` lines saying how its label maps are encoded and which material\n"
                  "table its GT ids use (data/README.md, \"Building lists\").");
  add_options(s, o);
  s.add("max-examples", &examples, "unpaired files listed per kind");
  if (!parse_command(s, c, args)) return 0;
  ListsResult r = build_list(o);
  std::fputs(format_lists_result(r, examples).c_str(), stdout);
  return 0;
}

}  // namespace epe::app
