/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Next-hop IPv4 address -> Ethernet address, per port. This slice holds
 * static entries only, filled before the workers start and read-only
 * while they run (ARP resolution, RFC 826, and publication of a new table
 * by RCU are a later slice). Open addressing with linear probing over a
 * power-of-two array; a lookup reads at most kMaxProbe slots. No DPDK.
 */
#pragma once

#include <array>
#include <cstdint>

#include "codec/ipv4_addr.h"
#include "codec/mac.h"

namespace mipvpn {

class NeighbourTable {
 public:
  static constexpr uint32_t kSlots = 256; /* per port; a power of two */
  static constexpr uint32_t kMaxProbe = 16;

  /* Setup time only. False when the table is full around that hash. */
  bool add(Ipv4Addr ip, const MacAddr& mac) noexcept {
    for (uint32_t i = 0, h = slot_of(ip); i < kMaxProbe; ++i, h = (h + 1) & (kSlots - 1)) {
      Entry& e = slots_[h];
      if (!e.used || e.ip == ip) {
        e = Entry{.ip = ip, .mac = mac, .used = true};
        return true;
      }
    }
    return false;
  }

  /* nullptr when there is no entry for ip. */
  const MacAddr* lookup(Ipv4Addr ip) const noexcept {
    for (uint32_t i = 0, h = slot_of(ip); i < kMaxProbe; ++i, h = (h + 1) & (kSlots - 1)) {
      const Entry& e = slots_[h];
      if (!e.used) return nullptr;
      if (e.ip == ip) return &e.mac;
    }
    return nullptr;
  }

 private:
  struct Entry {
    Ipv4Addr ip;
    MacAddr mac;
    bool used = false;
  };
  static uint32_t slot_of(Ipv4Addr ip) noexcept {
    return (ip.host() * 0x9e3779b1u) >> 24; /* Fibonacci hashing to 8 bits */
  }
  static_assert(kSlots == 256, "slot_of() yields 8 bits");
  std::array<Entry, kSlots> slots_{};
};

}  // namespace mipvpn
