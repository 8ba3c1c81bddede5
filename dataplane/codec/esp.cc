/* SPDX-License-Identifier: BSD-3-Clause */
/* ESP framing, RFC 4303 sections 2.1-2.9 (see esp.h). */
#include "codec/esp.h"

#include <cstring>

namespace mipvpn {

uint32_t esp_trailer_write(bytes out, uint32_t pad_len, uint8_t next_header) noexcept {
  if (pad_len > kEspMaxPad || out.size() < pad_len + kEspTrailerLen) return 0;
  std::memcpy(out.data(), kEspDefaultPad.data(), pad_len);
  out[pad_len] = std::byte(pad_len);
  out[pad_len + 1] = std::byte(next_header);
  return pad_len + kEspTrailerLen;
}

Parsed<EspTrailerInfo> esp_trailer_parse(cbytes plain) noexcept {
  const size_t n = plain.size();
  if (n < kEspTrailerLen) return CodecError::kTruncated;
  EspTrailerInfo t;
  t.pad_len = std::to_integer<uint8_t>(plain[n - 2]);
  t.next_header = std::to_integer<uint8_t>(plain[n - 1]);
  /* RFC 4303 2.4/2.5: the padding lies inside the payload that precedes
   * the trailer; a longer pad length is malformed (3.4.4.1 drops it). */
  if (t.pad_len > n - kEspTrailerLen) return CodecError::kBadPadLength;
  t.payload_len = static_cast<uint32_t>(n - kEspTrailerLen - t.pad_len);
  if (t.pad_len != 0 &&
      std::memcmp(plain.data() + t.payload_len, kEspDefaultPad.data(), t.pad_len) != 0)
    return CodecError::kBadPadding;
  return t;
}

Parsed<EspHdrInfo> esp_hdr_parse(cbytes esp) noexcept {
  if (esp.size() < kEspHdrLen) return CodecError::kTruncated;
  const auto* h = header_at<EspHdr>(esp.data());
  EspHdrInfo i;
  i.spi = h->spi.host();
  i.seq = h->seq.host();
  if (i.spi < kEspMinSpi) return CodecError::kBadSpi;
  return i;
}

void esp_hdr_write(bytes out, uint32_t spi, uint32_t seq_lo) noexcept {
  auto* h = header_at<EspHdr>(out.data());
  h->spi = be32::from_host(spi);
  h->seq = be32::from_host(seq_lo);
}

}  // namespace mipvpn
