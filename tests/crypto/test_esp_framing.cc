/* SPDX-License-Identifier: BSD-3-Clause */
/* ESP framing (codec/esp.h): RFC 4303 2.1-2.6, no cryptography. */
#include <gtest/gtest.h>

#include <vector>

#include "codec/esp.h"

namespace mipvpn {
namespace {

cbytes cb(const std::vector<uint8_t>& v) {
  return {reinterpret_cast<const std::byte*>(v.data()), v.size()};
}

TEST(EspFraming, PadLengthAlignsPayloadPlusTrailer) {
  for (uint32_t block : {1u, 4u, 8u, 16u}) {
    const uint32_t align = block > 4 ? block : 4;
    for (uint32_t len = 0; len < 100; ++len) {
      const uint32_t pad = esp_pad_len(len, block);
      EXPECT_LT(pad, align);
      EXPECT_EQ((len + pad + 2) % align, 0u) << len << ' ' << block;
      EXPECT_EQ((len + pad + 2) % 4, 0u);
    }
  }
  EXPECT_EQ(esp_pad_len(14, 16), 0u);
  EXPECT_EQ(esp_pad_len(15, 16), 15u);
  EXPECT_EQ(esp_pad_len(2, 4), 0u);
  EXPECT_EQ(esp_pad_len(0, 4), 2u);
}

TEST(EspFraming, TrailerWriteThenParse) {
  for (uint32_t pad = 0; pad <= 255; ++pad) {
    std::vector<uint8_t> buf(10 + pad + 2, 0xee);
    bytes out(reinterpret_cast<std::byte*>(buf.data()) + 10, pad + 2);
    ASSERT_EQ(esp_trailer_write(out, pad, 4), pad + 2);
    for (uint32_t i = 0; i < pad; ++i) ASSERT_EQ(buf[10 + i], i + 1);  /* 1, 2, 3, ... */
    auto t = esp_trailer_parse(cb(buf));
    ASSERT_TRUE(t) << to_string(t.error());
    EXPECT_EQ(t->pad_len, pad);
    EXPECT_EQ(t->next_header, 4);
    EXPECT_EQ(t->payload_len, 10u);
  }
  std::vector<uint8_t> small(3);
  EXPECT_EQ(esp_trailer_write(bytes(reinterpret_cast<std::byte*>(small.data()), 3), 2, 4), 0u);
  EXPECT_EQ(esp_trailer_write(bytes(reinterpret_cast<std::byte*>(small.data()), 3), 256, 4), 0u);
}

TEST(EspFraming, TrailerRefusals) {
  EXPECT_EQ(esp_trailer_parse(cb({4})).error(), CodecError::kTruncated);
  EXPECT_EQ(esp_trailer_parse(cb({1, 2, 3, 4})).error(), CodecError::kBadPadLength);  /* 3 > 2 */
  EXPECT_TRUE(esp_trailer_parse(cb({1, 2, 2, 4})));                                  /* all pad */
  EXPECT_EQ(esp_trailer_parse(cb({9, 1, 3, 2, 4})).error(), CodecError::kBadPadding);
  EXPECT_EQ(esp_trailer_parse(cb({9, 0, 0, 2, 4})).error(), CodecError::kBadPadding);
  EXPECT_EQ(esp_trailer_parse(cb({9, 2, 1, 2, 4})).error(), CodecError::kBadPadding);
  auto t = esp_trailer_parse(cb({9, 9, 0, 59}));
  ASSERT_TRUE(t);
  EXPECT_EQ(t->next_header, kEspNextNone);  /* the verdict on 59 is the caller's */
}

TEST(EspFraming, EveryWrongPadByteIsFoundForAllLengths) {
  for (uint32_t payload : {0u, 3u, 20u, 40u}) {
    for (uint32_t pad = 1; pad <= 40; ++pad) {
      std::vector<uint8_t> buf(payload + pad + 2, 0x77);
      for (uint32_t i = 0; i < pad; ++i) buf[payload + i] = static_cast<uint8_t>(i + 1);
      buf[payload + pad] = static_cast<uint8_t>(pad);
      buf[payload + pad + 1] = 4;
      ASSERT_TRUE(esp_trailer_parse(cb(buf))) << payload << ' ' << pad;
      for (uint32_t i = 0; i < pad; ++i) {
        auto bad = buf;
        bad[payload + i] ^= 0x10;
        EXPECT_EQ(esp_trailer_parse(cb(bad)).error(), CodecError::kBadPadding) << payload << ' ' << pad << ' ' << i;
      }
      /* payload bytes are not padding: changing them changes nothing */
      if (payload) {
        auto other = buf;
        other[payload - 1] ^= 0xff;
        EXPECT_TRUE(esp_trailer_parse(cb(other)));
      }
    }
  }
}

TEST(EspFraming, Header) {
  std::vector<uint8_t> b(8);
  esp_hdr_write(bytes(reinterpret_cast<std::byte*>(b.data()), 8), 0x12345678, 0x9abcdef0);
  EXPECT_EQ(b, (std::vector<uint8_t>{0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0}));
  auto h = esp_hdr_parse(cb(b));
  ASSERT_TRUE(h);
  EXPECT_EQ(h->spi, 0x12345678u);
  EXPECT_EQ(h->seq, 0x9abcdef0u);
  EXPECT_EQ(esp_hdr_parse(cb({0, 0, 1, 0, 0, 0, 0})).error(), CodecError::kTruncated);
  EXPECT_EQ(esp_hdr_parse(cb({0, 0, 0, 255, 0, 0, 0, 1})).error(), CodecError::kBadSpi);
  EXPECT_TRUE(esp_hdr_parse(cb({0, 0, 1, 0, 0, 0, 0, 1})));
}

}  // namespace
}  // namespace mipvpn
