#pragma once
// The options every stage shares, bound one way everywhere (COLMAP's OptionManager::Add*Options):
// each stage's add_options() calls these for its --out, --force, --device and --shard, so their
// names, help and recording rule are the same in every command. None of them is recorded in
// the output's options (resolved_ini()): where a result goes, whether it replaced another, the
// device and the shard do not change what is computed (shards are recorded by the stores'
// own shard attributes).

#include <string>

#include "epe/core/options.h"
#include "epe/core/shard.h"

namespace epe {

// --out/-o: the output path (required unless `required` is false).
OptionSet::Opt add_out_option(OptionSet& s, std::string* out, const std::string& help, bool required = true);

// --force: replace an existing output.
OptionSet::Opt add_force_option(OptionSet& s, bool* force, const std::string& help = "overwrite an existing output");

// --device: "cpu", "cuda" or "cuda:N" (checked where the device is made, nn/device.h).
OptionSet::Opt add_device_option(OptionSet& s, std::string* device, const std::string& help = "cpu | cuda | cuda:N");

// --shard (or `name`): "I/N", "auto" (from the Slurm array's environment) or empty, parsed into
// *shard when the option is read (core/shard.h's parse_shard; UserError naming the option).
OptionSet::Opt add_shard_option(OptionSet& s, Shard* shard, const std::string& help, const std::string& name = "shard");

}  // namespace epe
