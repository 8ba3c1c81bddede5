/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The reference for the ESP scenarios: the same payloads through raw
 * IPsec-MB with nothing around it (no headers built, no checks, no
 * counters): the physical limit of the crypto on this core.
 *
 * AES-GCM uses the direct API (the fastest path IPsec-MB has for one
 * buffer); AES-CBC + HMAC uses the burst job API, which is how multi-buffer
 * HMAC reaches its speed.
 */
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "crypto/esp.h"

namespace mipvpn::bench {

class RawEsp {
 public:
  /* suite: as in esp_suite_by_name; keys as the SA's. */
  static std::unique_ptr<RawEsp> create(const EspSuite& suite, std::span<const uint8_t> cipher_key,
                                        std::span<const uint8_t> auth_key);
  ~RawEsp();

  /* Buffers laid out as ESP on the wire: [SPI,seq 8][IV][payload][ICV].
   * payload_len is already padded to the suite's block. */
  void encrypt_burst(uint8_t* const* bufs, uint32_t payload_len, uint16_t n);
  /* Decrypt and verify; returns how many ICVs verified. */
  uint16_t decrypt_burst(uint8_t* const* bufs, uint32_t payload_len, uint16_t n);

  std::string_view name() const noexcept { return name_; }

 struct Impl;

 private:
  RawEsp() = default;
  std::unique_ptr<Impl> impl_;
  std::string_view name_;
};

}  // namespace mipvpn::bench
