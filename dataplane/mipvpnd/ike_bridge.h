/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The IKE bridge (docs/ike.md): IKE that reaches the VPN gateway's address
 * (RFC 7296 on UDP 500, RFC 3948 2.2 on UDP 4500 behind the non-ESP
 * marker) is punted by the stages to the control thread, which writes the
 * IP datagram unchanged to a TUN interface on the host, where an IKE
 * daemon bound to that address runs. What the daemon writes back into the
 * TUN goes out through the control thread's pipeline (routes, SPD,
 * encapsulation) like the appliance's own registration replies.
 *
 * The host is not trusted to send anything else: only whole IPv4/UDP
 * datagrams from the gateway's address, source port 500 with an IKE
 * header or 4500 with the non-ESP marker (or a NAT-keepalive) pass
 * ike_from_host_check(); ESP-in-UDP, other protocols, other sources,
 * fragments and IPv6 are dropped by reason (IkeTapDrop), so the TUN is no
 * way around the stages.
 *
 * The checks are pure functions over bytes (tested without EAL); IkeBridge
 * owns the TUN (an AuxPort) and runs on the control thread.
 */
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "codec/ipv4_addr.h"
#include "config/config.h"
#include "runtime/aux_port.h"

namespace mipvpn {

class Pipeline;
class Runtime;
class StageTables;
struct CtlPkt;


/* Why a packet did not cross the bridge. */
enum class IkeTapDrop : uint8_t {
  /* From the host (the TUN): ike_from_host_check(). */
  kNotIpv4,        /* not IPv4 (IPv6 router solicitations and the like) */
  kMalformed,      /* IPv4 or UDP header fails its checks (lengths, checksums) */
  kFragment,       /* an IPv4 fragment: whole datagrams only (use RFC 7383) */
  kNotUdp,         /* another protocol */
  kNotOurAddress,  /* source is not the gateway's address, or a bad destination */
  kNotIkePort,     /* source port neither 500 nor 4500 */
  kNotIke,         /* 500 without an IKE header, 4500 without the non-ESP marker (ESP) */
  kNoRoute,        /* the stages dropped it (no route, SPD, TTL: see /mipvpn/drops stage) */
  kInside,         /* its way out is an internal port: IKE from the host goes outside only */
  kSendFailed,     /* no buffer, or the port refused it */
  kMultiSeg,       /* larger than one mbuf (the interface's MTU is too large) */
  /* To the host. */
  kToHostFailed,   /* the TUN did not take a punted packet (interface down) */
  kCount
};
inline constexpr size_t kIkeTapDropCount = static_cast<size_t>(IkeTapDrop::kCount);

constexpr std::string_view to_string(IkeTapDrop d) noexcept {
  switch (d) {
    case IkeTapDrop::kNotIpv4: return "not_ipv4";
    case IkeTapDrop::kMalformed: return "malformed";
    case IkeTapDrop::kFragment: return "fragment";
    case IkeTapDrop::kNotUdp: return "not_udp";
    case IkeTapDrop::kNotOurAddress: return "not_our_address";
    case IkeTapDrop::kNotIkePort: return "not_ike_port";
    case IkeTapDrop::kNotIke: return "not_ike";
    case IkeTapDrop::kNoRoute: return "no_route";
    case IkeTapDrop::kInside: return "inside";
    case IkeTapDrop::kSendFailed: return "send_failed";
    case IkeTapDrop::kMultiSeg: return "multi_segment";
    case IkeTapDrop::kToHostFailed: return "to_host_failed";
    case IkeTapDrop::kCount: break;
  }
  return "?";
}

/* What the stages punt as IKE for `gw`: an IPv4/UDP datagram to gw, port
 * 500, or port 4500 starting with the non-ESP marker (RFC 3948 2.2). */
bool ike_to_host_check(std::span<const std::byte> ip, Ipv4Addr gw) noexcept;

/* Whether a datagram the host wrote into the TUN may go out: true, or
 * false with the reason in *why. Accepted: IPv4 (header checksum right,
 * not a fragment) / UDP (checksum right when non-zero) from gw to a
 * unicast address, source port 500 with at least an IKE header, or 4500
 * with the non-ESP marker and an IKE header, or a NAT-keepalive (RFC
 * 3948 2.3). */
bool ike_from_host_check(std::span<const std::byte> ip, Ipv4Addr gw, IkeTapDrop* why) noexcept;

struct IkeBridgeCounters {
  uint64_t to_host = 0;    /* punted IKE written to the TUN */
  uint64_t from_host = 0;  /* read from the TUN, accepted and sent out */
  std::array<uint64_t, kIkeTapDropCount> drops{};
  uint64_t dropped() const noexcept {
    uint64_t n = 0;
    for (uint64_t d : drops) n += d;
    return n;
  }
};

class IkeBridge {
 public:
  /* Creates the TUN interface cfg.tap (a net_tun device) for gateway
   * address gw. EAL initialised; control thread. nullptr and *err. */
  static std::unique_ptr<IkeBridge> open(const IkeConfig& cfg, Ipv4Addr gw, std::string* err);

  /* A punted IKE datagram (data at L3): to the host. Consumes p. */
  void to_host(Runtime& rt, CtlPkt& p) noexcept;
  /* Read what the host wrote, check it, route it through ctl (in_port
   * kPortLocal) and send it out of the port the pipeline chose, unless
   * that is an internal one (t's port zones): the host is trusted for
   * IKE to the outside only, never as a way into the intranet. */
  void poll(Runtime& rt, Pipeline& ctl, const StageTables& t) noexcept;
  /* Remove the TUN (counters stay). Call after the Runtime is stopped or
   * destroyed (it may hold packets from the TUN's pool), before
   * eal_cleanup(). */
  void close() noexcept {
    c_ = counters();
    aux_.reset();
  }

  /* multi_segment is the AuxPort's own count of what it refused. */
  IkeBridgeCounters counters() const noexcept {
    IkeBridgeCounters c = c_;
    if (aux_) c.drops[static_cast<size_t>(IkeTapDrop::kMultiSeg)] = aux_->counts().rx_multiseg;
    return c;
  }
  const std::string& ifname() const noexcept { return ifname_; }

 private:
  IkeBridge() = default;
  std::unique_ptr<AuxPort> aux_;
  Ipv4Addr gw_;
  std::string ifname_;
  IkeBridgeCounters c_;
};

}  // namespace mipvpn
