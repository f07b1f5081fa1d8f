#include "epe/core/stage_options.h"

namespace epe {

OptionSet::Opt add_out_option(OptionSet& s, std::string* out, const std::string& help, bool required) {
  OptionSet::Opt o = s.add("out,o", out, help).not_recorded();
  if (required) o.required();
  return o;
}

OptionSet::Opt add_force_option(OptionSet& s, bool* force, const std::string& help) {
  return s.add("force", force, help).not_recorded();
}

OptionSet::Opt add_device_option(OptionSet& s, std::string* device, const std::string& help) {
  return s.add("device", device, help).not_recorded();
}

OptionSet::Opt add_shard_option(OptionSet& s, Shard* shard, const std::string& help, const std::string& name) {
  const std::string option = "--" + name;
  return s
      .add_text(
          name, [shard] { return shard->label(); },
          [shard, option](const std::string& v) { *shard = parse_shard(v, option); }, help)
      .not_recorded();
}

}  // namespace epe
