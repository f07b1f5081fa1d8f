#include "epe/nn/network_config.h"

#include <sstream>

#include "epe/core/error.h"

namespace epe::nn {

const Choices<EncoderType>& encoder_types() {
  static const Choices<EncoderType> c{{"encoder", EncoderType::encoder},
                                      {"spade", EncoderType::spade},
                                      {"concat", EncoderType::concat},
                                      {"none", EncoderType::none}};
  return c;
}
const Choices<GBufferNorm>& gbuffer_norms() {
  static const Choices<GBufferNorm> c{
      {"rad", GBufferNorm::rad}, {"spade", GBufferNorm::spade}, {"default", GBufferNorm::plain}};
  return c;
}
const Choices<NormKind>& norm_kinds() {
  static const Choices<NormKind> c{{"group", NormKind::group},
                                   {"instance", NormKind::instance},
                                   {"batch", NormKind::batch},
                                   {"none", NormKind::none}};
  return c;
}
const Choices<DiscriminatorType>& discriminator_types() {
  static const Choices<DiscriminatorType> c{{"ppde", DiscriminatorType::ppde},
                                            {"patchgan", DiscriminatorType::patchgan}};
  return c;
}
const Choices<NetworkPreset>& network_presets() {
  static const Choices<NetworkPreset> c{{"paper", NetworkPreset::paper}, {"tiny", NetworkPreset::tiny}};
  return c;
}

namespace {
int to_int(const std::string& key, const std::string& v, const char* what) {
  try {
    std::size_t used = 0;
    const int i = std::stoi(v, &used);
    if (used == v.size()) return i;
  } catch (const std::exception&) {
  }
  throw UserError(cat(what, " configuration: ", key, " = '", v, "' is not an integer"));
}
}  // namespace

// ---- generator ------------------------------------------------------------------------------

GeneratorConfig GeneratorConfig::preset(NetworkPreset p) {
  GeneratorConfig c;
  if (p == NetworkPreset::tiny) {
    c.num_stages = 2;
    c.base_channels = 8;
    c.blocks = 1;
    c.gbuffer_layers = 1;
    c.gbuffer_dim = 16;
  }
  return c;
}

namespace {
NetworkPreset preset_named(const std::string& name, const char* what) {
  for (const auto& [n, p] : network_presets())
    if (n == name) return p;
  throw UserError(cat(what, " preset '", name, "' is not one of ", choice_list(network_presets())));
}
}  // namespace

GeneratorConfig GeneratorConfig::preset(const std::string& name) {
  return preset(preset_named(name, "generator"));
}

void GeneratorConfig::check() const {
  EPE_CHECK(num_stages >= 1 && num_stages <= 6, "generator: num_stages must be in 1..6, got ", num_stages);
  EPE_CHECK(base_channels >= 8 && base_channels % 8 == 0, "generator: base_channels must be a multiple of 8, got ",
            base_channels);
  EPE_CHECK(blocks >= 1, "generator: blocks must be >= 1");
  EPE_CHECK(num_classes >= 1 && gbuffer_channels >= 1, "generator: num_classes and gbuffer_channels must be >= 1");
  EPE_CHECK(
      gbuffer_norm == GBufferNorm::plain || encoder_type == EncoderType::encoder || encoder_type == EncoderType::spade,
      "generator: gbuffer_norm ", choice_name(gbuffer_norms(), gbuffer_norm),
      " needs G-buffer features in the blocks (encoder_type encoder or spade), not ",
      choice_name(encoder_types(), encoder_type));
  EPE_CHECK(gbuffer_layers >= 1, "generator: gbuffer_layers must be >= 1");
  EPE_CHECK(gbuffer_dim >= 2 && gbuffer_dim % 2 == 0, "generator: gbuffer_dim must be even and >= 2");
}

std::string GeneratorConfig::to_ini() const {
  std::ostringstream s;
  s << "num_stages = " << num_stages << "\nbase_channels = " << base_channels << "\nblocks = " << blocks
    << "\nnum_classes = " << num_classes << "\ngbuffer_channels = " << gbuffer_channels
    << "\nencoder_type = " << choice_name(encoder_types(), encoder_type)
    << "\ngbuffer_norm = " << choice_name(gbuffer_norms(), gbuffer_norm) << "\ngbuffer_layers = " << gbuffer_layers
    << "\ngbuffer_dim = " << gbuffer_dim << "\nstem_norm = " << choice_name(norm_kinds(), stem_norm)
    << "\nother_norm = " << choice_name(norm_kinds(), other_norm) << "\n";
  return s.str();
}

GeneratorConfig GeneratorConfig::from_ini(const std::string& text) {
  GeneratorConfig c;
  for (const auto& [k, v] : parse_key_values(text)) {
    const std::string key = "generator configuration: " + k;
    auto i = [&] { return to_int(k, v, "generator"); };
    if (k == "num_stages")
      c.num_stages = i();
    else if (k == "base_channels")
      c.base_channels = i();
    else if (k == "blocks")
      c.blocks = i();
    else if (k == "num_classes")
      c.num_classes = i();
    else if (k == "gbuffer_channels")
      c.gbuffer_channels = i();
    else if (k == "encoder_type")
      c.encoder_type = parse_choice(encoder_types(), v, key);
    else if (k == "gbuffer_norm")
      c.gbuffer_norm = parse_choice(gbuffer_norms(), v, key);
    else if (k == "gbuffer_layers")
      c.gbuffer_layers = i();
    else if (k == "gbuffer_dim")
      c.gbuffer_dim = i();
    else if (k == "stem_norm")
      c.stem_norm = parse_choice(norm_kinds(), v, key);
    else if (k == "other_norm")
      c.other_norm = parse_choice(norm_kinds(), v, key);
    else
      throw UserError(cat("generator configuration: unknown key '", k, "'"));
  }
  return c;
}

std::string GeneratorConfig::describe() const {
  std::string o;
  for (const auto& [k, v] : parse_key_values(to_ini())) o += (o.empty() ? "" : " ") + k + "=" + v;
  return o;
}

// ---- discriminator --------------------------------------------------------------------------

DiscriminatorConfig DiscriminatorConfig::preset(NetworkPreset p) {
  DiscriminatorConfig c;
  if (p == NetworkPreset::tiny) {
    c.num_layers = 2;
    c.max_dim = 32;
  }
  return c;
}

DiscriminatorConfig DiscriminatorConfig::preset(const std::string& name) {
  return preset(preset_named(name, "discriminator"));
}

void DiscriminatorConfig::check() const {
  EPE_CHECK(num_layers >= 1 && num_layers <= 8, "discriminator: num_layers must be in 1..8");
  EPE_CHECK(max_dim >= 8 && max_dim % 8 == 0, "discriminator: max_dim must be a multiple of 8");
  EPE_CHECK(num_classes >= 1, "discriminator: num_classes must be >= 1");
  EPE_CHECK(patchgan_scales >= 1 && patchgan_scales <= 5, "discriminator: patchgan_scales must be in 1..5");
}

std::string DiscriminatorConfig::to_ini() const {
  std::ostringstream s;
  s << "type = " << choice_name(discriminator_types(), type) << "\nnorm = " << choice_name(norm_kinds(), norm)
    << "\nnum_layers = " << num_layers << "\nmax_dim = " << max_dim << "\nnum_classes = " << num_classes
    << "\npatchgan_scales = " << patchgan_scales << "\n";
  return s.str();
}

DiscriminatorConfig DiscriminatorConfig::from_ini(const std::string& text) {
  DiscriminatorConfig c;
  for (const auto& [k, v] : parse_key_values(text)) {
    const std::string key = "discriminator configuration: " + k;
    auto i = [&] { return to_int(k, v, "discriminator"); };
    if (k == "type")
      c.type = parse_choice(discriminator_types(), v, key);
    else if (k == "norm")
      c.norm = parse_choice(norm_kinds(), v, key);
    else if (k == "num_layers")
      c.num_layers = i();
    else if (k == "max_dim")
      c.max_dim = i();
    else if (k == "num_classes")
      c.num_classes = i();
    else if (k == "patchgan_scales")
      c.patchgan_scales = i();
    else
      throw UserError(cat("discriminator configuration: unknown key '", k, "'"));
  }
  return c;
}

}  // namespace epe::nn
