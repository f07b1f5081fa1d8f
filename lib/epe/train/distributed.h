#pragma once
// Data-parallel training over LibTorch's c10d (`epe train --distributed`): the rendezvous that
// srun or torchrun describe in the environment, a c10d TCPStore on rank 0, and a Gloo process
// group (CPU tensors; CUDA tensors too, staged through the host — Debian's LibTorch has no
// NCCL). Every collective either completes or throws UserError naming this rank and the cause
// (a peer that died, a timeout), so no rank hangs past the timeout.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace at {
class Tensor;
}

namespace epe {

struct Rendezvous {
  int rank = 0, world = 1;
  std::string master_addr;  // host of rank 0 (its TCPStore)
  int master_port = 0;
  std::string source;  // which variables gave it: "RANK/WORLD_SIZE" or "SLURM_PROCID/SLURM_NTASKS"
};

// From RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT (torchrun, or set by hand), else from
// SLURM_PROCID, SLURM_NTASKS and the first host of SLURM_NODELIST (srun), with MASTER_PORT or,
// when unset, 20000 + SLURM_JOB_ID mod 20000 (so two jobs on one node do not collide).
// UserError naming what is missing or malformed.
Rendezvous rendezvous_from_environment();

// The first host of a Slurm node list: "gpu[03-05,9],cpu1" -> "gpu03".
std::string first_slurm_host(const std::string& nodelist);

class Distributed {
 public:
  // Connects this rank to the others (rank 0 serves the store); waits at most timeout_s for
  // all of them, and every later collective at most timeout_s too.
  static std::unique_ptr<Distributed> connect(const Rendezvous& r, double timeout_s);
  ~Distributed();

  int rank() const { return rank_; }
  int world() const { return world_; }
  std::string describe() const;  // e.g. "gloo, 2 ranks, rendezvous 127.0.0.1:29500 (RANK/WORLD_SIZE)"

  // In place: every tensor becomes the mean of its values over the ranks (one all-reduce of
  // the tensors flattened together; all ranks must pass tensors of the same shapes).
  void average(const std::vector<at::Tensor>& tensors);
  std::vector<double> average(const std::vector<double>& values);
  // True on every rank when `value` is true on every rank.
  bool all(bool value);
  // In place: rank 0's values on every rank.
  void broadcast(const std::vector<at::Tensor>& tensors);
  void barrier();

 private:
  Distributed() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int rank_ = 0, world_ = 1;
};

}  // namespace epe
