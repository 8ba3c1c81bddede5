/* SPDX-License-Identifier: BSD-3-Clause */
#include "codec/ipip.h"

namespace mipvpn {

Parsed<Ipv4Info> tunnel_inner_encap_check(cbytes inner, Ipv4Addr outer_src, Ipv4Addr outer_dst,
                                          Ipv4Check check) noexcept {
  auto r = ipv4_parse(inner, check);
  if (!r) return CodecError::kBadInner;
  /* RFC 2003 3.1: an encapsulator MUST NOT encapsulate a datagram with TTL 0. */
  if (r->ttl == 0) return CodecError::kTtlExpired;
  /* RFC 2003 3.2: a source that is the tunnel destination, or our own
   * address, means a routing loop: MUST NOT tunnel, SHOULD discard. */
  if (r->src == outer_dst || r->src == outer_src) return CodecError::kTunnelLoop;
  return r;
}

Parsed<Ipv4Info> tunnel_inner_decap_check(cbytes inner, Ipv4Check check) noexcept {
  auto r = ipv4_parse(inner, check);
  if (!r) return CodecError::kBadInner;
  /* RFC 2003 3.1: the inner TTL is not changed when decapsulating; if it
   * is 0 the decapsulator MUST discard the datagram. */
  if (r->ttl == 0) return CodecError::kTtlExpired;
  return r;
}

CodecError ipip_encap(PktView& pkt, const IpipEncapParams& p) noexcept {
  auto in = tunnel_inner_encap_check(pkt.bytes(), p.src, p.dst, p.inner_check);
  if (!in) return in.error();
  const uint32_t total = uint32_t{in->total_len} + kIpipOverhead;
  if (total > 0xffff) return CodecError::kTooBig;
  if (pkt.headroom() < kIpipOverhead) return CodecError::kNoRoom;

  pkt.data_off -= kIpipOverhead;
  pkt.data_len = total;
  /* RFC 2003 3.1: protocol 4, TOS copied, DF rule, checksum over the outer. */
  ipv4_build(pkt.bytes(), tunnel_outer_fields(*in, p.src, p.dst, p.id, p.ttl, p.always_df,
                                              kIpProtoIpip, static_cast<uint16_t>(total)));
  return CodecError::kOk;
}

Parsed<TunnelOuter> ipip_decap(PktView& pkt, const IpipDecapOpts& opts) noexcept {
  const cbytes b = pkt.bytes();
  auto out = ipv4_parse(b, opts.outer_check);
  if (!out) return out.error();
  if (out->proto != kIpProtoIpip) return CodecError::kBadProtocol;
  /* Reassembly is the runtime's job; a fragment holds no whole inner header. */
  if (out->fragment) return CodecError::kFragment;
  auto in = tunnel_inner_decap_check(b.subspan(out->hdr_len, out->total_len - out->hdr_len),
                                     opts.inner_check);
  if (!in) return in.error();

  pkt.data_off += out->hdr_len;
  pkt.data_len = in->total_len;
  return TunnelOuter{.src = out->src, .dst = out->dst, .tos = out->tos, .ttl = out->ttl};
}

}  // namespace mipvpn
