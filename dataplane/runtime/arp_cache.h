/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control thread's ARP cache for one port (RFC 826, RFC 1122 2.3.2):
 * the state of every next hop, the packets held while one is resolved,
 * and the timers. It decides; an ArpSink acts (sends requests, sends or
 * drops held packets). The workers never see it: they read the
 * NeighbourTable built from it by fill() and published by RCU. No DPDK,
 * no clock of its own (the caller passes milliseconds), no allocation
 * after construction.
 *
 * States and timers (ArpTimers, defaults in brackets):
 *   static      from the configuration; never aged, never overwritten by
 *               ARP (a learned address never replaces it).
 *   incomplete  a packet needed it: a broadcast request went out; another
 *               every retry_ms [1000] (RFC 1122 2.3.2.1: at most one per
 *               second per destination), `retries` [3] in all, holding up
 *               to `hold` [4] packets (RFC 1122 2.3.2.2: at least one, the
 *               latest: a full queue drops its oldest, arp_queue_full).
 *               Then -> failed, and the held packets are dropped
 *               (no_neighbour).
 *   reachable   address known (a reply, or a request for one of our
 *               addresses: RFC 826 merge). After reachable_ms [45000] ->
 *   probe       still used (published); a unicast request to the known
 *               address, then broadcast ones, every retry_ms, `retries` in
 *               all; an answer -> reachable, none -> the entry is removed
 *               (the next packet resolves it afresh).
 *   failed      published as failed: the workers drop at once
 *               (no_neighbour) for failed_ms [20000], then it is removed.
 *               An ARP packet from it makes it reachable at once.
 * A full cache (kMaxEntries) makes room by evicting the reachable, probe
 * or failed entry that expires first; static entries and entries holding
 * packets stay, and when only those are left a new next hop is dropped
 * (arp_table_full).
 */
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "codec/ipv4_addr.h"
#include "codec/mac.h"
#include "runtime/counters.h"
#include "runtime/neighbour.h"

namespace mipvpn {

struct ArpTimers {
  uint32_t retry_ms = 1000;      /* between requests for one next hop */
  uint32_t retries = 3;          /* requests before giving up (>= 1) */
  uint32_t reachable_ms = 45000; /* a learned address is used this long, then re-resolved */
  uint32_t failed_ms = 20000;    /* a failed next hop is dropped at once this long */
  uint32_t hold = 4;             /* packets held per unresolved next hop, 1..kMaxHold */
};

enum class NeighState : uint8_t { kFree, kStatic, kIncomplete, kReachable, kProbe, kFailed };

/* What the cache asks its owner to do. `pkt` is the owner's handle (an
 * mbuf in the runtime); the cache never looks into it. */
class ArpSink {
 public:
  /* Send an ARP request for ip: broadcast, or to *unicast when set. */
  virtual void arp_request(Ipv4Addr ip, const MacAddr* unicast) noexcept = 0;
  /* Send a held packet to mac. */
  virtual void arp_release(void* pkt, const MacAddr& mac) noexcept = 0;
  /* Drop a packet, counted under why. */
  virtual void arp_drop(void* pkt, RtDrop why) noexcept = 0;

 protected:
  ~ArpSink() = default;
};

struct ArpCacheStats {
  uint64_t requests = 0, learned = 0, failed = 0, held = 0, released = 0, evicted = 0;
};

class ArpCache {
 public:
  static constexpr uint32_t kMaxEntries = NeighbourTable::kSlots / 4;
  static constexpr uint32_t kMaxHold = 8;

  struct Entry {
    Ipv4Addr ip;
    MacAddr mac;
    NeighState state = NeighState::kFree;
    uint32_t tries = 0;      /* requests sent in this round */
    uint64_t deadline = 0;   /* ms: next retry, end of reachable or failed */
    uint32_t n_held = 0;
    std::array<void*, kMaxHold> held{};
  };

  explicit ArpCache(const ArpTimers& t);

  /* Configuration time. False when the cache is full. */
  bool add_static(Ipv4Addr ip, const MacAddr& mac) noexcept;

  enum class Resolve : uint8_t { kSent, kHeld, kDropped };
  /* A packet for next hop ip found no usable entry in the published
   * table: send it (the cache knows the address by now), hold it and
   * resolve (a full hold queue drops its oldest packet instead), or drop
   * it (failed, cache full). */
  Resolve resolve(Ipv4Addr ip, void* pkt, uint64_t now_ms, ArpSink& sink) noexcept;

  /* The sender (ip, mac) of an ARP packet (RFC 826 "merge"): updates an
   * entry that exists (not a static one); creates one when for_us (the
   * target address was ours). Held packets go out. */
  void learn(Ipv4Addr ip, const MacAddr& mac, bool for_us, uint64_t now_ms,
             ArpSink& sink) noexcept;

  /* Retries, aging, failures whose time has come. */
  void tick(uint64_t now_ms, ArpSink& sink) noexcept;

  /* Drop every held packet (shutdown). */
  void flush(ArpSink& sink) noexcept;

  /* Published state changed since the last fill(). */
  bool dirty() const noexcept { return dirty_; }
  /* Static, reachable and probe entries with their address, failed ones
   * as failed; clears dirty(). t must be empty. */
  void fill(NeighbourTable& t) noexcept;

  const Entry* find(Ipv4Addr ip) const noexcept;
  const ArpCacheStats& stats() const noexcept { return stats_; }
  const ArpTimers& timers() const noexcept { return t_; }

 private:
  Entry* find_mut(Ipv4Addr ip) noexcept;
  Entry* alloc(Ipv4Addr ip) noexcept;
  void release_all(Entry& e, ArpSink& sink) noexcept;
  void drop_all(Entry& e, RtDrop why, ArpSink& sink) noexcept;

  ArpTimers t_;
  std::vector<Entry> e_; /* kMaxEntries, allocated once */
  bool dirty_ = true;
  ArpCacheStats stats_;
};

}  // namespace mipvpn
