/* SPDX-License-Identifier: BSD-3-Clause */
#include "codec/udp.h"

namespace mipvpn {

Parsed<UdpInfo> udp_parse(cbytes ip_payload, const Ipv4Info& ip, UdpCheck check) noexcept {
  if (ip_payload.size() < kUdpHdrLen) return CodecError::kTruncated;
  const auto* h = header_at<UdpHdr>(ip_payload.data());
  const uint16_t len = h->len.host();
  /* RFC 768: the length counts header and data, so it is at least 8; it
   * cannot claim more than the IP header says the datagram carries. */
  if (len < kUdpHdrLen || len > ip_payload.size()) return CodecError::kBadLength;
  UdpInfo u;
  u.sport = h->sport.host();
  u.dport = h->dport.host();
  u.len = len;
  u.has_csum = h->csum.host() != 0;
  /* RFC 1122 4.1.3.4: zero = not computed (IPv4 only); else it must verify. */
  if (u.has_csum && check == UdpCheck::kFull) {
    const uint32_t sum = csum_partial(ip_payload.first(len), udp_pseudo_sum(ip.src, ip.dst, len));
    if (csum_fold(sum) != 0) return CodecError::kBadChecksum;
  }
  return u;
}

uint16_t udp_checksum(cbytes udp, Ipv4Addr src, Ipv4Addr dst) noexcept {
  const auto len = static_cast<uint16_t>(udp.size());
  uint32_t sum = udp_pseudo_sum(src, dst, len);
  /* Header without its checksum field (bytes 6..7), then the payload. */
  sum = csum_partial(udp.first(6), sum);
  sum = csum_partial(udp.subspan(kUdpHdrLen), sum);
  const uint16_t c = csum_fold(sum);
  return c == 0 ? 0xffff : c; /* RFC 768: all-ones stands for a computed zero */
}

void udp_build(bytes out, uint16_t sport, uint16_t dport, uint16_t udp_len) noexcept {
  auto* h = header_at<UdpHdr>(out.data());
  h->sport = be16::from_host(sport);
  h->dport = be16::from_host(dport);
  h->len = be16::from_host(udp_len);
  h->csum = be16{};
}

void udp_fill_checksum(bytes udp, Ipv4Addr src, Ipv4Addr dst) noexcept {
  header_at<UdpHdr>(udp.data())->csum = be16::from_host(udp_checksum(udp, src, dst));
}

}  // namespace mipvpn
