/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The traffic generator of the worker-loop scenarios (appliance_bench.cc):
 * EAL for the bench, net_ring ports made from our own rte_rings, and the
 * main lcore's loop that feeds prebuilt frames into an RX ring and
 * recycles what comes out of the TX rings; the worker threads' CPU time.
 * The bench is a harness around the runtime, so it includes DPDK here.
 */
#pragma once

#include <pthread.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/runtime.h"

struct rte_mempool;
struct rte_ring;

namespace mipvpn::bench {

inline constexpr uint32_t kInflight = 2048; /* mbufs circulating */
inline constexpr uint32_t kRingSize = 4096; /* > kInflight: no ring ever fills */

/* EAL with --no-huge, -m mb, --no-pci and lcores: main on the first CPU we
 * may use, worker k on CPU k mod n. Once per process. */
void eal_up(unsigned workers, uint32_t mb);

/* eal_cleanup() and the removal of EAL's runtime directory. */
struct EalGuard {
  EalGuard();
  ~EalGuard();
  EalGuard(const EalGuard&) = delete;
  EalGuard& operator=(const EalGuard&) = delete;
  std::string dir;
};

/* Prebuilt Ethernet frames, one per stride. */
struct Frames {
  std::vector<std::byte> mem;
  std::vector<uint32_t> len;
  uint32_t stride = 0;
  const std::byte* at(uint32_t i) const { return mem.data() + size_t{i} * stride; }
};

/* What the workers dropped, by reason, on stderr. */
void report_drops(const RtCounts& c);

/* Each worker's thread, learnt from the quiescent hook. */
struct WorkerThreads {
  std::array<std::atomic<bool>, 16> known{};
  std::array<pthread_t, 16> tid{};
};
void on_quiescent(unsigned worker, void* ctx) noexcept; /* ctx: WorkerThreads */
/* Nanoseconds of CPU the workers got so far, all together. */
uint64_t workers_cpu_ns(const WorkerThreads& t, unsigned workers);

/* A net_ring port from our rings: 1 RX ring, workers + 1 TX rings. The
 * ethdev is named "net_ring_" + name. */
struct PortRings {
  rte_ring* rx = nullptr;
  std::vector<rte_ring*> tx;
};
PortRings make_port(const std::string& name, unsigned workers);
void free_port(PortRings& p);
/* The generator's mbufs (default data room) on socket 0. */
rte_mempool* make_pool(uint32_t n);
void free_pool(rte_mempool* mp);

struct Gen {
  Runtime& rt;
  const Frames& f;
  rte_mempool* pool;
  rte_ring* rx;                 /* input port's RX ring */
  std::vector<rte_ring*> tx;    /* every TX ring of both ports */
  uint32_t next = 0;

  /* Feeds `target` frames; returns the TSC cycles until all are out (or
   * dropped); *out = frames that came out. */
  uint64_t round(uint64_t target, double hz, uint64_t* out);

 private:
  void fill(struct rte_mbuf** m, uint32_t n);
};

}  // namespace mipvpn::bench
