/* SPDX-License-Identifier: BSD-3-Clause */
#include "codec/mip_tunnel.h"

namespace mipvpn {

CodecError mip_tunnel_encap(PktView& pkt, const MipTunnelEncapParams& p) noexcept {
  /* RFC 3519: tunnelled data is always to or from port 434. */
  if (p.sport != kPortMip && p.dport != kPortMip) return CodecError::kBadPort;
  auto in = tunnel_inner_encap_check(pkt.bytes(), p.src, p.dst, p.inner_check);
  if (!in) return in.error();
  const uint32_t total = uint32_t{in->total_len} + kMipUdpOverhead;
  if (total > 0xffff) return CodecError::kTooBig;
  if (pkt.headroom() < kMipUdpOverhead) return CodecError::kNoRoom;

  pkt.data_off -= kMipUdpOverhead;
  pkt.data_len = total;
  const bytes b = pkt.bytes();
  /* Outer IPv4: RFC 2003 3.1 rules, protocol 17. */
  ipv4_build(b, tunnel_outer_fields(*in, p.src, p.dst, p.id, p.ttl, p.always_df, kIpProtoUdp,
                                    static_cast<uint16_t>(total)));
  const bytes udp = b.subspan(kIpv4HdrLen);
  udp_build(udp, p.sport, p.dport, static_cast<uint16_t>(total - kIpv4HdrLen));
  /* RFC 3519 3.3: type 4, next header 4, reserved 0 on sending. */
  auto* t = header_at<MipTunnelHdr>(udp.data() + kUdpHdrLen);
  t->type = kMipTypeTunnelData;
  t->next = kMipNextIpv4;
  t->reserved = be16{};
  if (p.udp_csum) udp_fill_checksum(udp, p.src, p.dst);
  return CodecError::kOk;
}

Parsed<MipTunnelOuter> mip_tunnel_decap(PktView& pkt, const MipTunnelDecapOpts& opts) noexcept {
  const cbytes b = pkt.bytes();
  auto ip = ipv4_parse(b, opts.outer_check);
  if (!ip) return ip.error();
  if (ip->proto != kIpProtoUdp) return CodecError::kBadProtocol;
  if (ip->fragment) return CodecError::kFragment;
  const cbytes l4 = ipv4_payload(b, *ip);
  auto u = udp_parse(l4, *ip, opts.udp_check);
  if (!u) return u.error();
  /* RFC 3519: data goes to the HA's 434, and back from 434. */
  if (u->sport != kPortMip && u->dport != kPortMip) return CodecError::kBadPort;
  const cbytes msg = l4.subspan(kUdpHdrLen, u->len - kUdpHdrLen);
  if (msg.size() < kMipTunnelHdrLen) return CodecError::kTruncated;
  const auto* t = header_at<MipTunnelHdr>(msg.data());
  /* RFC 3519 3.3: type 4; the reserved field is ignored on reception. */
  if (t->type != kMipTypeTunnelData) return CodecError::kBadTunnelHeader;
  /* RFC 3519 3.3: a next header that is not the binding's mode MUST be
   * dropped; the only mode this data path forwards is IP in IP. */
  if (t->next != kMipNextIpv4) return CodecError::kBadNextHeader;
  auto in = tunnel_inner_decap_check(msg.subspan(kMipTunnelHdrLen), opts.inner_check);
  if (!in) return in.error();

  pkt.data_off += static_cast<uint32_t>(ip->hdr_len + kUdpHdrLen + kMipTunnelHdrLen);
  pkt.data_len = in->total_len;
  return MipTunnelOuter{.src = ip->src, .dst = ip->dst, .sport = u->sport, .dport = u->dport,
                        .tos = ip->tos, .ttl = ip->ttl};
}

}  // namespace mipvpn
