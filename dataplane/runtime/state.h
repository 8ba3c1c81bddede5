/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The runtime's inner state, shared by runtime.cc (setup, control
 * thread), port.cc (ethdev setup) and worker.cc (the loop). Internal.
 */
#pragma once

#include <rte_cycles.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

struct rte_eth_dev_info;

#include "runtime/arp_cache.h"
#include "runtime/counters.h"
#include "runtime/neighbour.h"
#include "runtime/punt_police.h"
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
  /* Published by the control thread (release), read by workers (acquire);
   * an old table is freed after a QSBR grace period. Never null while
   * workers run. */
  std::array<std::atomic<const NeighbourTable*>, kMaxPorts> neigh{};
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
  std::array<rte_mbuf*, kMaxBurst> resolve{};
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
  PuntPolicer police;        /* per source, before the punt ring */
  rte_ring* resolve = nullptr; /* ARP frames and unresolved next hops (SP/SC) */
  std::vector<RxSource> rx;
  std::unique_ptr<WorkerScratch> scratch;
  /* Worker 0, software spread: one bucket per target worker. */
  std::vector<std::array<rte_mbuf*, kRxBurst>> spread_buf;
  std::vector<uint16_t> spread_n;
};

/* Packets on a Worker::resolve ring: packet_type says which; m->port is
 * the port index (not the ethdev id); for kResolveTypeIpv4 the data is at
 * L3 and hash.usr holds the next hop (host order). */
inline constexpr uint32_t kResolveTypeArp = 1;
inline constexpr uint32_t kResolveTypeIpv4 = 2;

/* The control thread's neighbour state: per port an ARP cache and the
 * table published from it; tables waiting for their grace period. */
struct NeighCtl {
  std::vector<std::unique_ptr<ArpCache>> cache;          /* by port index */
  std::vector<std::unique_ptr<NeighbourTable>> current;  /* published */
  struct Retired {
    std::unique_ptr<NeighbourTable> table;
    uint64_t token = 0;
  };
  std::vector<Retired> retired;
  rte_ring* arp_out = nullptr; /* punt_arp: ARP frames for poll_punts (control only) */
  uint64_t now_ms = 0;         /* as of the last service() */
  /* RtArpCounts written by the control thread, read by counts(). */
  std::atomic<uint64_t> requests_sent{0}, replies_sent{0}, requests_received{0},
      replies_received{0}, ignored{0}, learned{0}, failed{0}, held{0}, released{0},
      evicted{0};
};

/* The control thread's clock for ARP timers: milliseconds of the TSC. */
inline uint64_t tsc_ms() noexcept {
  const uint64_t hz = rte_get_timer_hz();
  return rte_get_timer_cycles() / (hz >= 1000 ? hz / 1000 : 1);
}

/* neigh.cc */
RtStatus neigh_build(Runtime::State& s);
void neigh_service(Runtime::State& s, uint64_t now_ms) noexcept;
void neigh_flush(Runtime::State& s) noexcept;  /* workers stopped: drop held, drain rings */
void neigh_free(Runtime::State& s) noexcept;   /* teardown: tables and rings */
bool neigh_send_ip(Runtime::State& s, rte_mbuf* m, uint16_t port, Ipv4Addr nh) noexcept;
void neigh_counts(const Runtime::State& s, RtArpCounts& out) noexcept;

/* worker.cc: the lcore entry point (arg: Worker*). */
int worker_main(void* arg);

/* port.cc */
RtStatus port_resolve(PortState& p, std::vector<std::string>& notes);
uint16_t port_max_tx_queues(const PortState& p);
/* net_af_packet: one socket per queue pair, the kernel fans frames out
 * over all of them (worker 0 reads every RX queue; qpairs >= workers + 1). */
bool port_is_af_packet(const rte_eth_dev_info& info);
bool port_is_af_packet(const PortState& p);
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
  NeighCtl neigh;
  std::array<uint16_t, RTE_MAX_ETHPORTS> index_of_id{}; /* ethdev id -> index */
  unsigned instance = 0;
  bool started = false, stopped = false;
  bool punts_busy = false; /* poll_punts filled its batch since run()'s last tick */
  size_t punt_next = 0;    /* poll_punts' first worker, round robin */
};

}  // namespace mipvpn
