#include "epe/train/distributed.h"

// c10d's Gloo process group is compiled into Debian's libtorch; its header is behind this macro
// and needs gloo's own headers (libgloo-dev).
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO 1
#endif
#include <torch/torch.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "epe/core/error.h"

namespace epe {

namespace {

const char* env(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? v : nullptr;
}

int env_int(const char* name, int lo, int hi) {
  const char* v = env(name);
  char* end = nullptr;
  const long x = std::strtol(v, &end, 10);
  EPE_CHECK(end && *end == 0 && x >= lo && x <= hi, "--distributed: environment variable ", name, " = '", v,
            "' is not an integer in [", lo, ", ", hi, "]");
  return static_cast<int>(x);
}

// The tensors flattened into one buffer, and back: one collective moves them all.
at::Tensor flatten(const std::vector<at::Tensor>& tensors) {
  std::vector<at::Tensor> flat;
  for (const at::Tensor& t : tensors) flat.push_back(t.detach().reshape(-1));
  return torch::cat(flat);
}
void unflatten(const at::Tensor& buf, const std::vector<at::Tensor>& tensors) {
  std::int64_t at = 0;
  for (const at::Tensor& t : tensors) {
    const std::int64_t n = t.numel();
    t.detach().copy_(buf.slice(0, at, at + n).view_as(t));
    at += n;
  }
}

}  // namespace

std::string first_slurm_host(const std::string& list) {
  // The first entry, up to a comma outside brackets.
  std::size_t end = 0;
  int depth = 0;
  for (; end < list.size(); ++end) {
    if (list[end] == '[') ++depth;
    if (list[end] == ']') --depth;
    if (list[end] == ',' && depth == 0) break;
  }
  const std::string first = list.substr(0, end);
  const std::size_t open = first.find('[');
  if (open == std::string::npos) return first;
  // prefix[03-05,9] -> prefix03: the first number of the range, zero padding kept.
  const std::size_t stop = first.find_first_of("-,]", open + 1);
  EPE_CHECK(stop != std::string::npos && stop > open + 1, "--distributed: cannot read SLURM_NODELIST '", list, "'");
  return first.substr(0, open) + first.substr(open + 1, stop - open - 1) +
         (first.find(']') + 1 < first.size() ? first.substr(first.find(']') + 1) : "");
}

Rendezvous rendezvous_from_environment() {
  Rendezvous r;
  if (env("RANK") || env("WORLD_SIZE")) {
    for (const char* v : {"RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"})
      EPE_CHECK(env(v), "--distributed: RANK/WORLD_SIZE are set but ", v,
                " is not (torchrun sets RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT)");
    r.world = env_int("WORLD_SIZE", 1, 65536);
    r.rank = env_int("RANK", 0, r.world - 1);
    r.master_addr = env("MASTER_ADDR");
    r.master_port = env_int("MASTER_PORT", 1, 65535);
    r.source = "RANK/WORLD_SIZE";
    return r;
  }
  EPE_CHECK(env("SLURM_PROCID") && env("SLURM_NTASKS") && env("SLURM_NODELIST"),
            "--distributed: no rendezvous in the environment: set RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT "
            "(as torchrun does), or start the ranks with srun (SLURM_PROCID, SLURM_NTASKS, SLURM_NODELIST)");
  r.world = env_int("SLURM_NTASKS", 1, 65536);
  r.rank = env_int("SLURM_PROCID", 0, r.world - 1);
  r.master_addr = env("MASTER_ADDR") ? env("MASTER_ADDR") : first_slurm_host(env("SLURM_NODELIST"));
  r.master_port = env("MASTER_PORT")    ? env_int("MASTER_PORT", 1, 65535)
                  : env("SLURM_JOB_ID") ? 20000 + env_int("SLURM_JOB_ID", 0, 2147483647) % 20000
                                        : 29500;
  r.source = "SLURM_PROCID/SLURM_NTASKS";
  return r;
}

struct Distributed::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg;
  Rendezvous r;
  std::chrono::milliseconds timeout{0};

  // Runs one collective and waits for it; a failure names this rank and the likely cause.
  void run(const char* what, const std::function<c10::intrusive_ptr<c10d::Work>()>& start) {
    try {
      auto work = start();
      work->wait(timeout);
    } catch (const std::exception& e) {
      std::string m = e.what();
      m = m.substr(0, m.find('\n'));
      throw UserError(cat("distributed training: rank ", r.rank, " of ", r.world, ": ", what, " failed (", m,
                          "); another rank stopped or did not answer within the timeout. Checkpoints "
                          "written so far are intact: resume with --resume"));
    }
  }
};

std::unique_ptr<Distributed> Distributed::connect(const Rendezvous& r, double timeout_s) {
  EPE_CHECK(timeout_s > 0, "option --dist-timeout: must be > 0");
  std::unique_ptr<Distributed> d(new Distributed());
  d->impl_ = std::make_unique<Impl>();
  Impl& m = *d->impl_;
  m.r = r;
  m.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(timeout_s * 1000));
  d->rank_ = r.rank;
  d->world_ = r.world;
  try {
    c10d::TCPStoreOptions so;
    so.port = static_cast<std::uint16_t>(r.master_port);
    so.isServer = r.rank == 0;
    so.numWorkers = static_cast<std::size_t>(r.world);
    so.waitWorkers = true;
    so.timeout = m.timeout;
    m.store = c10::make_intrusive<c10d::TCPStore>(r.master_addr, so);
    auto opts = c10d::ProcessGroupGloo::Options::create(m.timeout);
    opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    m.pg = c10::make_intrusive<c10d::ProcessGroupGloo>(m.store, r.rank, r.world, opts);
  } catch (const std::exception& e) {
    std::string w = e.what();
    throw UserError(cat("distributed training: rank ", r.rank, " of ", r.world, " could not join the rendezvous at ",
                        r.master_addr, ":", r.master_port, " (from ", r.source, ") within ", timeout_s,
                        " s: ", w.substr(0, w.find('\n'))));
  }
  return d;
}

Distributed::~Distributed() = default;

std::string Distributed::describe() const {
  return cat("gloo, ", world_, " ranks, rendezvous ", impl_->r.master_addr, ":", impl_->r.master_port, " (",
             impl_->r.source, ")");
}

void Distributed::average(const std::vector<at::Tensor>& tensors) {
  if (tensors.empty()) return;
  std::vector<at::Tensor> buf{flatten(tensors)};
  impl_->run("an all-reduce of gradients", [&] { return impl_->pg->allreduce(buf); });
  buf[0].div_(world_);
  unflatten(buf[0], tensors);
}

std::vector<double> Distributed::average(const std::vector<double>& values) {
  if (values.empty()) return values;
  std::vector<at::Tensor> buf{torch::tensor(values, torch::kFloat64)};
  impl_->run("an all-reduce of statistics", [&] { return impl_->pg->allreduce(buf); });
  buf[0].div_(world_);
  const double* p = buf[0].data_ptr<double>();
  return std::vector<double>(p, p + values.size());
}

bool Distributed::all(bool value) {
  std::vector<at::Tensor> buf{torch::tensor({value ? 1.0 : 0.0}, torch::kFloat64)};
  c10d::AllreduceOptions o;
  o.reduceOp = c10d::ReduceOp::MIN;
  impl_->run("an all-reduce of a decision", [&] { return impl_->pg->allreduce(buf, o); });
  return buf[0].item<double>() > 0.5;
}

void Distributed::broadcast(const std::vector<at::Tensor>& tensors) {
  if (tensors.empty()) return;
  std::vector<at::Tensor> buf{flatten(tensors)};
  impl_->run("a broadcast of parameters", [&] { return impl_->pg->broadcast(buf); });
  unflatten(buf[0], tensors);
}

void Distributed::barrier() {
  impl_->run("a barrier", [&] { return impl_->pg->barrier(); });
}

}  // namespace epe
