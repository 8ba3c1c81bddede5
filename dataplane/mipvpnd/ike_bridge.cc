/* SPDX-License-Identifier: BSD-3-Clause */
#include "mipvpnd/ike_bridge.h"

#include <array>

#include "codec/ipv4.h"
#include "codec/natt.h"
#include "codec/udp.h"
#include "runtime/runtime.h"
#include "stages/pipeline.h"
#include "stages/tables.h"

namespace mipvpn {

namespace {

bool unicast(Ipv4Addr a) noexcept {
  const uint32_t h = a.host();
  const uint32_t top = h >> 24;
  return h != 0 && top != 0 && top != 127 && top < 224;  /* RFC 1122 3.2.1.3, RFC 5771 */
}

}  // namespace

bool ike_to_host_check(std::span<const std::byte> ip, Ipv4Addr gw) noexcept {
  const auto h = ipv4_parse(ip, Ipv4Check::kNoChecksum);
  if (!h || h->proto != kIpProtoUdp || h->fragment || h->dst != gw) return false;
  const cbytes pay = ipv4_payload(ip, *h);
  const auto u = udp_parse(pay, *h, UdpCheck::kNoChecksum);
  if (!u) return false;
  if (u->dport == kPortIke) return true;  /* RFC 7296 2 */
  if (u->dport != kPortNatt) return false;
  /* RFC 3948 2.2: four zero octets where an ESP SPI would be. */
  const cbytes msg = pay.subspan(kUdpHdrLen, u->len - kUdpHdrLen);
  return msg.size() >= kNattNonEspMarkerLen && load_be32(msg.data()) == 0;
}

bool ike_from_host_check(std::span<const std::byte> ip, Ipv4Addr gw, IkeTapDrop* why) noexcept {
  auto no = [why](IkeTapDrop d) {
    *why = d;
    return false;
  };
  if (ip.empty() || (std::to_integer<uint8_t>(ip[0]) >> 4) != 4) return no(IkeTapDrop::kNotIpv4);
  const auto h = ipv4_parse(ip, Ipv4Check::kFull);
  if (!h) return no(IkeTapDrop::kMalformed);
  if (h->fragment) return no(IkeTapDrop::kFragment);
  /* No options from the host (source routes and the like, RFC 7126 4.3,
   * 4.4): IKE needs none. */
  if (h->hdr_len != kIpv4HdrLen) return no(IkeTapDrop::kMalformed);
  if (h->proto != kIpProtoUdp) return no(IkeTapDrop::kNotUdp);
  if (h->src != gw || !unicast(h->dst)) return no(IkeTapDrop::kNotOurAddress);
  const cbytes pay = ipv4_payload(ip, *h);
  const auto u = udp_parse(pay, *h, UdpCheck::kFull);
  if (!u) return no(IkeTapDrop::kMalformed);
  const cbytes msg = pay.subspan(kUdpHdrLen, u->len - kUdpHdrLen);
  if (u->sport != kPortIke && u->sport != kPortNatt) return no(IkeTapDrop::kNotIkePort);
  if (u->sport == kPortNatt || u->dport == kPortNatt) {
    /* Either end on 4500: the peer's socket reads ESP unless the non-ESP
     * marker is there (RFC 3948 2.2), so only a NAT-keepalive (2.3: one
     * octet 0xFF) or IKE behind the marker; anything else would be ESP
     * that did not go through esp_outb. */
    if (msg.size() == 1 && std::to_integer<uint8_t>(msg[0]) == kNattKeepaliveByte) return true;
    if (msg.size() < kNattNonEspMarkerLen + kIkeHdrLen || load_be32(msg.data()) != 0)
      return no(IkeTapDrop::kNotIke);
    return true;
  }
  /* 500 to a port other than 4500: RFC 7296 3.1, at least the fixed header. */
  if (msg.size() < kIkeHdrLen) return no(IkeTapDrop::kNotIke);
  return true;
}

std::unique_ptr<IkeBridge> IkeBridge::open(const IkeConfig& cfg, Ipv4Addr gw, std::string* err) {
  std::unique_ptr<IkeBridge> b(new IkeBridge());
  b->gw_ = gw;
  b->ifname_ = cfg.tap;
  AuxPortSpec s;
  s.name = "ike";
  /* net_tun: the TAP PMD in L3 mode, plain IP datagrams both ways. */
  s.device = "net_tun_mipvpn_ike,iface=" + cfg.tap;
  s.mtu = cfg.mtu;
  b->aux_ = AuxPort::open(s, err);
  if (!b->aux_) return nullptr;
  return b;
}

void IkeBridge::to_host(Runtime& rt, CtlPkt& p) noexcept {
  if (!aux_) {
    ++c_.drops[static_cast<size_t>(IkeTapDrop::kToHostFailed)];
    rt.free(p);
    return;
  }
  if (aux_->tx(p))
    ++c_.to_host;
  else
    ++c_.drops[static_cast<size_t>(IkeTapDrop::kToHostFailed)];
}

void IkeBridge::poll(Runtime& rt, Pipeline& ctl, const StageTables& t) noexcept {
  if (!aux_) return;
  std::array<CtlPkt, 32> pk;
  for (int round = 0; round < 4; ++round) {
    const uint16_t n = aux_->rx(pk.data(), static_cast<uint16_t>(pk.size()));
    for (uint16_t i = 0; i < n; ++i) {
      CtlPkt& p = pk[i];
      IkeTapDrop why = IkeTapDrop::kCount;
      if (!ike_from_host_check(p.view.bytes(), gw_, &why)) {
        ++c_.drops[static_cast<size_t>(why)];
        aux_->free(p);
        continue;
      }
      /* The stages decide the way out, as for our registration replies:
       * route, and ESP / x-MIP where the destination needs them. */
      PktView* pv = &p.view;
      Ipv4Addr nh;
      ctl.process(&pv, 1, kPortLocal, &nh);
      if (p.view.user >= kVerdictFirstSpecial) {
        ++c_.drops[static_cast<size_t>(IkeTapDrop::kNoRoute)];
        aux_->free(p);
        continue;
      }
      if (t.port_internal(p.view.user)) {
        ++c_.drops[static_cast<size_t>(IkeTapDrop::kInside)];
        aux_->free(p);
        continue;
      }
      if (rt.send_ip(p, p.view.user, nh))
        ++c_.from_host;
      else
        ++c_.drops[static_cast<size_t>(IkeTapDrop::kSendFailed)];
    }
    if (n < pk.size()) break;
  }
  /* kMultiSeg is the AuxPort's own count: counters() reads it there. */
}

}  // namespace mipvpn
