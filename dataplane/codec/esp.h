/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ESP framing, RFC 4303 sections 2.1 to 2.9, without any cryptography:
 * the header (SPI, sequence number), the trailer (padding, pad length,
 * next header) and the rules that relate them.
 *
 *   0                   1                   2                   3
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |               Security Parameters Index (SPI)   (2.1)         |
 *   +---------------------------------------------------------------+
 *   |                      Sequence Number    (2.2)                 |
 *   +---------------------------------------------------------------+
 *   |     IV (2.3, cipher specific) || Payload Data (2.3)  ...      |
 *   +               +-----------+-----------------------------------+
 *   |               |  Padding (0-255 bytes, 2.4)                   |
 *   +---------------+---------------+---------------+---------------+
 *   |                               |  Pad Length   | Next Header   |
 *   +---------------------------------------------------------------+
 *   |         Integrity Check Value (variable, 2.8)                 |
 *
 * The encrypted part is Payload || Padding || Pad Length || Next Header;
 * its length is a multiple of the cipher block and of 4 bytes (2.4).
 * Spans in, nothing allocated, nothing read outside the span.
 */
#pragma once

#include <array>
#include <cstdint>

#include "codec/endian.h"
#include "codec/error.h"

namespace mipvpn {

inline constexpr uint16_t kEspHdrLen = 8;       /* SPI + sequence number */
inline constexpr uint16_t kEspTrailerLen = 2;   /* pad length + next header */
inline constexpr uint16_t kEspMaxPad = 255;     /* RFC 4303 2.4 */
inline constexpr uint8_t kEspNextIpv4 = 4;      /* tunnel mode, IPv4 inner */
inline constexpr uint8_t kEspNextNone = 59;     /* dummy packet, RFC 4303 2.6 */
inline constexpr uint32_t kEspMinSpi = 256;     /* 1..255 reserved by IANA (2.1) */

/* RFC 4303 section 2: the two words in clear before the IV. */
struct EspHdr {
  be32 spi;  /* 2.1 */
  be32 seq;  /* 2.2: low 32 bits; with ESN the high half never travels */
};
static_assert(sizeof(EspHdr) == kEspHdrLen);

/* RFC 4303 2.4/2.5: the last two bytes of the encrypted part. */
struct EspTrailer {
  uint8_t pad_len;
  uint8_t next_header;
};
static_assert(sizeof(EspTrailer) == kEspTrailerLen);

/*
 * RFC 4303 2.4: how many padding bytes follow a payload of payload_len
 * bytes so that payload + padding + 2 is a multiple of block (the cipher
 * block size, a power of two; 1 for none) and of 4, the alignment ESP asks
 * for in any case. Result in 0 .. max(block, 4) - 1.
 */
constexpr uint32_t esp_pad_len(uint32_t payload_len, uint32_t block) noexcept {
  const uint32_t align = block > 4 ? block : 4;
  return (align - ((payload_len + kEspTrailerLen) & (align - 1))) & (align - 1);
}

/* RFC 4303 2.4: "the first padding byte appended to the plaintext is
 * numbered 1, with subsequent padding bytes making up a monotonically
 * increasing sequence: 1, 2, 3, ...". The first n bytes are n's padding. */
inline constexpr std::array<uint8_t, kEspMaxPad> kEspDefaultPad = [] {
  std::array<uint8_t, kEspMaxPad> a{};
  for (uint32_t i = 0; i < kEspMaxPad; ++i) a[i] = static_cast<uint8_t>(i + 1);
  return a;
}();

/*
 * Write Padding (1, 2, ..., pad_len), Pad Length and Next Header at out.
 * out.size() must be >= pad_len + 2 and pad_len <= 255; returns the number
 * of bytes written, 0 (and writes nothing) if either does not hold.
 */
uint32_t esp_trailer_write(bytes out, uint32_t pad_len, uint8_t next_header) noexcept;

namespace detail {
/* Loaded 16 bytes from offset n (n = pad length, 0..16): the expected
 * last 16 bytes before the trailer (..., 1, 2, ..., n) and the mask
 * selecting the n pad bytes among them. */
inline constexpr std::array<uint8_t, 32> kEspPadTail = [] {
  std::array<uint8_t, 32> a{};
  for (uint32_t i = 16; i < 32; ++i) a[i] = static_cast<uint8_t>(i - 15);
  return a;
}();
inline constexpr std::array<uint8_t, 32> kEspPadMask = [] {
  std::array<uint8_t, 32> a{};
  for (uint32_t i = 16; i < 32; ++i) a[i] = 0xff;
  return a;
}();
}  // namespace detail

/* What the trailer of a decrypted payload says. */
struct EspTrailerInfo {
  uint32_t payload_len = 0;  /* bytes of Payload Data (before the padding) */
  uint8_t pad_len = 0;
  uint8_t next_header = 0;
};

/*
 * Check the trailer at the end of a decrypted ESP payload, plain =
 * Payload || Padding || Pad Length || Next Header (RFC 4303 3.4.4.1 step
 * 4 leaves the next-header verdict to the caller). Errors: kTruncated
 * (fewer than 2 bytes), kBadPadLength (pad length longer than what
 * precedes the trailer), kBadPadding (pad bytes not 1, 2, 3, ..., as
 * RFC 4303 2.4 allows a receiver to check for the default scheme).
 */
inline Parsed<EspTrailerInfo> esp_trailer_parse(cbytes plain) noexcept {
  const size_t n = plain.size();
  if (n < kEspTrailerLen) return CodecError::kTruncated;
  EspTrailerInfo t;
  t.pad_len = std::to_integer<uint8_t>(plain[n - 2]);
  t.next_header = std::to_integer<uint8_t>(plain[n - 1]);
  /* 2.4/2.5: the padding lies inside what precedes the trailer; a longer
   * pad length is malformed (3.4.4.1 drops it). */
  if (t.pad_len > n - kEspTrailerLen) return CodecError::kBadPadLength;
  t.payload_len = static_cast<uint32_t>(n - kEspTrailerLen - t.pad_len);
  /* On the inbound hot path: pads of up to 16 bytes (all that CBC and
   * GCM senders use) are checked with two 8-byte compares against the
   * expected tail 1..n, masked; longer ones byte by byte. */
  const std::byte* pad = plain.data() + t.payload_len;
  if (t.pad_len <= 16 && n >= 16 + kEspTrailerLen) {
    const std::byte* w = plain.data() + n - kEspTrailerLen - 16;  /* 16 bytes ending at the pad */
    uint64_t w0, w1, e0, e1, m0, m1;
    __builtin_memcpy(&w0, w, 8);
    __builtin_memcpy(&w1, w + 8, 8);
    __builtin_memcpy(&e0, detail::kEspPadTail.data() + t.pad_len, 8);
    __builtin_memcpy(&e1, detail::kEspPadTail.data() + t.pad_len + 8, 8);
    __builtin_memcpy(&m0, detail::kEspPadMask.data() + t.pad_len, 8);
    __builtin_memcpy(&m1, detail::kEspPadMask.data() + t.pad_len + 8, 8);
    if ((((w0 ^ e0) & m0) | ((w1 ^ e1) & m1)) != 0) return CodecError::kBadPadding;
    return t;
  }
  unsigned diff = 0;
  for (unsigned i = 0; i < t.pad_len; ++i) diff |= std::to_integer<unsigned>(pad[i]) ^ (i + 1);
  if (diff) return CodecError::kBadPadding;
  return t;
}

/* The clear header: SPI and low sequence number. */
struct EspHdrInfo {
  uint32_t spi = 0;
  uint32_t seq = 0;
};

/*
 * Parse the ESP header at the start of esp. Errors: kTruncated, kBadSpi
 * (SPI 0..255: 0 is for local use and 1..255 reserved, RFC 4303 2.1; such
 * a value never names an SA on the wire).
 */
Parsed<EspHdrInfo> esp_hdr_parse(cbytes esp) noexcept;

/* Write an ESP header at out (out.size() >= 8). */
void esp_hdr_write(bytes out, uint32_t spi, uint32_t seq_lo) noexcept;

}  // namespace mipvpn
