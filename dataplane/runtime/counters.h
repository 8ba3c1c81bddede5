/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Runtime counters: one cache-line aligned block per worker, written by
 * that worker only (once per burst, from locals) and summed by the control
 * thread on read. Relaxed atomics: plain loads and stores on x86, and no
 * data race for the reader. No DPDK.
 */
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

namespace mipvpn {

/* Why the runtime (not a stage) dropped a packet. */
enum class RtDrop : uint8_t {
  kRunt,          /* frame shorter than an Ethernet header */
  kNotForUs,      /* destination MAC neither ours nor broadcast */
  kVlan,          /* 802.1Q / 802.1ad tagged */
  kEtherType,     /* neither IPv4 nor ARP */
  kMultiSeg,      /* chained mbuf: single-segment only */
  kSpreadFull,    /* software RSS ring to another worker full */
  kPipeline,      /* a stage refused it (see stage_drops by its reason) */
  kBadOutPort,    /* verdict names a port that does not exist */
  kNoNeighbour,   /* no Ethernet address for the next hop */
  kNoHeadroom,    /* no room for the Ethernet header */
  kTxFull,        /* tx_burst did not take it */
  kPuntFull,      /* ring to the control thread full */
  kArpQueueFull,  /* next hop unresolved and its hold queue full (RFC 1122 2.3.2.2) */
  kResolveFull,   /* ring to the control thread for resolution full */
  kArpTableFull,  /* no free ARP cache entry for a new next hop */
  kArpBad,        /* ARP frame that is not Ethernet/IPv4 request or reply */
  kPuntPoliced,   /* punt over its source's rate (runtime/punt_police.h) */
  kCount
};
inline constexpr size_t kRtDropCount = static_cast<size_t>(RtDrop::kCount);

constexpr std::string_view to_string(RtDrop r) noexcept {
  switch (r) {
    case RtDrop::kRunt: return "runt";
    case RtDrop::kNotForUs: return "not_for_us";
    case RtDrop::kVlan: return "vlan";
    case RtDrop::kEtherType: return "ethertype";
    case RtDrop::kMultiSeg: return "multi_segment";
    case RtDrop::kSpreadFull: return "spread_ring_full";
    case RtDrop::kPipeline: return "pipeline";
    case RtDrop::kBadOutPort: return "bad_out_port";
    case RtDrop::kNoNeighbour: return "no_neighbour";
    case RtDrop::kNoHeadroom: return "no_headroom";
    case RtDrop::kTxFull: return "tx_full";
    case RtDrop::kPuntFull: return "punt_ring_full";
    case RtDrop::kArpQueueFull: return "arp_queue_full";
    case RtDrop::kResolveFull: return "resolve_ring_full";
    case RtDrop::kArpTableFull: return "arp_table_full";
    case RtDrop::kArpBad: return "arp_malformed";
    case RtDrop::kPuntPoliced: return "punt_policed";
    case RtDrop::kCount: break;
  }
  return "?";
}

/* Stage drop reasons (PktView::drop) counted one per slot; the last slot
 * takes every reason >= kStageDropSlots - 1. */
inline constexpr size_t kStageDropSlots = 64;

/* ARP on the control thread (RFC 826), all ports together. */
struct RtArpCounts {
  uint64_t requests_sent = 0;     /* resolutions and re-resolutions (probes) */
  uint64_t replies_sent = 0;      /* answers for our addresses */
  uint64_t requests_received = 0; /* requests for one of our addresses */
  uint64_t replies_received = 0;  /* any reply, to us or gratuitous */
  uint64_t ignored = 0;           /* ARP for an address not ours */
  uint64_t learned = 0;           /* entries created or given a new address */
  uint64_t failed = 0;            /* resolutions given up after the retries */
  uint64_t held = 0;              /* packets held while resolving */
  uint64_t released = 0;          /* held packets sent once resolved */
  uint64_t evicted = 0;           /* entries dropped to make room in a full cache */
};

/* A sum, as the control thread reads it. */
struct RtCounts {
  uint64_t rx = 0;      /* frames received from ports */
  uint64_t tx = 0;      /* frames a port took */
  uint64_t punted = 0;  /* handed to the control thread: punts, ARP frames,
                         * packets whose next hop is being resolved */
  uint64_t spread = 0;  /* handed to another worker (software RSS) */
  /* Worker loop accounting, as VPP's clocks per vector: TSC cycles of
   * the loop iterations that received at least one packet, and how many
   * iterations ran (polls) and received (busy_polls). busy_cycles / rx is
   * a worker's cost per packet without its idle polling. */
  uint64_t busy_cycles = 0;
  uint64_t polls = 0;
  uint64_t busy_polls = 0;
  std::array<uint64_t, kRtDropCount> drops{};
  std::array<uint64_t, kStageDropSlots> stage_drops{};
  RtArpCounts arp{};

  uint64_t drop(RtDrop r) const noexcept { return drops[static_cast<size_t>(r)]; }
  uint64_t total_drops() const noexcept {
    uint64_t s = 0;
    for (auto v : drops) s += v;
    return s;
  }
};

/* One worker's block. Only its worker writes it. */
struct alignas(64) WorkerCounters {
  std::atomic<uint64_t> rx{0}, tx{0}, punted{0}, spread{0};
  std::atomic<uint64_t> busy_cycles{0}, polls{0}, busy_polls{0};
  std::array<std::atomic<uint64_t>, kRtDropCount> drops{};
  std::array<std::atomic<uint64_t>, kStageDropSlots> stage_drops{};

  static void add(std::atomic<uint64_t>& c, uint64_t v) noexcept {
    if (v) c.store(c.load(std::memory_order_relaxed) + v, std::memory_order_relaxed);
  }
  void add_to(RtCounts& s) const noexcept {
    s.rx += rx.load(std::memory_order_relaxed);
    s.tx += tx.load(std::memory_order_relaxed);
    s.punted += punted.load(std::memory_order_relaxed);
    s.spread += spread.load(std::memory_order_relaxed);
    s.busy_cycles += busy_cycles.load(std::memory_order_relaxed);
    s.polls += polls.load(std::memory_order_relaxed);
    s.busy_polls += busy_polls.load(std::memory_order_relaxed);
    for (size_t i = 0; i < kRtDropCount; ++i) s.drops[i] += drops[i].load(std::memory_order_relaxed);
    for (size_t i = 0; i < kStageDropSlots; ++i)
      s.stage_drops[i] += stage_drops[i].load(std::memory_order_relaxed);
  }
};

/* A worker's counts for one loop iteration, kept in locals and written once. */
struct BurstCounts {
  uint32_t rx = 0, tx = 0, punted = 0, spread = 0;
  std::array<uint32_t, kRtDropCount> drops{};

  void drop(RtDrop r, uint32_t n = 1) noexcept { drops[static_cast<size_t>(r)] += n; }
  void flush(WorkerCounters& c) noexcept {
    WorkerCounters::add(c.rx, rx);
    WorkerCounters::add(c.tx, tx);
    WorkerCounters::add(c.punted, punted);
    WorkerCounters::add(c.spread, spread);
    for (size_t i = 0; i < kRtDropCount; ++i) WorkerCounters::add(c.drops[i], drops[i]);
    *this = BurstCounts{};
  }
};

}  // namespace mipvpn
