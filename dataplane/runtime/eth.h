/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ethernet II framing (IEEE 802.3 / RFC 894 for IPv4, RFC 826 for ARP)
 * on a PktView: what the runtime does to a frame between the port and the
 * stages. No DPDK: unit-testable on plain buffers.
 */
#pragma once

#include <cstdint>

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
  MacAddr dst;
  for (int i = 0; i < 6; ++i) dst.b[i] = std::to_integer<uint8_t>(p[i]);
  if (type == kEtherTypeVlan || type == kEtherTypeQinQ) return EthRxKind::kVlan;
  if (type != kEtherTypeIpv4 && type != kEtherTypeArp) return EthRxKind::kEtherType;
  if (!(dst == ours) && !dst.is_broadcast()) return EthRxKind::kNotForUs;
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
  for (int i = 0; i < 6; ++i) {
    p[i] = std::byte{dst.b[i]};
    p[6 + i] = std::byte{src.b[i]};
  }
  store_be16(p + 12, type);
  return true;
}

}  // namespace mipvpn
