/* SPDX-License-Identifier: BSD-3-Clause */
#include "codec/ipv4.h"

#include <charconv>

namespace mipvpn {

std::optional<Ipv4Addr> Ipv4Addr::parse(std::string_view s) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    if (s.empty() || s.front() < '0' || s.front() > '9') return std::nullopt;
    if (s.size() > 1 && s[0] == '0' && s[1] >= '0' && s[1] <= '9') return std::nullopt;
    unsigned octet = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), octet);
    if (ec != std::errc{} || octet > 255) return std::nullopt;
    v = (v << 8) | octet;
    s.remove_prefix(static_cast<size_t>(p - s.data()));
    if (i < 3) {
      if (s.empty() || s.front() != '.') return std::nullopt;
      s.remove_prefix(1);
    }
  }
  if (!s.empty()) return std::nullopt;
  return Ipv4Addr(v);
}

std::string Ipv4Addr::str() const {
  return std::to_string(v_ >> 24) + '.' + std::to_string((v_ >> 16) & 0xff) + '.' +
         std::to_string((v_ >> 8) & 0xff) + '.' + std::to_string(v_ & 0xff);
}

uint32_t csum_partial(cbytes data, uint32_t sum) noexcept {
  /* Sum 16-bit big-endian words in a 64-bit accumulator; fold at the end. */
  uint64_t acc = sum;
  size_t i = 0;
  const size_t n = data.size();
  for (; i + 1 < n; i += 2) acc += load_be16(&data[i]);
  if (i < n) acc += std::to_integer<uint32_t>(data[i]) << 8;
  while (acc >> 32) acc = (acc & 0xffffffffu) + (acc >> 32);
  uint32_t r = static_cast<uint32_t>(acc);
  r = (r & 0xffff) + (r >> 16);
  r = (r & 0xffff) + (r >> 16);
  return r;
}

Parsed<Ipv4Info> ipv4_parse(cbytes pkt, Ipv4Check check) noexcept {
  if (pkt.size() < kIpv4HdrLen) return CodecError::kTruncated;
  const auto* h = header_at<Ipv4Hdr>(pkt.data());
  if ((h->ver_ihl >> 4) != 4) return CodecError::kBadVersion;
  const uint16_t hl = static_cast<uint16_t>((h->ver_ihl & 0x0f) * 4);
  if (hl < kIpv4HdrLen) return CodecError::kBadIhl;
  if (hl > pkt.size()) return CodecError::kTruncated;
  const uint16_t tl = h->total_len.host();
  if (tl < hl) return CodecError::kBadLength;
  if (tl > pkt.size()) return CodecError::kTruncated;
  if (check == Ipv4Check::kFull && csum_fold(csum_partial(pkt.first(hl))) != 0)
    return CodecError::kBadChecksum;

  Ipv4Info i;
  const uint16_t fo = h->frag_off.host();
  i.hdr_len = hl;
  i.total_len = tl;
  i.id = h->id.host();
  i.tos = h->tos;
  i.ttl = h->ttl;
  i.proto = h->proto;
  i.df = (fo & kIpv4FlagDf) != 0;
  i.fragment = (fo & (kIpv4FlagMf | kIpv4OffMask)) != 0;
  i.src = Ipv4Addr(h->src.host());
  i.dst = Ipv4Addr(h->dst.host());
  return i;
}

void ipv4_build(bytes out, const Ipv4Build& b) noexcept {
  ipv4_fill(out.data(), b);
  header_at<Ipv4Hdr>(out.data())->csum = be16::from_host(ip_checksum(out.first(kIpv4HdrLen)));
}

CodecError ipv4_ttl_decrement(Ipv4Hdr* h) noexcept {
  if (h->ttl <= 1) return CodecError::kTtlExpired;
  /* TTL is the high byte of the 16-bit word it shares with the protocol. */
  const uint16_t old_word = static_cast<uint16_t>((h->ttl << 8) | h->proto);
  h->ttl = static_cast<uint8_t>(h->ttl - 1);
  const uint16_t new_word = static_cast<uint16_t>((h->ttl << 8) | h->proto);
  h->csum = be16::from_host(csum_update16(h->csum.host(), old_word, new_word));
  return CodecError::kOk;
}

void ipv4_set_tos(Ipv4Hdr* h, uint8_t tos) noexcept {
  const uint16_t old_word = static_cast<uint16_t>((h->ver_ihl << 8) | h->tos);
  h->tos = tos;
  const uint16_t new_word = static_cast<uint16_t>((h->ver_ihl << 8) | h->tos);
  h->csum = be16::from_host(csum_update16(h->csum.host(), old_word, new_word));
}

std::optional<Ipv4Prefix> Ipv4Prefix::parse(std::string_view s) {
  Ipv4Prefix p;
  const auto slash = s.find('/');
  const auto a = Ipv4Addr::parse(s.substr(0, slash));
  if (!a) return std::nullopt;
  p.addr = *a;
  p.len = 32;
  if (slash != std::string_view::npos) {
    const std::string_view l = s.substr(slash + 1);
    unsigned v = 0;
    auto [q, ec] = std::from_chars(l.data(), l.data() + l.size(), v);
    if (ec != std::errc{} || q != l.data() + l.size() || l.empty() || v > 32) return std::nullopt;
    p.len = static_cast<uint8_t>(v);
  }
  if ((p.addr.host() & ~Ipv4Prefix::mask(p.len)) != 0) return std::nullopt;  /* host bits set: a typo */
  return p;
}

}  // namespace mipvpn
