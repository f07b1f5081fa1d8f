#pragma once
// The configurations of the enhancer's networks (docs/DESIGN.md §5.8), without torch: what
// `epe train` parses, records in checkpoints and compares on --resume. The networks themselves
// are nn/generator.h and nn/discriminator.h.
//
// Generator (an HRNet; see generator.h for the architecture). G-buffers enter through
//   encoder_type  encoder  (default) one residual stream per material class, masked by the class map
//                          and summed, then a chain of per-branch encoders (stride 2 between branches)
//                 spade    G-buffers and class maps resized to each branch, no learned encoder
//                 concat   G-buffers and class maps concatenated to the image at the stem
//                 none     image only
//   gbuffer_norm  rad      (default) rendering-aware denormalisation in every residual block:
//                          GroupNorm without affine parameters, scale and shift predicted by 1x1
//                          convolutions from G-buffer features after `gbuffer_layers` residual layers
//                 spade    the same with one 3x3 convolution + ReLU instead of the residual layers
//                 default  plain normalisation (other_norm) in the blocks
// Discriminator: ppde (the perceptual projection ensemble on VGG-16 features) or patchgan.
//
// Configurations are stored as INI text ("key = value" lines, enums by name); from_ini() of
// to_ini() gives the configuration back, and a bad key or name is a UserError naming it.

#include <string>

#include "epe/core/options.h"
#include "epe/io/label_ids.h"

namespace epe::nn {

enum class EncoderType { encoder, spade, concat, none };
enum class GBufferNorm { rad, spade, plain };  // plain is named "default" (the reference's name)
// group: GroupNorm with 8 groups; instance: InstanceNorm2d; batch: BatchNorm2d; none: identity.
enum class NormKind { group, instance, batch, none };
enum class DiscriminatorType { ppde, patchgan };
enum class NetworkPreset { paper, tiny };

const Choices<EncoderType>& encoder_types();              // encoder | spade | concat | none
const Choices<GBufferNorm>& gbuffer_norms();              // rad | spade | default
const Choices<NormKind>& norm_kinds();                    // group | instance | batch | none
const Choices<DiscriminatorType>& discriminator_types();  // ppde | patchgan
const Choices<NetworkPreset>& network_presets();          // paper | tiny

struct GeneratorConfig {
  int num_stages = 4;         // parallel branches in the last stage (1..6)
  int base_channels = 16;     // channels of branch 0; branch j has base·2^j
  int blocks = 4;             // basic blocks per branch and stage
  int num_classes = 12;       // material classes routing the G-buffer encoder
  int gbuffer_channels = 32;  // G-buffer channels
  EncoderType encoder_type = EncoderType::encoder;
  GBufferNorm gbuffer_norm = GBufferNorm::rad;
  int gbuffer_layers = 3;  // residual layers before RAD's scale/shift
  int gbuffer_dim = 128;   // channels of the G-buffer features
  NormKind stem_norm = NormKind::group;
  NormKind other_norm = NormKind::group;  // transitions, fusion, decoder (and blocks without RAD)

  static GeneratorConfig preset(NetworkPreset p);
  static GeneratorConfig preset(const std::string& name);  // paper | tiny; UserError otherwise
  void check() const;                                      // UserError on a bad combination
  std::string describe() const;                            // one line, "key=value ..."
  std::string to_ini() const;
  static GeneratorConfig from_ini(const std::string& text);
  bool operator==(const GeneratorConfig& o) const { return to_ini() == o.to_ini(); }
};

struct DiscriminatorConfig {
  DiscriminatorType type = DiscriminatorType::ppde;
  NormKind norm = NormKind::group;
  int num_layers = 4;                   // conv layers per discriminator
  int max_dim = 256;                    // channel cap
  int num_classes = kUniversalClasses;  // label embedding size: robust label ids 0..num_classes-1 (and 255)
  int patchgan_scales = 3;

  static DiscriminatorConfig preset(NetworkPreset p);
  static DiscriminatorConfig preset(const std::string& name);  // paper | tiny
  void check() const;
  std::string to_ini() const;
  static DiscriminatorConfig from_ini(const std::string& text);
};

}  // namespace epe::nn
