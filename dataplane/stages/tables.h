/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the control thread publishes for the workers: roles, our
 * addresses, the binding tables of the two home agents, the inbound SAs
 * by SPI, the outbound SPD, routes and port MTUs. Immutable once built
 * (StageTablesBuilder); the control thread builds a new one, publishes
 * it with an atomic pointer store and frees the old one after a QSBR
 * grace period (control/qsbr.h). The tables point to EspSa objects and
 * BindingTables they do not own: their owner keeps them alive at least as
 * long as any published StageTables that names them.
 * Workers only read; every lookup here is allocation-free and noexcept.
 */
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "codec/hash.h"
#include "codec/ipv4_addr.h"
#include "crypto/esp.h"
#include "ha/binding_table.h"
#include "stages/icmp_state.h"
#include "stages/pipeline.h"

namespace mipvpn {

inline constexpr uint8_t kRoleXha = 0x01;    /* external home agent */
inline constexpr uint8_t kRoleVpnGw = 0x02;  /* VPN gateway */
inline constexpr uint8_t kRoleIha = 0x04;    /* internal home agent */

/* An inbound SA as the workers find it by SPI. */
struct InbSa {
  uint32_t spi = 0;
  EspSa* sa = nullptr;
  Ipv4Prefix inner_src;  /* RFC 4301 5.2: the inner source the SA may carry */
};

/* SPI -> InbSa, open addressing with linear probing, load <= 1/2. */
class SpiMap {
 public:
  const InbSa* find(uint32_t spi) const noexcept {
    if (slots_.empty()) return nullptr;
    for (uint32_t i = hash(spi) & mask_;; i = (i + 1) & mask_) {
      const InbSa& s = slots_[i];
      if (s.spi == spi) return &s;
      if (s.spi == 0) return nullptr;  /* SPI 0 never names an SA (RFC 4303 2.1) */
    }
  }
  size_t size() const noexcept { return n_; }

 private:
  friend class StageTablesBuilder;
  static uint32_t hash(uint32_t k) noexcept {
    k ^= k >> 16;
    k *= 0x7feb352du;
    k ^= k >> 15;
    return k;
  }
  std::vector<InbSa> slots_;
  uint32_t mask_ = 0;
  size_t n_ = 0;
};

/* Outbound SPD entry: inner destination prefix -> SA (tunnel mode). */
struct SpdEntry {
  Ipv4Prefix dst;
  EspSa* sa = nullptr;
};

struct Route {
  Ipv4Prefix dst;
  uint16_t port = 0;
  Ipv4Addr next_hop;  /* 0.0.0.0: connected, the destination itself */
};

/*
 * Which side of the VPN gateway a port is on (RFC 4301 4.4.1: protected
 * and unprotected interfaces). A packet that came in on an external port
 * in clear (not through ESP inbound in the same call) may not enter the
 * protected side: no i-MIP encap, no ESP outbound, no forwarding out of an
 * internal port (kUnprotected). Internal ports take anything.
 */
enum class PortZone : uint8_t { kInternal, kExternal };

/* RFC 1812 4.3.2.8 asks for a limit and leaves the figures to us. */
inline constexpr uint32_t kIcmpDefaultRate = 1000;
inline constexpr uint32_t kIcmpDefaultBurst = 100;

/* What classification learns about a destination address of ours. */
inline constexpr uint8_t kOwnXha = 0x01;
inline constexpr uint8_t kOwnIha = 0x02;
inline constexpr uint8_t kOwnGw = 0x04;
inline constexpr uint8_t kOwnPort = 0x08;

class StageTables {
 public:
  uint8_t roles() const noexcept { return roles_; }
  /* Distinct for every table ever built in this process (a new table may
   * reuse a freed one's address): what a worker's memo of lookups is
   * keyed on (stages/dst_memo.h). */
  uint64_t serial() const noexcept { return serial_; }
  bool has(uint8_t role) const noexcept { return (roles_ & role) != 0; }

  /* kOwn* bits for dst; addresses of disabled roles do not count. The
   * distinct addresses with their bits merged (build()), in a table with
   * open addressing at load <= 1/4 (an empty slot has bits 0). */
  uint8_t own(Ipv4Addr dst) const noexcept {
    /* Every classification pass asks, for every packet: one multiply and
     * (nearly always) one probe instead of a walk of the list. */
    for (uint32_t i = own_hash(dst.host());; i = (i + 1) & own_mask_) {
      const OwnAddr& a = own_slots_[i];
      if (a.bits == 0) return 0;
      if (a.addr == dst.host()) return static_cast<uint8_t>(a.bits);
    }
  }
  Ipv4Addr xha_addr() const noexcept { return xha_addrs_.empty() ? Ipv4Addr() : xha_addrs_[0]; }
  Ipv4Addr iha_addr() const noexcept { return iha_addrs_.empty() ? Ipv4Addr() : iha_addrs_[0]; }
  Ipv4Addr gw_addr() const noexcept { return gw_addr_; }

  const BindingTable* xha_bindings() const noexcept { return xha_bind_; }
  const BindingTable* iha_bindings() const noexcept { return iha_bind_; }

  const InbSa* inbound_sa(uint32_t spi) const noexcept { return inb_.find(spi); }

  /* Longest prefix first: the first match wins. One hash probe per
   * distinct prefix length (longest first) on (dst & mask, length); the
   * slot holds the first entry of that prefix in the sorted SPD, which is
   * the one a walk of the SPD would stop at. */
  EspSa* spd_lookup(Ipv4Addr dst) const noexcept {
    for (const SpdLen& l : spd_lens_) {
      const uint32_t net = dst.host() & l.mask;
      for (uint32_t i = spd_hash(net, l.len) & spd_mask_;; i = (i + 1) & spd_mask_) {
        const SpdSlot& e = spd_slots_[i];
        if (e.sa == nullptr) break;
        if (e.net == net && e.len == l.len) return e.sa;
      }
    }
    return nullptr;
  }
  const Route* route_lookup(Ipv4Addr dst) const noexcept {
    const size_t k = first_match(route_keys_, dst);
    return k < routes_.size() ? &routes_[k] : nullptr;
  }
  /* What forwarding reads of a route and its port, resolved at build(). */
  struct FwdRoute {
    Ipv4Addr next_hop;  /* 0.0.0.0: connected */
    uint16_t port;
    uint16_t mtu;       /* port_mtu(port) */
    bool internal;      /* port_internal(port) */
  };
  /* route_lookup(dst) as forwarding needs it. */
  const FwdRoute* fwd_lookup(Ipv4Addr dst) const noexcept {
    const size_t k = first_match(route_keys_, dst);
    return k < fwd_.size() ? &fwd_[k] : nullptr;
  }
  uint16_t port_mtu(uint16_t port) const noexcept { return port < mtu_.size() ? mtu_[port] : 0; }
  /* Unknown ports count as external. */
  bool port_internal(uint16_t port) const noexcept {
    return port == kPortLocal || (port < zone_.size() && zone_[port] == PortZone::kInternal);
  }
  uint16_t n_ports() const noexcept { return static_cast<uint16_t>(mtu_.size()); }
  /* The address of a port; 0.0.0.0 for kPortLocal and unknown ports. */
  Ipv4Addr port_addr(uint16_t port) const noexcept {
    return port < port_addrs_.size() ? port_addrs_[port] : Ipv4Addr();
  }
  /* ICMP errors per second and burst per pipeline (RFC 1812 4.3.2.8). */
  uint32_t icmp_rate() const noexcept { return icmp_rate_; }
  uint32_t icmp_burst() const noexcept { return icmp_burst_; }

 private:
  friend class StageTablesBuilder;
  StageTables() = default;

  /* A prefix as the lookups test it: (dst ^ net) & mask == 0. */
  struct PrefixKey {
    uint32_t net, mask;
  };
  struct OwnAddr {
    uint32_t addr = 0;
    uint32_t bits = 0;  /* kOwn*; 0: an empty slot */
  };
  uint32_t own_hash(uint32_t a) const noexcept { return (a * 0x9e3779b1u) >> own_shift_; }
  /* Index of the first key that holds dst, keys.size() if none. */
  static size_t first_match(const std::vector<PrefixKey>& keys, Ipv4Addr dst) noexcept {
    size_t k = 0;
    for (; k < keys.size(); ++k)
      if (((dst.host() ^ keys[k].net) & keys[k].mask) == 0) break;
    return k;
  }

  struct SpdLen {
    uint32_t len, mask;
  };
  struct SpdSlot {
    uint32_t net = 0;
    uint32_t len = 0;
    EspSa* sa = nullptr;  /* nullptr: empty slot */
  };
  static uint32_t spd_hash(uint32_t net, uint32_t len) noexcept {
    return fmix32(net ^ (len * 0x9e3779b9u));
  }

  uint8_t roles_ = 0;
  uint64_t serial_ = 0;
  std::vector<OwnAddr> own_slots_;         /* from the addresses below */
  uint32_t own_mask_ = 0;
  uint32_t own_shift_ = 32;
  std::vector<PrefixKey> route_keys_;      /* parallel to routes_ */
  std::vector<SpdLen> spd_lens_;           /* distinct lengths, longest first */
  std::vector<SpdSlot> spd_slots_;         /* open addressing, load <= 1/2 */
  uint32_t spd_mask_ = 0;
  std::vector<FwdRoute> fwd_;                      /* parallel to routes_ */
  std::vector<Ipv4Addr> xha_addrs_, iha_addrs_, port_addrs_;
  Ipv4Addr gw_addr_;
  const BindingTable* xha_bind_ = nullptr;
  const BindingTable* iha_bind_ = nullptr;
  SpiMap inb_;
  std::vector<SpdEntry> spd_;    /* sorted by prefix length, longest first */
  std::vector<Route> routes_;    /* sorted by prefix length, longest first */
  std::vector<uint16_t> mtu_;    /* by port index */
  std::vector<PortZone> zone_;   /* by port index */
  uint32_t icmp_rate_ = kIcmpDefaultRate;
  uint32_t icmp_burst_ = kIcmpDefaultBurst;
};

/*
 * Builds a StageTables (control thread, tests). build() checks the whole
 * and says in *err, in a sentence, what is wrong.
 */
class StageTablesBuilder {
 public:
  StageTablesBuilder& roles(uint8_t r) { roles_ = r; return *this; }
  StageTablesBuilder& xha_addr(Ipv4Addr a) { xha_.push_back(a); return *this; }
  StageTablesBuilder& iha_addr(Ipv4Addr a) { iha_.push_back(a); return *this; }
  StageTablesBuilder& gw_addr(Ipv4Addr a) { gw_ = a; return *this; }
  /* Port index = order of the calls; addr is ours (local delivery). */
  StageTablesBuilder& port(Ipv4Addr addr, uint16_t mtu, PortZone zone) {
    ports_.push_back(addr);
    mtu_.push_back(mtu);
    zone_.push_back(zone);
    return *this;
  }
  StageTablesBuilder& xha_bindings(const BindingTable* b) { xha_bind_ = b; return *this; }
  StageTablesBuilder& iha_bindings(const BindingTable* b) { iha_bind_ = b; return *this; }
  StageTablesBuilder& inbound_sa(EspSa* sa, Ipv4Prefix inner_src) {
    inb_.push_back({sa ? sa->spi() : 0, sa, inner_src});
    return *this;
  }
  StageTablesBuilder& outbound_sa(Ipv4Prefix inner_dst, EspSa* sa) {
    spd_.push_back({inner_dst, sa});
    return *this;
  }
  StageTablesBuilder& route(Ipv4Prefix dst, uint16_t port, Ipv4Addr next_hop = Ipv4Addr()) {
    routes_.push_back({dst, port, next_hop});
    return *this;
  }

  /* ICMP errors (time exceeded, fragmentation needed) per second and the
   * most sent at once, per pipeline; rate 0 sends none. */
  StageTablesBuilder& icmp_errors(uint32_t per_sec, uint32_t burst) {
    icmp_rate_ = per_sec;
    icmp_burst_ = burst;
    return *this;
  }

  std::unique_ptr<const StageTables> build(std::string* err) const;

 private:
  uint8_t roles_ = 0;
  uint32_t icmp_rate_ = kIcmpDefaultRate;
  uint32_t icmp_burst_ = kIcmpDefaultBurst;
  std::vector<Ipv4Addr> xha_, iha_, ports_;
  std::vector<uint16_t> mtu_;
  std::vector<PortZone> zone_;
  Ipv4Addr gw_;
  const BindingTable* xha_bind_ = nullptr;
  const BindingTable* iha_bind_ = nullptr;
  std::vector<InbSa> inb_;
  std::vector<SpdEntry> spd_;
  std::vector<Route> routes_;
};

}  // namespace mipvpn
