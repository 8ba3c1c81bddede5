/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Next-hop IPv4 address -> Ethernet address, per port: the table the
 * workers read. The control thread builds a new one from its ARP cache
 * (runtime/arp_cache.h), publishes it with an atomic pointer swap and
 * frees the old one after an rte_rcu_qsbr grace period; a published table
 * is never written again. Open addressing with linear probing over a
 * power-of-two array; a lookup reads at most kMaxProbe slots. No DPDK.
 */
#pragma once

#include <array>
#include <cstdint>

#include "codec/ipv4_addr.h"
#include "codec/mac.h"

namespace mipvpn {

struct NeighbourEntry {
  Ipv4Addr ip;
  MacAddr mac;
  bool used = false;
  /* Resolution failed recently (RFC 1122 2.3.2.1 negative caching): the
   * workers drop packets for it instead of asking the control thread. */
  bool failed = false;
};

class NeighbourTable {
 public:
  /* Per port; a power of two. The ARP cache holds at most a quarter of
   * that (ArpCache::kMaxEntries), so probe chains stay short. */
  static constexpr uint32_t kSlots = 1024;
  static constexpr uint32_t kMaxProbe = 16;

  /* Before publication only. False when the table is full around that hash. */
  bool add(Ipv4Addr ip, const MacAddr& mac) noexcept { return put(ip, mac, false); }
  bool add_failed(Ipv4Addr ip) noexcept { return put(ip, MacAddr{}, true); }

  /* nullptr when there is no usable entry for ip (none, or failed). */
  const MacAddr* lookup(Ipv4Addr ip) const noexcept {
    const NeighbourEntry* e = find(ip);
    return e && !e->failed ? &e->mac : nullptr;
  }

  /* The entry for ip, failed ones included; nullptr when there is none. */
  const NeighbourEntry* find(Ipv4Addr ip) const noexcept {
    for (uint32_t i = 0, h = slot_of(ip); i < kMaxProbe; ++i, h = (h + 1) & (kSlots - 1)) {
      const NeighbourEntry& e = slots_[h];
      if (!e.used) return nullptr;
      if (e.ip == ip) return &e;
    }
    return nullptr;
  }

 private:
  bool put(Ipv4Addr ip, const MacAddr& mac, bool failed) noexcept {
    for (uint32_t i = 0, h = slot_of(ip); i < kMaxProbe; ++i, h = (h + 1) & (kSlots - 1)) {
      NeighbourEntry& e = slots_[h];
      if (!e.used || e.ip == ip) {
        e = NeighbourEntry{.ip = ip, .mac = mac, .used = true, .failed = failed};
        return true;
      }
    }
    return false;
  }
  static uint32_t slot_of(Ipv4Addr ip) noexcept {
    return (ip.host() * 0x9e3779b1u) >> 22; /* Fibonacci hashing to 10 bits */
  }
  static_assert(kSlots == 1024, "slot_of() yields 10 bits");
  std::array<NeighbourEntry, kSlots> slots_{};
};

}  // namespace mipvpn
