/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Network byte order integers as distinct types.
 *
 * be16/be32 hold their bytes in wire order and have alignment 1, so a wire
 * header struct made of them can be laid over any byte of a packet buffer
 * with no packed attribute and no misaligned access. Conversion is explicit:
 * be32::from_host(x) and v.host(). g++ compiles host() to a single load+bswap.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace mipvpn {

class be16 {
 public:
  constexpr be16() = default;
  static constexpr be16 from_host(uint16_t v) noexcept {
    be16 r;
    r.b_[0] = static_cast<uint8_t>(v >> 8);
    r.b_[1] = static_cast<uint8_t>(v);
    return r;
  }
  constexpr uint16_t host() const noexcept {
    return static_cast<uint16_t>((b_[0] << 8) | b_[1]);
  }
  friend constexpr bool operator==(be16, be16) = default;

 private:
  uint8_t b_[2]{};
};

class be32 {
 public:
  constexpr be32() = default;
  static constexpr be32 from_host(uint32_t v) noexcept {
    be32 r;
    r.b_[0] = static_cast<uint8_t>(v >> 24);
    r.b_[1] = static_cast<uint8_t>(v >> 16);
    r.b_[2] = static_cast<uint8_t>(v >> 8);
    r.b_[3] = static_cast<uint8_t>(v);
    return r;
  }
  constexpr uint32_t host() const noexcept {
    return (uint32_t{b_[0]} << 24) | (uint32_t{b_[1]} << 16) |
           (uint32_t{b_[2]} << 8) | uint32_t{b_[3]};
  }
  friend constexpr bool operator==(be32, be32) = default;

 private:
  uint8_t b_[4]{};
};

static_assert(sizeof(be16) == 2 && alignof(be16) == 1);
static_assert(sizeof(be32) == 4 && alignof(be32) == 1);

/* Byte views used by every codec. */
using bytes = std::span<std::byte>;
using cbytes = std::span<const std::byte>;

inline uint16_t load_be16(const std::byte* p) noexcept {
  return static_cast<uint16_t>((std::to_integer<unsigned>(p[0]) << 8) |
                               std::to_integer<unsigned>(p[1]));
}
inline uint32_t load_be32(const std::byte* p) noexcept {
  return (std::to_integer<uint32_t>(p[0]) << 24) |
         (std::to_integer<uint32_t>(p[1]) << 16) |
         (std::to_integer<uint32_t>(p[2]) << 8) | std::to_integer<uint32_t>(p[3]);
}
inline void store_be16(std::byte* p, uint16_t v) noexcept {
  p[0] = std::byte(v >> 8);
  p[1] = std::byte(v & 0xff);
}
inline void store_be32(std::byte* p, uint32_t v) noexcept {
  p[0] = std::byte(v >> 24);
  p[1] = std::byte((v >> 16) & 0xff);
  p[2] = std::byte((v >> 8) & 0xff);
  p[3] = std::byte(v & 0xff);
}

/*
 * View a wire header struct over bytes. T must consist of be16/be32/uint8_t
 * members only (alignment 1), which every header in codec/ does.
 */
template <class T>
inline T* header_at(std::byte* p) noexcept {
  static_assert(alignof(T) == 1, "wire headers must have alignment 1");
  return reinterpret_cast<T*>(p);
}
template <class T>
inline const T* header_at(const std::byte* p) noexcept {
  static_assert(alignof(T) == 1, "wire headers must have alignment 1");
  return reinterpret_cast<const T*>(p);
}

}  // namespace mipvpn
