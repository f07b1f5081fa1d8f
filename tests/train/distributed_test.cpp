// c10d (Gloo) collectives of `epe train --distributed`, with two ranks as two threads.
#include "epe/train/distributed.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "test_util.h"

namespace epe::test {
namespace {

// Sets (or, with nullptr, unsets) environment variables for one scope.
struct Env {
  std::vector<std::pair<std::string, std::string>> saved;
  Env(std::initializer_list<std::pair<const char*, const char*>> vars) {
    for (const auto& [k, v] : vars) {
      const char* old = std::getenv(k);
      saved.emplace_back(k, old ? old : "\x01");
      if (v)
        setenv(k, v, 1);
      else
        unsetenv(k);
    }
  }
  ~Env() {
    for (const auto& [k, v] : saved)
      if (v == "\x01")
        unsetenv(k.c_str());
      else
        setenv(k.c_str(), v.c_str(), 1);
  }
};

TEST(Distributed, FirstHostOfASlurmNodeList) {
  EXPECT_EQ(first_slurm_host("node7"), "node7");
  EXPECT_EQ(first_slurm_host("gpu[03-05,9],cpu1"), "gpu03");
  EXPECT_EQ(first_slurm_host("a1,b[2-3]"), "a1");
  EXPECT_EQ(first_slurm_host("rack[12]-ib"), "rack12-ib");
}

TEST(Distributed, RendezvousFromTorchrunOrSrunVariables) {
  {
    Env e({{"RANK", "1"}, {"WORLD_SIZE", "4"}, {"MASTER_ADDR", "h0"}, {"MASTER_PORT", "29511"}});
    const Rendezvous r = rendezvous_from_environment();
    EXPECT_EQ(r.rank, 1);
    EXPECT_EQ(r.world, 4);
    EXPECT_EQ(r.master_addr, "h0");
    EXPECT_EQ(r.master_port, 29511);
  }
  {
    Env e({{"RANK", "1"}, {"WORLD_SIZE", "4"}, {"MASTER_ADDR", "h0"}, {"MASTER_PORT", nullptr}});
    EXPECT_TRUE(contains(user_error_message([] { rendezvous_from_environment(); }), "MASTER_PORT"));
  }
  {
    Env e({{"RANK", "4"}, {"WORLD_SIZE", "4"}, {"MASTER_ADDR", "h0"}, {"MASTER_PORT", "1"}});
    EXPECT_TRUE(contains(user_error_message([] { rendezvous_from_environment(); }), "RANK = '4'"));
  }
  {
    Env e({{"RANK", nullptr},
           {"WORLD_SIZE", nullptr},
           {"MASTER_ADDR", nullptr},
           {"MASTER_PORT", nullptr},
           {"SLURM_PROCID", "2"},
           {"SLURM_NTASKS", "3"},
           {"SLURM_NODELIST", "n[08-09]"},
           {"SLURM_JOB_ID", "123456"}});
    const Rendezvous r = rendezvous_from_environment();
    EXPECT_EQ(r.rank, 2);
    EXPECT_EQ(r.world, 3);
    EXPECT_EQ(r.master_addr, "n08");
    EXPECT_EQ(r.master_port, 20000 + 123456 % 20000);
  }
  {
    Env e({{"RANK", nullptr}, {"WORLD_SIZE", nullptr}, {"SLURM_PROCID", nullptr}});
    EXPECT_TRUE(contains(user_error_message([] { rendezvous_from_environment(); }), "torchrun"));
  }
}

Rendezvous local(int rank, int port) {
  Rendezvous r;
  r.rank = rank;
  r.world = 2;
  r.master_addr = "127.0.0.1";
  r.master_port = port;
  r.source = "test";
  return r;
}

TEST(Distributed, TwoRanksAverageAgreeAndBroadcast) {
  const int port = free_tcp_port();
  std::vector<double> got[2];
  bool agreed[2], disagreed[2];
  at::Tensor tensors[2][2];
  auto rank = [&](int i) {
    auto d = Distributed::connect(local(i, port), 30);
    EXPECT_EQ(d->rank(), i);
    EXPECT_EQ(d->world(), 2);
    // Gradients of two shapes: the mean over the ranks, in place.
    tensors[i][0] = torch::full({2, 3}, 1.0f + 2.0f * i);
    tensors[i][1] = torch::arange(4, torch::kFloat) * (i + 1);
    d->average({tensors[i][0], tensors[i][1]});
    got[i] = d->average(std::vector<double>{double(i), 10.0 * i});
    agreed[i] = d->all(true);
    disagreed[i] = d->all(i == 0);
    at::Tensor b = torch::full({3}, float(i + 5));
    d->broadcast({b});
    EXPECT_TRUE(torch::equal(b, torch::full({3}, 5.0f)));
    d->barrier();
  };
  std::thread t1(rank, 1);
  rank(0);
  t1.join();
  for (int i : {0, 1}) {
    EXPECT_TRUE(torch::equal(tensors[i][0], torch::full({2, 3}, 2.0f)));
    EXPECT_TRUE(torch::equal(tensors[i][1], torch::arange(4, torch::kFloat) * 1.5f));
    EXPECT_EQ(got[i], (std::vector<double>{0.5, 5.0}));
    EXPECT_TRUE(agreed[i]);
    EXPECT_FALSE(disagreed[i]);
  }
}

TEST(Distributed, APeerThatStopsIsAClearErrorWithinTheTimeout) {
  const int port = free_tcp_port();
  std::string message;
  std::thread t1([&] {
    auto d = Distributed::connect(local(1, port), 30);
    d->barrier();
    // Rank 1 leaves: its process group closes its connections.
  });
  auto d = Distributed::connect(local(0, port), 10);
  d->barrier();
  t1.join();
  const auto t0 = std::chrono::steady_clock::now();
  message = user_error_message([&] { d->average({torch::ones({4})}); });
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(15));
  EXPECT_TRUE(contains(message, "rank 0 of 2") && contains(message, "--resume")) << message;
}

TEST(Distributed, NoRankToMeetIsAClearErrorWithinTheTimeout) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::string m = user_error_message([&] { Distributed::connect(local(1, free_tcp_port()), 2); });
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(20));
  EXPECT_TRUE(contains(m, "could not join the rendezvous at 127.0.0.1")) << m;
}

}  // namespace
}  // namespace epe::test
