// `epe import-checkpoint` (issue 15, item 2): the reference-written state dicts of
// tests/fixtures/enhancer/reduced become a run folder whose checkpoint, exported as TorchScript,
// enhances the fixture frame as the reference's generator did (eval mode).

#include <gtest/gtest.h>
#include <torch/script.h>
#include <torch/torch.h>

#include <filesystem>

#include "epe/nn/torch_pickle.h"
#include "epe/train/export.h"
#include "epe/train/train.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace epe::test {
namespace {

const std::string kFixture = EPE_FIXTURES_DIR "/enhancer/reduced";

TEST(ImportCheckpoint, ReferenceStateDictsEnhanceAsTheReference) {
  const TempDir tmp;
  ImportCheckpointOptions o;
  o.reference = kFixture + "/ref-1000";  // the base name; the _gen-network file is found from it
  o.out = tmp.path() + "/run";
  const ImportCheckpointResult r = import_reference_checkpoint(o);
  EXPECT_EQ(r.discriminator_file, kFixture + "/ref-1000_disc-network.pth.tar");
  EXPECT_EQ(r.generator.num_stages, 3);
  EXPECT_EQ(r.generator.num_classes, 3);
  EXPECT_EQ(r.generator.gbuffer_channels, 5);
  EXPECT_EQ(r.generator_parameters, 10798515);  // the reference's own count (make_reference_fixture.py)
  EXPECT_EQ(r.discriminator_parameters, 488522);
  EXPECT_TRUE(fs::exists(o.out + "/checkpoints/latest"));
  EXPECT_TRUE(fs::exists(o.out + "/train.ini"));
  EXPECT_FALSE(fs::exists(o.out + ".import-tmp"));

  ExportOptions e;
  e.checkpoint = o.out;
  e.out = tmp.path() + "/g.pt";
  e.size = "40x56";
  export_model(e);
  torch::jit::Module m = torch::jit::load(e.out);
  const auto io = nn::read_torch_state_dict(kFixture + "/io.pt");
  torch::NoGradGuard no_grad;
  const at::Tensor y = m.forward({io.at("image"), io.at("gbuffers"), io.at("classes")}).toTensor();
  const at::Tensor ref = io.at("gen_eval").to(torch::kFloat32);
  EXPECT_LT((y - ref).abs().max().item<double>(), 1e-4);

  // Never over an existing run without force; a missing file is named.
  EXPECT_NE(user_error_message([&] { import_reference_checkpoint(o); }).find("exists; pass --force"),
            std::string::npos);
  ImportCheckpointOptions bad = o;
  bad.reference = tmp.path() + "/none-5";
  bad.out = tmp.path() + "/run2";
  EXPECT_NE(
      user_error_message([&] { import_reference_checkpoint(bad); }).find("none-5_gen-network.pth.tar' does not exist"),
      std::string::npos);
  EXPECT_FALSE(fs::exists(bad.out));
  // A _disc-network file given as REF: its _gen-network partner is looked for, and named.
  bad.reference = kFixture + "/ref-1000_disc-network.pth.tar";
  EXPECT_NE(user_error_message([&] { import_reference_checkpoint(bad); }).find("does not exist"), std::string::npos);
}

}  // namespace
}  // namespace epe::test
