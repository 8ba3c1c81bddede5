/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Why a codec refused its input. One enum for every parser so that each
 * value maps to one named drop counter that a user can read.
 */
#pragma once

#include <cstdint>
#include <string_view>

namespace mipvpn {

enum class CodecError : uint8_t {
  kOk = 0,
  kTruncated,          /* fewer bytes than the header or its length field says */
  kBadVersion,         /* IP version is not 4 */
  kBadIhl,             /* IHL < 5, or options longer than the packet */
  kBadLength,          /* a length field disagrees with the bytes present */
  kBadChecksum,        /* IPv4 header or UDP checksum wrong */
  kBadProtocol,        /* outer protocol is not the one this decapsulator takes */
  kBadNextHeader,      /* ESP next header / tunnel next header not supported */
  kBadPadding,         /* ESP pad bytes not 1, 2, 3, ... (RFC 4303 2.4) */
  kBadPadLength,       /* pad length larger than the decrypted payload */
  kBadAlignment,       /* ciphertext not a multiple of the cipher block */
  kFragment,           /* an IPv4 fragment where a whole datagram is required */
  kTtlExpired,         /* TTL would reach zero on forwarding */
  kBadTunnelHeader,    /* RFC 3519 tunnel data header: type not 4 (3.3) */
  kBadPort,            /* UDP port is not the one this decoder serves */
  kNatKeepalive,       /* RFC 3948 2.3 one-byte 0xFF keepalive: drop quietly */
  kIkeMarker,          /* RFC 3948 2.2 non-ESP marker: IKE, not ESP */
  kBadSpi,             /* SPI 0 or in the reserved range 1..255 (RFC 4303 2.1) */
  kNoRoom,             /* not enough headroom/tailroom to build the headers */
  kTooBig,             /* result would exceed 65535 bytes / the MTU */
  kBadInner,           /* inner packet of a tunnel fails its own checks */
  kTunnelLoop,         /* RFC 2003 3.2: inner source is a tunnel endpoint */
  kCount,
};

constexpr std::string_view to_string(CodecError e) noexcept {
  switch (e) {
    case CodecError::kOk: return "ok";
    case CodecError::kTruncated: return "truncated";
    case CodecError::kBadVersion: return "bad_version";
    case CodecError::kBadIhl: return "bad_ihl";
    case CodecError::kBadLength: return "bad_length";
    case CodecError::kBadChecksum: return "bad_checksum";
    case CodecError::kBadProtocol: return "bad_protocol";
    case CodecError::kBadNextHeader: return "bad_next_header";
    case CodecError::kBadPadding: return "bad_padding";
    case CodecError::kBadPadLength: return "bad_pad_length";
    case CodecError::kBadAlignment: return "bad_alignment";
    case CodecError::kFragment: return "fragment";
    case CodecError::kTtlExpired: return "ttl_expired";
    case CodecError::kBadTunnelHeader: return "bad_tunnel_header";
    case CodecError::kBadPort: return "bad_port";
    case CodecError::kNatKeepalive: return "nat_keepalive";
    case CodecError::kIkeMarker: return "ike_marker";
    case CodecError::kBadSpi: return "bad_spi";
    case CodecError::kNoRoom: return "no_room";
    case CodecError::kTooBig: return "too_big";
    case CodecError::kBadInner: return "bad_inner";
    case CodecError::kTunnelLoop: return "tunnel_loop";
    case CodecError::kCount: break;
  }
  return "unknown";
}

/*
 * A parse result: either a value or the reason it could not be produced.
 * A small stand-in for std::expected (C++23), trivially copyable when T is.
 */
template <class T>
class Parsed {
 public:
  constexpr Parsed(T v) : v_(v), err_(CodecError::kOk) {}  // NOLINT: implicit by design
  constexpr Parsed(CodecError e) : v_{}, err_(e) {}        // NOLINT
  constexpr bool ok() const noexcept { return err_ == CodecError::kOk; }
  constexpr explicit operator bool() const noexcept { return ok(); }
  constexpr CodecError error() const noexcept { return err_; }
  constexpr const T& value() const noexcept { return v_; }
  constexpr const T* operator->() const noexcept { return &v_; }
  constexpr const T& operator*() const noexcept { return v_; }

 private:
  T v_;
  CodecError err_;
};

}  // namespace mipvpn
