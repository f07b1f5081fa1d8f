#pragma once
// State dicts of the reference implementation (isl-org/PhotorealismEnhancement) in epe's networks.
//
// The reference saves `<name>-<iterations>_gen-network.pth.tar` (the ResidualGenerator's
// state_dict(): keys `network.*`) and `<name>-<iterations>_disc-network.pth.tar` (the
// PerceptualProjectionDiscEnsemble's: keys `discs.<i>.*`), next to optimizer/scheduler files.
// This header maps those keys onto epe's Generator and Discriminator, one tensor at a time:
//
//   reference (code/epe/network)                       epe (lib/epe/nn)
//   network.stem.{1,5}.weight / {2,6}.*               net.stem.{0,1}.conv.conv.weight / .norm.gn.*
//   ...class_encoders.K.J.{conv.1,conv.4,down.1}.*     net.gbuffer_encoder.classK.J.{conv1,conv2,down}
//   ...joint_encoder_layers.B.J.{conv.1,conv.4,down.1} net.gbuffer_encoder.branchB.J.{...}
//   layer1.K / stages.S-2.0.branches.B.K (BasicBlock)  net.layer1.K / net.stageS.branchB.K
//     conv1.1.weight, conv2.1.1.weight                   conv1.conv.weight, conv2.conv.weight
//     bnN._conv.L.{conv.1,down.1}, bnN._scale, bnN._bias normN.proc.L.{conv1,down}, normN.scale, normN.shift
//   transitions.S-2.S-1.0.{0,1}.*                      net.transitionS.{conv.conv,norm.gn}.*
//   stages.S-2.0.fuse_layers.I.J(.T).{0|1,1|2}.*       net.stageS.fuseI_J.{0|T}.{conv.conv,norm.gn}.*
//   up_layers.U.{1,2,5}.*                              net.upU.{0.conv.conv,0.norm.gn,1.conv}.*
//   discs.I.model.{1+4k,2+4k}.*                        discI.convk.conv.weight / discI.normk.gn.*
//   discs.I.out.{0,2}.*, discs.I.embedding.weight      discI.{out1,out2}.conv.*, discI.embedding.weight
// A spectrally normalised convolution's weight_orig / bias / weight_u / weight_v become epe's
// conv.weight / conv.bias / u / v (the same power-iteration state, so training continues exactly).
//
// Supported: the reference's `hr` generator with encoder_type ENCODER, gbuffer_norm RAD,
// gbuffer_encoder_norm residual (train_pfd2cs.yaml and its reductions: any num_stages,
// num_gbuffer_layers, classes, G-buffer channels) with group norms, and its `ppde` discriminator
// with group norms. `hr_new` (ienet2: RAC, residual2) has no epe counterpart yet.
// A "module." prefix (DataParallel) is stripped.

#include <ATen/core/Tensor.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "epe/nn/discriminator.h"
#include "epe/nn/generator.h"

namespace epe::nn {

using TensorMap = std::map<std::string, at::Tensor>;

// (reference key, epe key) for every tensor of a generator / discriminator of this configuration;
// reference keys without the "network." prefix, epe keys as named_parameters()/named_buffers()
// of Generator / Discriminator give them.
std::vector<std::pair<std::string, std::string>> reference_generator_keys(const GeneratorConfig& c);
std::vector<std::pair<std::string, std::string>> reference_discriminator_keys(const DiscriminatorConfig& c);

// The configuration a reference state dict was made with (stages, blocks, classes, G-buffer
// channels, RAD layers, feature width; discriminator layers, channel cap, label classes).
// UserError naming `file` when the dict is not one of the supported kinds.
GeneratorConfig reference_generator_config(const TensorMap& sd, const std::string& file);
DiscriminatorConfig reference_discriminator_config(const TensorMap& sd, const std::string& file);

// Copies every tensor into the network (parameters and spectral-norm buffers). UserError naming
// `file` and listing the missing, unexpected or mis-shaped keys (the first few of each).
void load_reference_generator(Generator& g, const TensorMap& sd, const std::string& file);
void load_reference_discriminator(Discriminator& d, const TensorMap& sd, const std::string& file);

}  // namespace epe::nn
