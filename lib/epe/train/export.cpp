#include "epe/train/export.h"

#include <torch/csrc/jit/frontend/tracer.h>
#include <torch/script.h>
#include <torch/torch.h>

#include "epe/core/atomic_file.h"
#include "epe/core/error.h"
#include "epe/core/options.h"
#include "epe/nn/generator.h"
#include "epe/train/train.h"

namespace epe {

ExportResult export_model(const ExportOptions& o) {
  EPE_CHECK(!o.checkpoint.empty() && !o.out.empty(), "export-model needs --checkpoint and --out");
  check_output_path(o.out, o.force);
  ExportResult r;
  std::tie(r.height, r.width) = parse_hw(o.size, "--size", 8192);
  r.generator = resolve_checkpoint(o.checkpoint);
  torch::serialize::InputArchive a;
  try {
    a.load_from(r.generator, torch::kCPU);
  } catch (const std::exception&) {
    throw UserError(cat("'", r.generator, "' is not an epe checkpoint (or it is damaged)"));
  }
  c10::IValue cfg;
  EPE_CHECK(a.try_read("generator_config", cfg) && cfg.isString(), "'", r.generator, "' is not an epe checkpoint");
  nn::Generator g(nn::GeneratorConfig::from_ini(cfg.toStringRef()));
  torch::serialize::InputArchive ag;
  a.read("generator", ag);
  g.load(ag);
  g.eval();                                                   // spectral norm: stored vectors, no power iteration
  g.set_sparse_class_encoders(false);                         // no data-dependent shapes in the traced graph
  for (auto& p : g.parameters()) p.set_requires_grad(false);  // traced as constants
  r.gbuffer_channels = g.config().gbuffer_channels;
  r.num_classes = g.config().num_classes;
  torch::NoGradGuard no_grad;
  torch::jit::Stack inputs{torch::rand({1, 3, r.height, r.width}),
                           torch::randn({1, r.gbuffer_channels, r.height, r.width}),
                           torch::ones({1, r.num_classes, r.height, r.width}) / r.num_classes};
  auto traced = torch::jit::tracer::trace(
      inputs,
      [&g](torch::jit::Stack in) -> torch::jit::Stack {
        return {g.forward(in[0].toTensor(), in[1].toTensor(), in[2].toTensor())};
      },
      [](const torch::autograd::Variable&) { return std::string(); });
  std::shared_ptr<torch::jit::Graph> graph = traced.first->graph;
  torch::jit::Module m("EpeGenerator");
  graph->insertInput(0, "self")->setType(m._ivalue()->type());
  auto* fn = m._ivalue()->compilation_unit()->create_function(c10::QualifiedName(*m.type()->name(), "forward"), graph);
  m.type()->addMethod(fn);
  AtomicFile f(o.out);
  m.save(f.temp_path());
  f.commit();
  return r;
}

}  // namespace epe
