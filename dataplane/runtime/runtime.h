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
 * checked and stripped (runtime/eth.h), ARP goes to the control thread
 * (which answers and learns: service()), then each worker's own Pipeline
 * runs on the burst.
 *
 * A forwarded packet whose next hop is 0.0.0.0 goes to its IPv4
 * destination (a connected route). A next hop with no Ethernet address yet
 * is resolved by the control thread, which holds the packet meanwhile
 * (README.md: Neighbours and ARP).
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
#include "runtime/arp_cache.h"
#include "runtime/counters.h"
#include "runtime/punt_police.h"
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
  /* Every IPv4 address the appliance answers for on this port: the
   * control thread answers ARP requests for them (RFC 826) and learns the
   * senders of requests for them. The first is the sender address of our
   * own requests (none: 0.0.0.0, as an RFC 5227 probe). */
  std::vector<Ipv4Addr> addresses{};
};

/* A static neighbour: next hop `ip` out of port index `port` is at `mac`.
 * Never aged, and ARP never overwrites it. */
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
  /* Per-source rate of punted packets, per worker (runtime/punt_police.h). */
  PuntPoliceConfig punt_police{};
  /* Per worker, to the control thread: ARP frames and packets whose next
   * hop has no Ethernet address yet. Power of two. */
  uint32_t resolve_ring_size = 256;
  ArpTimers arp{};                  /* runtime/arp_cache.h */
  /* ARP frames also reach poll_punts() (arp = true) after the runtime has
   * answered and learned from them. Off: the caller never sees ARP. */
  bool punt_arp = false;
  /* Workers sleep this long after a loop that found nothing (shared CPUs,
   * tests); 0 polls without pause. */
  uint32_t worker_idle_sleep_us = 0;
  uint32_t control_sleep_us = 1000; /* run(): pause between ticks that found the punt rings drained */
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
 * rte_rcu_qsbr_quiescent), for a caller with its own readers (mipvpnd needs
 * none: its binding tables take grace periods from rcu_start/rcu_check). */
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

  /* Calls service() and then tick(*this) until a stop is requested
   * (SIGINT/SIGTERM or request_stop()); sleeps control_sleep_us between
   * ticks. */
  void run(const std::function<void(Runtime&)>& tick);
  void request_stop() noexcept;
  bool stop_requested() const noexcept;

  /* The runtime's own control work, on the control thread (run() calls
   * it every tick; a caller with its own loop calls it often, at least
   * every few tens of ms): answer ARP requests for PortSpec::addresses,
   * learn neighbours (RFC 826), resolve the next hops the workers could
   * not (requests, retries, held packets out once resolved), age
   * entries, publish new neighbour tables and free the old ones after a
   * grace period. service(now_ms) takes the time in ms from the caller
   * (tests); service() reads the TSC. Do not mix the two clocks. */
  void service() noexcept;
  void service(uint64_t now_ms) noexcept;
  /* The Ethernet address the workers use for next hop ip on port (the
   * published table), if any. Control thread. */
  std::optional<MacAddr> neighbour(uint16_t port, Ipv4Addr ip) const noexcept;
  /* The control thread's ARP state of ip on port (kFree: none). */
  NeighState neighbour_state(uint16_t port, Ipv4Addr ip) const noexcept;

  /* Up to max punted packets (IPv4; ARP frames only with punt_arp); the
   * caller owns them (send or free) and
   * must give every one back before the Runtime is destroyed (its
   * mempools go with it). */
  uint16_t poll_punts(CtlPkt* out, uint16_t max) noexcept;
  /* A fresh packet for `port` (its socket's pool): empty, data_off at the
   * default headroom. mbuf == nullptr when the pool is empty. */
  CtlPkt alloc(uint16_t port) noexcept;
  /* Send IPv4 at pkt.view.data() out of `port` to next_hop (Ethernet from
   * the neighbour table), on the control TX queue. Always consumes pkt.
   * An unknown next hop is resolved first (the packet is held and goes
   * out from service()): true. False (and a counted drop) when it could
   * not go and will not. */
  bool send_ip(CtlPkt& pkt, uint16_t port, Ipv4Addr next_hop) noexcept;
  /* Send a complete Ethernet frame (e.g. an ARP reply). Consumes pkt. */
  bool send_frame(CtlPkt& pkt, uint16_t port) noexcept;
  void free(CtlPkt& pkt) noexcept;

  RtCounts counts() const noexcept;                 /* all workers + control */
  RtCounts worker_counts(unsigned worker) const noexcept;
  /* TSC cycles per second (RtCounts::busy_cycles are TSC cycles). */
  uint64_t tsc_hz() const noexcept;

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
