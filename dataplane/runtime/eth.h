/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ethernet II framing (IEEE 802.3 / RFC 894 for IPv4, RFC 826 for ARP)
 * on a PktView: what the runtime does to a frame between the port and the
 * stages. No DPDK: unit-testable on plain buffers.
 */
#pragma once

#include <cstdint>
#include <cstring>

#include "codec/endian.h"
#include "codec/pkt.h"
#include "codec/mac.h"

namespace mipvpn {

inline constexpr uint16_t kEthHdrLen = 14;
inline constexpr uint16_t kEtherTypeIpv4 = 0x0800;  /* RFC 894 */
inline constexpr uint16_t kEtherTypeArp = 0x0806;   /* RFC 826 */
inline constexpr uint16_t kEtherTypeVlan = 0x8100;  /* IEEE 802.1Q */
inline constexpr uint16_t kEtherTypeQinQ = 0x88a8;  /* IEEE 802.1ad */

struct EthHdr {
  uint8_t dst[6];
  uint8_t src[6];
  be16 type;
};
static_assert(sizeof(EthHdr) == kEthHdrLen);

enum class EthRxKind : uint8_t {
  kIpv4,       /* stripped: pkt now starts at the IPv4 header */
  kArp,        /* left as it is (Ethernet header included): punt it */
  kRunt,       /* shorter than an Ethernet header */
  kNotForUs,   /* destination neither our MAC nor broadcast */
  kVlan,       /* 802.1Q / 802.1ad tag: not handled */
  kEtherType,  /* any other EtherType (IPv6, LLDP, ...) */
};

/*
 * Classify the frame at pkt.data() for a port whose address is `ours`.
 * IPv4 to our MAC or to broadcast: the 14-byte header is removed (data_off
 * grows, data_len shrinks). ARP to our MAC or broadcast: unchanged. Never
 * reads outside pkt.bytes().
 */
inline EthRxKind eth_rx(PktView& pkt, const MacAddr& ours) noexcept {
  if (pkt.data_len < kEthHdrLen) return EthRxKind::kRunt;
  const std::byte* p = pkt.data();
  const uint16_t type = load_be16(p + 12);
  if (type == kEtherTypeVlan || type == kEtherTypeQinQ) return EthRxKind::kVlan;
  if (type != kEtherTypeIpv4 && type != kEtherTypeArp) return EthRxKind::kEtherType;
  /* The destination as one 4-byte and one 2-byte word against ours and
   * against all ones (broadcast). */
  uint32_t d4, o4;
  uint16_t d2, o2;
  std::memcpy(&d4, p, 4);
  std::memcpy(&d2, p + 4, 2);
  std::memcpy(&o4, ours.b.data(), 4);
  std::memcpy(&o2, ours.b.data() + 4, 2);
  const bool to_us = d4 == o4 && d2 == o2;
  const bool broadcast = d4 == 0xffffffffu && d2 == 0xffffu;
  if (!to_us && !broadcast) return EthRxKind::kNotForUs;
  if (type == kEtherTypeArp) return EthRxKind::kArp;
  pkt.data_off += kEthHdrLen;
  pkt.data_len -= kEthHdrLen;
  return EthRxKind::kIpv4;
}

/*
 * Prepend an Ethernet II header {dst, src, type} in the headroom. Returns
 * false (pkt unchanged) when the headroom is shorter than 14 bytes.
 */
inline bool eth_tx_prepend(PktView& pkt, const MacAddr& dst, const MacAddr& src,
                           uint16_t type) noexcept {
  if (pkt.data_off < kEthHdrLen) return false;
  pkt.data_off -= kEthHdrLen;
  pkt.data_len += kEthHdrLen;
  std::byte* p = pkt.data();
  std::memcpy(p, dst.b.data(), 6);
  std::memcpy(p + 6, src.b.data(), 6);
  store_be16(p + 12, type);
  return true;
}

}  // namespace mipvpn
