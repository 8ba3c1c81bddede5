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
