/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Text forms of the values the configuration holds: interface addresses,
 * MAC addresses, hex keys, DPDK device strings. Pure functions, no
 * libconfig: each returns nullopt (or false) on anything malformed.
 */
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace mipvpn::cfg {

/* "a.b.c.d/len" (len 0..32, host bits allowed); no bare address. */
std::optional<Ipv4IfAddr> parse_ifaddr(std::string_view s);

/* "aa:bb:cc:dd:ee:ff" (either case, two digits per byte). */
std::optional<MacAddr> parse_mac(std::string_view s);
constexpr bool mac_is_unicast(const MacAddr& m) noexcept { return (m.b[0] & 1) == 0; }

/* Hex digits, an even number of them, optionally after "0x"; empty is
 * an empty key. */
std::optional<std::vector<uint8_t>> parse_hex(std::string_view s);

/*
 * A DPDK device as EAL takes it: a PCI address ("0000:03:00.0" or
 * "03:00.0") or a virtual device ("net_ring0", "net_pcap0,rx_pcap=a.pcap").
 * False with the reason in *why otherwise.
 */
bool check_device(std::string_view s, std::string* why);
/* The device's name without its arguments: "net_pcap0" of "net_pcap0,rx_pcap=..". */
std::string_view device_name(std::string_view s) noexcept;

/*
 * Integer literals libconfig 1.5 would silently cut to 32 bits: a decimal
 * outside -2^31..2^31-1 or a hex above 0xffffffff without the L suffix
 * (4294967552 reads as 256). Strings and comments are skipped.
 */
struct WideLiteral {
  int line = 0;
  std::string text;
};
std::vector<WideLiteral> find_wide_int_literals(std::string_view text);

/* The candidate closest to name (edit distance at most 2), or "". */
std::string_view closest_name(std::string_view name, const std::vector<std::string_view>& candidates);

}  // namespace mipvpn::cfg
