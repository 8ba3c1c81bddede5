/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The IPv4 header on the stages' hot path: the option-less header
 * (IHL 5, the one every tunnel we build and nearly every datagram has)
 * parsed inline and its checksum summed as five 32-bit words; anything
 * else (options, every error) goes through the codec, so that the result
 * and the error are ipv4_parse()'s (codec/ipv4.h) for every input.
 *
 * RFC 1071 2(B), 2(C): the one's complement sum does not depend on the
 * byte order and may be taken over wider words and folded; a header is
 * correct when the sum over all of it, checksum included, is all ones.
 */
#pragma once

#include <cstring>

#include "codec/endian.h"
#include "codec/ipv4.h"

namespace mipvpn {

/* One's complement sum of the 20 bytes at p as 16-bit words, folded, in
 * the machine's byte order (compare with 0xffff, or complement and store
 * as it is). */
inline uint16_t ipv4_sum20(const std::byte* p) noexcept {
  uint32_t w[5];
  std::memcpy(w, p, sizeof(w));
  uint64_t s = uint64_t{w[0]} + w[1] + w[2] + w[3] + w[4];  /* < 2^35 */
  s = (s & 0xffffffffu) + (s >> 32);
  s = (s & 0xffffffffu) + (s >> 32);
  uint32_t r = static_cast<uint32_t>((s & 0xffff) + (s >> 16));
  r = (r & 0xffff) + (r >> 16);
  r = (r & 0xffff) + (r >> 16);
  return static_cast<uint16_t>(r);
}

/* ipv4_parse(pkt, check) into *out; the same result for every input. */
inline CodecError ipv4_parse_fast(cbytes pkt, Ipv4Check check, Ipv4Info* out) noexcept {
  if (pkt.size() >= kIpv4HdrLen) [[likely]] {
    const std::byte* p = pkt.data();
    const uint16_t tl = load_be16(p + 2);
    if (std::to_integer<uint8_t>(p[0]) == 0x45 && tl >= kIpv4HdrLen && tl <= pkt.size() &&
        (check == Ipv4Check::kNoChecksum || ipv4_sum20(p) == 0xffff)) [[likely]] {
      const uint16_t fo = load_be16(p + 6);
      out->hdr_len = kIpv4HdrLen;
      out->total_len = tl;
      out->id = load_be16(p + 4);
      out->tos = std::to_integer<uint8_t>(p[1]);
      out->ttl = std::to_integer<uint8_t>(p[8]);
      out->proto = std::to_integer<uint8_t>(p[9]);
      out->df = (fo & kIpv4FlagDf) != 0;
      out->fragment = (fo & (kIpv4FlagMf | kIpv4OffMask)) != 0;
      out->src = Ipv4Addr(load_be32(p + 12));
      out->dst = Ipv4Addr(load_be32(p + 16));
      return CodecError::kOk;
    }
  }
  auto r = ipv4_parse(pkt, check);
  if (!r) return r.error();
  *out = *r;
  return CodecError::kOk;
}

/* ipv4_build() (codec/ipv4.h) with the checksum summed as above: the
 * same 20 bytes at out. */
inline void ipv4_build_fast(std::byte* out, const Ipv4Build& b) noexcept {
  ipv4_fill(out, b);
  const uint16_t c = static_cast<uint16_t>(~ipv4_sum20(out));
  std::memcpy(out + 10, &c, sizeof(c));
}

}  // namespace mipvpn
