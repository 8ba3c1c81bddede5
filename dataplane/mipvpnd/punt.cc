/* SPDX-License-Identifier: BSD-3-Clause */
#include "mipvpnd/punt.h"

#include <cstring>

#include "codec/endian.h"
#include "codec/ipv4.h"
#include "codec/udp.h"

namespace mipvpn {

namespace {

constexpr uint16_t kEthArp = 0x0806;
constexpr uint16_t kArpHwEther = 1;
constexpr uint16_t kArpProtoIpv4 = 0x0800;

uint16_t rd16(const std::byte* p) noexcept {
  return static_cast<uint16_t>(std::to_integer<uint16_t>(p[0]) << 8 | std::to_integer<uint16_t>(p[1]));
}
uint32_t rd32(const std::byte* p) noexcept { return uint32_t{rd16(p)} << 16 | rd16(p + 2); }
void wr16(std::byte* p, uint16_t v) noexcept {
  p[0] = std::byte(v >> 8);
  p[1] = std::byte(v & 0xff);
}
void wr32(std::byte* p, uint32_t v) noexcept {
  wr16(p, static_cast<uint16_t>(v >> 16));
  wr16(p + 2, static_cast<uint16_t>(v));
}
void wrmac(std::byte* p, const MacAddr& m) noexcept { std::memcpy(p, m.b.data(), 6); }

}  // namespace

bool arp_parse(std::span<const std::byte> f, ArpInfo& out) noexcept {
  if (f.size() < kArpFrameLen || rd16(&f[12]) != kEthArp) return false;
  const std::byte* a = &f[14];
  /* RFC 826: hardware Ethernet (1), protocol IPv4, lengths 6 and 4. */
  if (rd16(a) != kArpHwEther || rd16(a + 2) != kArpProtoIpv4 || a[4] != std::byte{6} ||
      a[5] != std::byte{4})
    return false;
  out.op = rd16(a + 6);
  std::memcpy(out.sender_mac.b.data(), a + 8, 6);
  out.sender_ip = Ipv4Addr(rd32(a + 14));
  out.target_ip = Ipv4Addr(rd32(a + 24));
  return true;
}

size_t arp_build_reply(const ArpInfo& rq, const MacAddr& our_mac, Ipv4Addr our_ip,
                       std::span<std::byte> out) noexcept {
  if (out.size() < kArpFrameLen) return 0;
  std::byte* e = out.data();
  wrmac(e, rq.sender_mac);
  wrmac(e + 6, our_mac);
  wr16(e + 12, kEthArp);
  std::byte* a = e + 14;
  wr16(a, kArpHwEther);
  wr16(a + 2, kArpProtoIpv4);
  a[4] = std::byte{6};
  a[5] = std::byte{4};
  wr16(a + 6, 2);  /* reply */
  wrmac(a + 8, our_mac);
  wr32(a + 14, our_ip.host());
  wrmac(a + 18, rq.sender_mac);
  wr32(a + 24, rq.sender_ip.host());
  return kArpFrameLen;
}

bool mip_datagram_parse(std::span<const std::byte> ip, MipDatagram& out) noexcept {
  const auto h = ipv4_parse(ip);
  if (!h.ok() || h->proto != kIpProtoUdp || h->fragment) return false;
  const auto pl = ipv4_payload(ip, h.value());
  const auto u = udp_parse(pl, h.value());
  if (!u.ok() || u->dport != kMipPort) return false;
  out.src = h->src;
  out.dst = h->dst;
  out.sport = u->sport;
  out.payload = pl.subspan(kUdpHdrLen, u->len - kUdpHdrLen);
  return true;
}

size_t mip_reply_frame(Ipv4Addr src, Ipv4Addr dst, uint16_t dport, uint16_t ip_id,
                       std::span<const std::byte> payload, std::span<std::byte> out) noexcept {
  const size_t len = kIpv4HdrLen + kUdpHdrLen + payload.size();
  if (len > out.size() || len > 0xffff) return 0;
  const auto total = static_cast<uint16_t>(len);
  ipv4_build(out, {.src = src, .dst = dst, .total_len = total, .id = ip_id, .proto = kIpProtoUdp});
  const auto udp = out.subspan(kIpv4HdrLen, len - kIpv4HdrLen);
  udp_build(udp, kMipPort, dport, static_cast<uint16_t>(udp.size()));
  std::memcpy(udp.data() + kUdpHdrLen, payload.data(), payload.size());
  udp_fill_checksum(udp, src, dst);
  return len;
}

}  // namespace mipvpn
