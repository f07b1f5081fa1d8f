#include <cstdio>

#include "command.h"
#include "epe/core/progress.h"
#include "epe/match/match.h"

namespace epe::app {

int run_match(const Args& args) {
  MatchOptions o;
  CommonOptions c;
  OptionSet s("epe match --src SYN.h5 --dst REAL.h5 --out MATCH.h5 [-k 10] [--min-cosine 0.5] [--index SPEC]",
              "For every source (synthetic) crop, the k most similar target (real) crops by cosine similarity of\n"
              "their L2-normalised features; pairs with cosine >= --min-cosine are kept (the reference's rule\n"
              "'squared L2 distance < 1.0' on unit vectors is cosine > 0.5). --index exact (default) is a tiled\n"
              "exact search with ties broken by index; --index ivf[:NLIST] is an inverted file scanned with\n"
              "matrix products for large sets (--nprobe trades speed for recall); FAISS index-factory strings\n"
              "(IVF4096,Flat, HNSW32, IVF1024,PQ64, ...) work too.");
  add_options(s, o);
  if (!parse_command(s, c, args)) return 0;
  record_options(s, &o.command, &o.options_ini);
  Progress progress("match", 0, "crops");
  const MatchResult r = compute_matches(o, &progress);
  progress.finish();
  std::fputs(format_summary(o, r).c_str(), stdout);
  return 0;
}

}  // namespace epe::app
