/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The DPDK runtime of mipvpnd: ports, mempools, worker lcores and the
 * control thread's view of them. Call eal_init() (runtime/eal.h) first.
 *
 * Ports are named by index (the order of RuntimeConfig::ports); that index
 * is what a Pipeline gets as in_port and returns as a verdict.
 *
 * Receive: with RSS on IPv4 (when the port offers it and a queue per
 * worker) each worker reads its own RX queue; otherwise worker 0 reads the
 * one RX queue and spreads the IPv4 packets over the workers through
 * rte_rings (runtime/spread.h: one SPI stays on one worker). Ethernet is
 * checked and stripped (runtime/eth.h), ARP is punted to the control
 * thread, then each worker's own Pipeline runs on the burst.
 *
 * A forwarded packet whose next hop is 0.0.0.0 goes to its IPv4
 * destination (a connected route).
 *
 * Threads: create(), start(), stop(), the send/poll calls and run() belong
 * to the control thread (the EAL main lcore); counts() may be called from
 * any thread.
 */
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "codec/ipv4_addr.h"
#include "codec/pkt.h"
#include "runtime/counters.h"
#include "codec/mac.h"
#include "runtime/status.h"
#include "stages/pipeline.h"

struct rte_mbuf;
struct rte_rcu_qsbr;

namespace mipvpn {

struct PortSpec {
  std::string name{};  /* ours, for messages */
  /* "net_ring0", "net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap" (a vdev:
   * created here, or taken as it is when EAL's --vdev or the caller already
   * made an ethdev of that name), or a PCI address "0000:03:00.0" probed
   * by EAL. */
  std::string device{};
  uint16_t mtu = 1500; /* IPv4 MTU; at most 2030 (single 2048-byte segment) */
  std::optional<MacAddr> mac{}; /* set on the port; else the port's own */
};

/* A static neighbour: next hop `ip` out of port index `port` is at `mac`. */
struct NeighbourSpec {
  uint16_t port = 0;
  Ipv4Addr ip;
  MacAddr mac;
};

struct RuntimeConfig {
  std::vector<PortSpec> ports;
  std::vector<NeighbourSpec> neighbours;
  unsigned workers = 1;        /* worker lcores; EAL must have that many */
  uint16_t rx_desc = 1024;     /* per RX queue */
  uint16_t tx_desc = 1024;     /* per TX queue */
  uint32_t mbufs_per_socket = 0; /* 0: enough for all rings and queues */
  uint32_t spread_ring_size = 1024; /* power of two */
  uint32_t punt_ring_size = 1024;   /* power of two */
  /* Workers sleep this long after a loop that found nothing (shared CPUs,
   * tests); 0 polls without pause. */
  uint32_t worker_idle_sleep_us = 0;
  uint32_t control_sleep_us = 1000; /* run(): pause between ticks */
  bool software_spread = false;     /* never use RSS (tests, comparisons) */
  bool catch_signals = true;        /* SIGINT/SIGTERM stop run() */
};

/* A packet on the control thread: a punted one, or one to send. */
struct CtlPkt {
  PktView view;               /* IPv4 at data(), or the whole frame when arp */
  uint16_t port = 0;          /* port index it came in on / goes out of */
  bool arp = false;           /* an ARP frame, Ethernet header included */
  rte_mbuf* mbuf = nullptr;   /* raw handle; nullptr: none */
};

using PipelineFactory = std::function<std::unique_ptr<Pipeline>(unsigned worker)>;
/* Called by each worker after each loop iteration (after its own
 * rte_rcu_qsbr_quiescent), e.g. to report to control/qsbr.h readers. */
using QuiescentHook = void (*)(unsigned worker, void* ctx) noexcept;

class Runtime;
struct RuntimeOrError {
  std::unique_ptr<Runtime> rt;
  std::string error;
};

class Runtime {
 public:
  /* Opens and configures the ports, mempools, rings and one Pipeline per
   * worker (factory called here, on this thread). Nothing runs yet. */
  static RuntimeOrError create(const RuntimeConfig& cfg, const PipelineFactory& factory);
  ~Runtime();  /* stop(), then frees everything */
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  /* Starts the ports and launches the workers. */
  RtStatus start(QuiescentHook hook = nullptr, void* hook_ctx = nullptr);
  /* Stops the workers, frees what the rings hold, stops and closes the
   * ports. Idempotent; counts() stays readable. */
  void stop() noexcept;

  /* Calls tick(*this) until a stop is requested (SIGINT/SIGTERM or
   * request_stop()); sleeps control_sleep_us between ticks. */
  void run(const std::function<void(Runtime&)>& tick);
  void request_stop() noexcept;
  bool stop_requested() const noexcept;

  /* Up to max punted packets; the caller owns them (send or free) and
   * must give every one back before the Runtime is destroyed (its
   * mempools go with it). */
  uint16_t poll_punts(CtlPkt* out, uint16_t max) noexcept;
  /* A fresh packet for `port` (its socket's pool): empty, data_off at the
   * default headroom. mbuf == nullptr when the pool is empty. */
  CtlPkt alloc(uint16_t port) noexcept;
  /* Send IPv4 at pkt.view.data() out of `port` to next_hop (Ethernet from
   * the neighbour table), on the control TX queue. Always consumes pkt;
   * false (and a counted drop) when it could not go. */
  bool send_ip(CtlPkt& pkt, uint16_t port, Ipv4Addr next_hop) noexcept;
  /* Send a complete Ethernet frame (e.g. an ARP reply). Consumes pkt. */
  bool send_frame(CtlPkt& pkt, uint16_t port) noexcept;
  void free(CtlPkt& pkt) noexcept;

  RtCounts counts() const noexcept;                 /* all workers + control */
  RtCounts worker_counts(unsigned worker) const noexcept;

  unsigned workers() const noexcept;
  uint16_t ports() const noexcept;
  uint16_t port_id(uint16_t port) const noexcept;   /* the ethdev port id */
  const MacAddr& port_mac(uint16_t port) const noexcept;
  bool port_rss(uint16_t port) const noexcept;      /* false: software spread */
  /* Things setup decided that a user should know (clamped workers, ...). */
  const std::vector<std::string>& notes() const noexcept;
  rte_rcu_qsbr* qsbr() const noexcept;  /* one thread id per worker */
  /* Grace periods over the workers (rte_rcu_qsbr, thread id = worker
   * index): rcu_start() after unpublishing a table, free it once
   * rcu_check(token) is true; rcu_synchronize() blocks until every running
   * worker has passed a quiescent state. Control thread. */
  uint64_t rcu_start() noexcept;
  bool rcu_check(uint64_t token) noexcept;
  void rcu_synchronize() noexcept;

  struct State;
 private:
  explicit Runtime(std::unique_ptr<State> s);
  std::unique_ptr<State> s_;
};

}  // namespace mipvpn
