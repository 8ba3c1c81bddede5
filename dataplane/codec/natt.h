/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * UDP encapsulation of IPsec ESP for NAT traversal, RFC 3948:
 *   section 2.1  UDP-encapsulated ESP: UDP header then the ESP header; the
 *                SPI MUST NOT be zero; the IPv4 UDP checksum SHOULD be sent
 *                as zero and receivers MUST NOT depend on it being zero
 *                (ESP's ICV protects the payload, so we do not verify it
 *                by default);
 *   section 2.2  IKE on port 4500: a 4-byte zero non-ESP marker first;
 *   section 2.3  NAT-keepalive: a one-byte 0xFF payload, ignored by the
 *                receiver;
 *   section 3.1  encapsulation and decapsulation: insert/remove the UDP
 *                header after the IP header and fix the IP Total Length,
 *                Protocol and Header Checksum.
 * RFC 4303 2.1: SPI 0 is never sent and 1..255 are reserved (kBadSpi).
 *
 * The inbound ESP engine (crypto/esp.h) takes outer IPv4 / UDP / ESP as it
 * arrives, so a tunnel-mode data path needs only natt_demux() (to find the
 * SPI and punt IKE) and never natt_decap(): rewriting an outer header that
 * tunnel-mode decryption throws away would cost a 20..60-byte move for
 * nothing. natt_decap() is for transport mode, captures and peers that
 * want plain IP / ESP.
 *
 * Left to the caller: checking that the SA was negotiated with UDP
 * encapsulation and that the outer source address/port match what IKE
 * saw (NAT mapping changes, RFC 7296 2.23), and sending
 * keepalives.
 */
#pragma once

#include <cstdint>

#include "codec/error.h"
#include "codec/ipv4.h"
#include "codec/pkt.h"
#include "codec/udp.h"

namespace mipvpn {

inline constexpr uint16_t kEspHdrLen = 8;            /* SPI + sequence number */
inline constexpr uint16_t kNattNonEspMarkerLen = 4;  /* RFC 3948 2.2 */
inline constexpr size_t kIkeHdrLen = 28;            /* RFC 7296 3.1: the IKE header */
inline constexpr uint8_t kNattKeepaliveByte = 0xff;  /* RFC 3948 2.3 */
inline constexpr uint16_t kNattOverhead = kUdpHdrLen; /* 8 bytes on top of IP / ESP */

enum class NattKind : uint8_t {
  kEsp,        /* ESP: to the inbound ESP engine by SPI */
  kIke,        /* non-ESP marker: to the IKE daemon */
  kKeepalive,  /* 0xFF: drop quietly, count nothing as an error */
};

struct NattClass {
  NattKind kind = NattKind::kEsp;
  uint32_t spi = 0;  /* host order; ESP only */
};

/*
 * Classify a UDP/4500 payload. Errors: kTruncated (empty, or ESP shorter
 * than its 8-byte header, including a one-byte payload that is not 0xFF),
 * kBadSpi (SPI 1..255).
 */
inline Parsed<NattClass> natt_classify(cbytes payload) noexcept {
  /* RFC 3948 2.3: exactly one octet 0xFF. */
  if (payload.size() == 1 && std::to_integer<uint8_t>(payload[0]) == kNattKeepaliveByte)
    return NattClass{.kind = NattKind::kKeepalive};
  /* RFC 3948 2.2: the non-ESP marker sits where an ESP SPI would be; an
   * SPI is never zero (2.1), so four zero bytes cannot be ESP. */
  if (payload.size() >= kNattNonEspMarkerLen && load_be32(payload.data()) == 0)
    return NattClass{.kind = NattKind::kIke};
  if (payload.size() < kEspHdrLen) return CodecError::kTruncated;
  const uint32_t spi = load_be32(payload.data());
  if (spi < 256) return CodecError::kBadSpi; /* RFC 4303 2.1: 1..255 reserved */
  return NattClass{.kind = NattKind::kEsp, .spi = spi};
}

struct NattOpts {
  Ipv4Check ip_check = Ipv4Check::kFull;
  UdpCheck udp_check = UdpCheck::kNoChecksum;  /* RFC 3948 2.1: not relied upon */
  uint16_t port = kPortNatt;                   /* our IKE/NAT-T port */
};

/* What natt_demux() learned; offsets are from the start of the packet. */
struct NattDemux {
  NattKind kind = NattKind::kEsp;
  uint32_t spi = 0;            /* ESP only */
  Ipv4Addr src;
  Ipv4Addr dst;
  uint16_t sport = 0;          /* the peer's (NAT's) port */
  uint16_t dport = 0;
  uint16_t payload_off = 0;    /* first byte after the UDP header */
  uint16_t payload_len = 0;    /* UDP length - 8 */
};

/*
 * Demultiplex one packet that starts at the outer IPv4 header. Errors:
 * the IPv4 header's own, kBadProtocol (not UDP), kFragment, the UDP
 * header's own, kBadPort (destination port not opts.port), and
 * natt_classify()'s.
 */
Parsed<NattDemux> natt_demux(cbytes pkt, const NattOpts& opts = {}) noexcept;

/*
 * RFC 3948 2.1: the 8-byte UDP header in front of esp_len bytes of ESP,
 * checksum zero. out.size() >= 8.
 */
inline void natt_udp_build(bytes out, uint16_t sport, uint16_t dport, uint16_t esp_len) noexcept {
  udp_build(out, sport, dport, static_cast<uint16_t>(esp_len + kUdpHdrLen));
}

/*
 * RFC 3948 3.1.1 / 3.1.3 (outbound): turn IPv4 / ESP at pkt.data() into
 * IPv4 / UDP / ESP. The IP header (with any options) moves 8 bytes into
 * the headroom; the protocol becomes 17, the total length grows by 8, the
 * header checksum is updated incrementally (RFC 1624); the UDP checksum is
 * zero. Trailing bytes after the IP total length are cut. Errors (pkt
 * unchanged): the IPv4 header's own, kBadProtocol (not 50), kFragment,
 * kTruncated (ESP shorter than 8 bytes), kBadSpi (SPI < 256), kTooBig,
 * kNoRoom (headroom < 8).
 */
CodecError natt_encap(PktView& pkt, uint16_t sport, uint16_t dport,
                      Ipv4Check check = Ipv4Check::kFull) noexcept;

/*
 * RFC 3948 3.1.2 / 3.1.4 (inbound): turn IPv4 / UDP / ESP into IPv4 / ESP:
 * the IP header moves 8 bytes forward over the UDP header, the protocol
 * becomes 50, the total length shrinks by 8 (to the UDP length's end) and
 * the checksum is updated incrementally. Errors (pkt unchanged): those of
 * natt_demux(), and kIkeMarker / kNatKeepalive for a payload that is not
 * ESP (give those to IKE, or drop them quietly).
 */
CodecError natt_decap(PktView& pkt, const NattOpts& opts = {}) noexcept;

}  // namespace mipvpn
