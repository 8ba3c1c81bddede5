/* SPDX-License-Identifier: BSD-3-Clause */
#include "stages/mip_encap.h"

#include "codec/ipip.h"
#include "codec/mip_tunnel.h"
#include "stages/icmp.h"
#include "stages/ipv4_fast.h"

namespace mipvpn {

namespace {

/*
 * The codec's encapsulation for a datagram this appliance originated in
 * this call (an echo reply or ICMP error, PktState::local), without its
 * RFC 2003 3.2 loop check. That check (inner source = a tunnel endpoint)
 * catches a datagram that came back to its encapsulator; ours cannot
 * have, and they are exactly the ones whose source is the home agent's
 * own address (a ping to the i-HA from its mobile node). The headers are
 * the codec's: tunnel_outer_fields, UDP from 434, RFC 3519 3.3 type 4.
 */
CodecError encap_ours(PktView& p, BindingEncap encap, Ipv4Addr src, Ipv4Addr dst, uint16_t dport,
                      uint16_t id) noexcept {
  auto in = ipv4_parse(cbytes(p.bytes()), Ipv4Check::kNoChecksum);
  if (!in) return CodecError::kBadInner;
  const bool udp = encap == BindingEncap::kUdp;
  const uint16_t over = udp ? kMipUdpOverhead : kIpipOverhead;
  const uint32_t total = uint32_t{in->total_len} + over;
  if (total > 0xffff) return CodecError::kTooBig;
  if (p.headroom() < over) return CodecError::kNoRoom;
  p.data_off -= over;
  p.data_len = total;
  const bytes b = p.bytes();
  ipv4_build(b, tunnel_outer_fields(*in, src, dst, id, IpipEncapParams{}.ttl, false,
                                    udp ? kIpProtoUdp : kIpProtoIpip, static_cast<uint16_t>(total)));
  if (udp) {
    const bytes u = b.subspan(kIpv4HdrLen);
    udp_build(u, kPortMip, dport, static_cast<uint16_t>(total - kIpv4HdrLen));
    auto* t = header_at<MipTunnelHdr>(u.data() + kUdpHdrLen);
    t->type = kMipTypeTunnelData;
    t->next = kMipNextIpv4;
    t->reserved = be16{};
  }
  return CodecError::kOk;
}

/*
 * ipip_encap() (codec/ipip.h) on the hot path, with the same checks and
 * headers: the inner datagram valid IPv4 (its checksum not summed again:
 * classification did), TTL != 0 and not from a tunnel endpoint (RFC 2003
 * 3.1, 3.2), the outer header of RFC 2003 3.1 built in the headroom.
 */
CodecError ipip_encap_fast(PktView& p, Ipv4Addr src, Ipv4Addr dst, uint16_t id) noexcept {
  Ipv4Info in;
  if (ipv4_parse_fast(cbytes(p.bytes()), Ipv4Check::kNoChecksum, &in) != CodecError::kOk)
    return CodecError::kBadInner;
  if (in.ttl == 0) return CodecError::kTtlExpired;
  if (in.src == dst || in.src == src) return CodecError::kTunnelLoop;
  const uint32_t total = uint32_t{in.total_len} + kIpipOverhead;
  if (total > 0xffff) return CodecError::kTooBig;
  if (p.headroom() < kIpipOverhead) return CodecError::kNoRoom;
  p.data_off -= kIpipOverhead;
  p.data_len = total;
  ipv4_build_fast(p.data(), tunnel_outer_fields(in, src, dst, id, IpipEncapParams{}.ttl, false,
                                                kIpProtoIpip, static_cast<uint16_t>(total)));
  return CodecError::kOk;
}

}  // namespace

void mip_encap_stage(const StageCtx& c, const uint16_t* idx, uint16_t n, Ipv4Addr own,
                     Stage stage) noexcept {
  if (n == 0) return;
  uint64_t good = 0;
  for (uint16_t k = 0; k < n; ++k) {
    const uint16_t i = idx[k];
    PktView& p = *c.pkts[i];
    PktState& s = c.st[i];
    const Binding& b = *s.bind;
    const BindingCoa& e = b.coa[0];
    const Ipv4Addr src = b.ha.host() != 0 ? b.ha : own;
    /* Room first, so that a refused packet keeps its TTL. */
    const uint32_t need = e.encap == BindingEncap::kUdp ? kMipUdpOverhead : kIpipOverhead;
    if (p.headroom() < need) {
      c.drop(i, StageDrop::kNoHeadroom);
      continue;
    }
    icmp_before_encap(c, i);
    if (!ttl_once(p, s)) {  /* RFC 1812 5.3.1 */
      icmp_error(c, i, kIcmpTypeTimeExceeded, kIcmpCodeTtl, 0, StageDrop::kTtlExceeded);
      continue;
    }
    CodecError err;
    const uint16_t id = c.ip_id++;
    if (s.local) {
      err = encap_ours(p, e.encap, src, e.encap == BindingEncap::kUdp ? e.peer : e.care_of,
                       e.peer_port, id);
    } else if (e.encap == BindingEncap::kUdp) {
      /* RFC 3519 4: from 434 to the address and port the request came from. */
      err = mip_tunnel_encap(p, {.src = src, .dst = e.peer, .sport = kPortMip,
                                 .dport = e.peer_port, .id = id,
                                 .inner_check = Ipv4Check::kNoChecksum});
    } else {
      err = ipip_encap_fast(p, src, e.care_of, id);
    }
    if (err != CodecError::kOk) {
      c.drop(i, stage_drop(err));
      continue;
    }
    c.again_ok(i);  /* we built the outer header */
    ++good;
  }
  c.ctr.stage[static_cast<size_t>(stage)] += good;
}

}  // namespace mipvpn
