#pragma once
// Reader for state dicts written by Python's `torch.save` (zip format, PyTorch >= 1.6):
// <archive>/data.pkl is a pickle whose tensors refer to storages <archive>/data/<key>.
// LibTorch 1.13's own unpickler rejects the SETITEM opcode, which every state_dict() uses for
// its `_metadata` entries, so the subset of pickle that torch.save emits for dicts of tensors
// is interpreted here: containers, scalars, strings, collections.OrderedDict,
// torch._utils._rebuild_tensor_v2 / _rebuild_parameter and typed storages. Other globals
// become opaque values; only the dict's tensor entries are returned.

#include <ATen/core/Tensor.h>

#include <map>
#include <string>

namespace epe::nn {

// Tensors of the top-level dict by key (CPU). UserError naming the file when it is not a zip
// written by torch.save, holds no dict, or is damaged.
std::map<std::string, at::Tensor> read_torch_state_dict(const std::string& path);

}  // namespace epe::nn
