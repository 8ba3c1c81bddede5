/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The parameters of mipvpnd's telemetry commands (docs/telemetry.md), one
 * parser for the daemon and for mipvpnctl (which checks a command line
 * before it sends it). Parameters are words separated by spaces or
 * commas, the same words as on mipvpnctl's command line:
 *
 *   /mipvpn/bindings      [xha|iha [FROM]]
 *   /mipvpn/sa_add        SPI in|out SUITE KEY SRC DST SELECTOR
 *                         [auth-key HEX] [esn] [window N] [natt SPORT DPORT]
 *   /mipvpn/sa_del        SPI in|out
 *   /mipvpn/binding_add   xha|iha HOME COA [udp PEER PORT] [lifetime S]
 *   /mipvpn/binding_del   xha|iha HOME
 *   /mipvpn/result        ID
 *
 * SPI: decimal or 0x-hex, 256..0xffffffff (RFC 4303 2.1: 1..255 are
 * reserved). KEY / auth-key: hex (an optional 0x); for GCM the key is
 * key || 4-byte salt (RFC 4106 8.1). SELECTOR: PREFIX/LEN, the inner
 * destination (out) or source (in) (RFC 4301 4.4.1). lifetime 0 or absent:
 * infinite. Each parser fills *out, or says in *err what is wrong and
 * returns false. No DPDK.
 */
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "codec/ipv4_addr.h"

namespace mipvpn {

enum class HaSel : uint8_t { kXha, kIha };

struct SaAddParams {
  uint32_t spi = 0;
  bool inbound = false;
  std::string suite;
  std::vector<uint8_t> key;
  std::vector<uint8_t> auth_key;
  Ipv4Addr src, dst;
  Ipv4Prefix selector;
  bool esn = false;
  uint32_t window = 64;
  uint16_t natt_sport = 0, natt_dport = 0;
};

struct SaDelParams {
  uint32_t spi = 0;
  bool inbound = false;
};

struct BindingAddParams {
  HaSel ha = HaSel::kXha;
  Ipv4Addr home, coa;
  bool udp = false;
  Ipv4Addr peer;
  uint16_t port = 0;
  uint32_t lifetime_s = 0;  /* 0: infinite */
};

struct BindingDelParams {
  HaSel ha = HaSel::kXha;
  Ipv4Addr home;
};

struct BindingsParams {
  HaSel ha = HaSel::kXha;
  bool both = true;    /* no role given: both home agents */
  uint32_t from = 0;   /* skip this many bindings (paging) */
};

/* Words of a parameter string (spaces and commas separate). */
std::vector<std::string_view> ctl_words(std::string_view params);

bool parse_u32_word(std::string_view w, uint32_t& out) noexcept;  /* decimal or 0x-hex */
bool parse_hex_bytes(std::string_view w, std::vector<uint8_t>& out);

bool parse_sa_add(std::string_view params, SaAddParams& out, std::string* err);
bool parse_sa_del(std::string_view params, SaDelParams& out, std::string* err);
bool parse_binding_add(std::string_view params, BindingAddParams& out, std::string* err);
bool parse_binding_del(std::string_view params, BindingDelParams& out, std::string* err);
bool parse_bindings(std::string_view params, BindingsParams& out, std::string* err);
bool parse_result_id(std::string_view params, uint64_t& out, std::string* err);

}  // namespace mipvpn
