/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The runtime's inner state, shared by runtime.cc (setup, control
 * thread), port.cc (ethdev setup) and worker.cc (the loop). Internal.
 */
#pragma once

#include <rte_mempool.h>
#include <rte_ring.h>

#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "runtime/counters.h"
#include "runtime/neighbour.h"
#include "runtime/runtime.h"

namespace mipvpn {

inline constexpr uint16_t kMaxPorts = 16;
inline constexpr uint16_t kRxBurst = 32;  /* per rx_burst / ring dequeue */

struct PortState {
  PortSpec spec;
  uint16_t id = 0;           /* ethdev port id */
  int socket = 0;
  MacAddr mac;
  bool rss = false;
  bool mac_soft = false;     /* MAC kept in software only: promiscuous */
  uint16_t nb_rxq = 1, nb_txq = 1;
  std::string vdev_name;     /* non-empty when we created the vdev */
  bool configured = false, started = false;
  rte_mempool* pool = nullptr;
  NeighbourTable neigh;
};

/* Where a worker reads packets from. */
struct RxSource {
  uint16_t port = 0;     /* port index */
  uint16_t port_id = 0;  /* ethdev id; unused for rings */
  uint16_t queue = 0;
  bool spread = false;   /* worker 0 on a single-queue port: spread to others */
  rte_ring* ring = nullptr; /* set: read this spread ring instead of a port */
};

/* Read-only to workers while they run (except `stop`). */
struct Shared {
  uint16_t n_ports = 0;
  unsigned n_workers = 0;
  std::array<uint16_t, kMaxPorts> port_id{};
  std::array<MacAddr, kMaxPorts> mac{};
  std::array<const NeighbourTable*, kMaxPorts> neigh{};
  /* spread[port * n_workers + w]: worker 0 -> worker w (w >= 1). */
  std::vector<rte_ring*> spread;
  std::atomic<bool> stop{false};
  rte_rcu_qsbr* qsbr = nullptr;
  QuiescentHook hook = nullptr;
  void* hook_ctx = nullptr;
  uint32_t idle_sleep_us = 0;
};

/* Per-worker scratch: no allocation in the loop. */
struct WorkerScratch {
  std::array<rte_mbuf*, kMaxBurst> mbufs{};
  std::array<PktView, kMaxBurst> views{};
  std::array<PktView*, kMaxBurst> view_ptrs{};
  std::array<Ipv4Addr, kMaxBurst> next_hop{};
  std::array<rte_mbuf*, kMaxBurst> punt{};
  std::array<rte_mbuf*, kMaxBurst> dead{};
  std::array<std::array<rte_mbuf*, kMaxBurst>, kMaxPorts> tx{};
  std::array<uint16_t, kMaxPorts> tx_n{};
};

struct Worker {
  unsigned id = 0;
  unsigned lcore = 0;
  bool launched = false;
  const Shared* sh = nullptr;
  std::unique_ptr<Pipeline> pipeline;
  WorkerCounters* counters = nullptr;
  rte_ring* punt = nullptr;  /* to the control thread (SP/SC) */
  std::vector<RxSource> rx;
  std::unique_ptr<WorkerScratch> scratch;
  /* Worker 0, software spread: one bucket per target worker. */
  std::vector<std::array<rte_mbuf*, kRxBurst>> spread_buf;
  std::vector<uint16_t> spread_n;
};

/* worker.cc: the lcore entry point (arg: Worker*). */
int worker_main(void* arg);

/* port.cc */
RtStatus port_resolve(PortState& p, std::vector<std::string>& notes);
uint16_t port_max_tx_queues(const PortState& p);
RtStatus port_configure(PortState& p, const RuntimeConfig& cfg, unsigned workers,
                        std::vector<std::string>& notes);
RtStatus port_start(PortState& p);
void port_close(PortState& p) noexcept;

struct Runtime::State {
  RuntimeConfig cfg;
  std::vector<PortState> ports;      /* by index; stable addresses after create */
  std::vector<rte_mempool*> pools;   /* one per socket used */
  Shared sh;
  std::vector<std::unique_ptr<Worker>> workers;
  std::unique_ptr<WorkerCounters[]> counters; /* workers + 1 (control) */
  std::vector<std::string> notes;
  std::array<uint16_t, RTE_MAX_ETHPORTS> index_of_id{}; /* ethdev id -> index */
  unsigned instance = 0;
  bool started = false, stopped = false;
};

}  // namespace mipvpn
