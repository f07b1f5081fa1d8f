// `epe train`'s entry point: the options resolved against the data and checked, then one
// Trainer run (trainer.h). Checkpoints: checkpoint.h; `epe enhance`: enhance.cpp; `epe
// import-checkpoint`: import_checkpoint.cpp.

#include "epe/train/train.h"

#include "epe/core/error.h"
#include "epe/io/file_list.h"
#include "epe/io/gbuffers.h"
#include "epe/io/labels.h"
#include "epe/train/trainer.h"

namespace epe {

const Choices<GeneratorInit>& generator_inits() {
  static const Choices<GeneratorInit> c{{"reference", GeneratorInit::reference}, {"identity", GeneratorInit::identity}};
  return c;
}

void TrainOptions::check() const {
  EPE_CHECK(dist_timeout > 0, "option --dist-timeout: must be > 0 seconds");
  generator.check();
  discriminator.check();
  data.check();
  EPE_CHECK(steps >= 1, "option --steps must be >= 1");
  EPE_CHECK(lr_g > 0 && lr_d > 0, "learning rates must be > 0");
  EPE_CHECK(lr_step_g >= 1 && lr_step_d >= 1 && lr_gamma > 0, "learning-rate schedule: steps >= 1 and gamma > 0");
  EPE_CHECK(sample_frames >= 0 && sample_width >= 16, "--sample-frames must be >= 0 and --sample-width >= 16");
  EPE_CHECK(log_every >= 1 && sample_every >= 0 && checkpoint_every >= 1 && validate_every >= 0,
            "--log-every, --checkpoint-every must be >= 1; --sample-every, --validate-every >= 0");
  EPE_CHECK(validate_every == 0 || !validate.empty(), "--validate-every needs --validate LIST");
  EPE_CHECK(max_bad_steps >= 1, "option --max-bad-steps must be >= 1");
  EPE_CHECK(!out.empty() || dry_run, "option --out is required");
  EPE_CHECK(discriminator.num_classes >= 1 && discriminator.num_classes <= 255,
            "option --label-classes: the robust label classes must be in 1..255 (255 is the unlabeled id)");
}

TrainResult train(const TrainOptions& options, void (*log)(const std::string&)) {
  TrainOptions o = options;
  if (o.generator.gbuffer_channels <= 0 || o.generator.num_classes <= 0) {
    const FileList syn = read_file_list(o.data.synthetic, DatasetKind::synthetic);
    if (o.generator.gbuffer_channels <= 0) {
      EPE_CHECK(!syn.rows[0].gbuffers().empty(), at_line(syn.path, syn.rows[0].line, "no G-buffers in this row"));
      o.generator.gbuffer_channels = probe_gbuffers(syn.rows[0].gbuffers()).channels;
    }
    if (o.generator.num_classes <= 0)
      o.generator.num_classes =
          static_cast<int>(MaterialTable::read(material_table_for(o.data.materials, syn)).names.size());
  }
  o.data.label_classes = o.discriminator.num_classes;  // the robust label ids the embedding takes
  o.check();
  Trainer t(o, log);
  return t.run();
}

}  // namespace epe
