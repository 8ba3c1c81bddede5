/* SPDX-License-Identifier: BSD-3-Clause */
#include "codec/natt.h"

#include <cstring>

namespace mipvpn {

namespace {

/* Rewrite protocol and total length of a valid header, RFC 1624 update. */
void ipv4_set_proto_len(Ipv4Hdr* h, uint8_t proto, uint16_t total_len) noexcept {
  uint16_t c = h->csum.host();
  c = csum_update16(c, h->total_len.host(), total_len);
  h->total_len = be16::from_host(total_len);
  const uint16_t old_word = static_cast<uint16_t>((h->ttl << 8) | h->proto);
  h->proto = proto;
  c = csum_update16(c, old_word, static_cast<uint16_t>((h->ttl << 8) | h->proto));
  h->csum = be16::from_host(c);
}

}  // namespace

Parsed<NattDemux> natt_demux(cbytes pkt, const NattOpts& opts) noexcept {
  auto ip = ipv4_parse(pkt, opts.ip_check);
  if (!ip) return ip.error();
  if (ip->proto != kIpProtoUdp) return CodecError::kBadProtocol;
  if (ip->fragment) return CodecError::kFragment;
  const cbytes l4 = ipv4_payload(pkt, *ip);
  auto u = udp_parse(l4, *ip, opts.udp_check);
  if (!u) return u.error();
  if (u->dport != opts.port) return CodecError::kBadPort;
  auto c = natt_classify(l4.subspan(kUdpHdrLen, u->len - kUdpHdrLen));
  if (!c) return c.error();
  return NattDemux{.kind = c->kind, .spi = c->spi, .src = ip->src, .dst = ip->dst,
                   .sport = u->sport, .dport = u->dport,
                   .payload_off = static_cast<uint16_t>(ip->hdr_len + kUdpHdrLen),
                   .payload_len = static_cast<uint16_t>(u->len - kUdpHdrLen)};
}

CodecError natt_encap(PktView& pkt, uint16_t sport, uint16_t dport, Ipv4Check check) noexcept {
  const cbytes b = pkt.bytes();
  auto ip = ipv4_parse(b, check);
  if (!ip) return ip.error();
  if (ip->proto != kIpProtoEsp) return CodecError::kBadProtocol;
  if (ip->fragment) return CodecError::kFragment;
  const uint16_t esp_len = static_cast<uint16_t>(ip->total_len - ip->hdr_len);
  if (esp_len < kEspHdrLen) return CodecError::kTruncated;
  /* RFC 3948 2.1 / RFC 4303 2.1: never send SPI 0 (it would read as IKE). */
  if (load_be32(b.data() + ip->hdr_len) < 256) return CodecError::kBadSpi;
  const uint32_t total = uint32_t{ip->total_len} + kUdpHdrLen;
  if (total > 0xffff) return CodecError::kTooBig;
  if (pkt.headroom() < kUdpHdrLen) return CodecError::kNoRoom;

  /* RFC 3948 3.1.1: the UDP header goes between the IP header and ESP. */
  std::memmove(pkt.data() - kUdpHdrLen, pkt.data(), ip->hdr_len);
  pkt.data_off -= kUdpHdrLen;
  pkt.data_len = total;
  natt_udp_build(pkt.bytes().subspan(ip->hdr_len), sport, dport, esp_len);
  ipv4_set_proto_len(header_at<Ipv4Hdr>(pkt.data()), kIpProtoUdp, static_cast<uint16_t>(total));
  return CodecError::kOk;
}

CodecError natt_decap(PktView& pkt, const NattOpts& opts) noexcept {
  auto d = natt_demux(pkt.bytes(), opts);
  if (!d) return d.error();
  if (d->kind == NattKind::kIke) return CodecError::kIkeMarker;
  if (d->kind == NattKind::kKeepalive) return CodecError::kNatKeepalive;

  /* RFC 3948 3.1.2: remove the UDP header; fix length, protocol, checksum. */
  const uint16_t hl = static_cast<uint16_t>(d->payload_off - kUdpHdrLen);
  const uint16_t total = static_cast<uint16_t>(hl + d->payload_len);
  std::memmove(pkt.data() + kUdpHdrLen, pkt.data(), hl);
  pkt.data_off += kUdpHdrLen;
  pkt.data_len = total;
  ipv4_set_proto_len(header_at<Ipv4Hdr>(pkt.data()), kIpProtoEsp, total);
  return CodecError::kOk;
}

}  // namespace mipvpn
