#pragma once
// Reader for state dicts written by Python's `torch.save`, in both of its formats:
//   - zip (PyTorch >= 1.6): <archive>/data.pkl is a pickle whose tensors refer to storages
//     <archive>/data/<key>;
//   - legacy (before 1.6, or _use_new_zipfile_serialization=False; e.g. torchvision's
//     vgg16-397923af.pth): five pickles back to back (magic number, protocol 1001, system
//     info, the object, its storage keys), then each storage as an int64 element count and
//     its raw little-endian elements.
// LibTorch 1.13's own unpickler rejects the SETITEM opcode, which every state_dict() uses for
// its `_metadata` entries, so the subset of pickle that torch.save emits for dicts of tensors
// is interpreted here: containers, scalars, strings, collections.OrderedDict,
// torch._utils._rebuild_tensor_v2 / _rebuild_parameter and typed storages. Other globals
// become opaque values; only the dict's tensor entries are returned.

#include <ATen/core/Tensor.h>

#include <cstddef>
#include <map>
#include <string>

namespace epe::nn {

// Tensors of the top-level dict by key (CPU), from either format. UserError naming the file
// when it is not written by torch.save, holds no dict of tensors, or is damaged or truncated.
std::map<std::string, at::Tensor> read_torch_state_dict(const std::string& path);

// Whether the first bytes of a file are those of the legacy format (pickle protocol 2 opening
// with the magic number).
bool is_legacy_torch_file(const unsigned char* head, size_t n);

}  // namespace epe::nn
