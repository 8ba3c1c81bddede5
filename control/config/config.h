/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The configuration of mipvpnd (libconfig syntax), loaded and validated
 * in full before anything starts. docs/configuration.md is the reference
 * of every setting; the files in docs/examples/ are accepted examples.
 *
 *   ConfigResult r = load_config_file("/etc/mipvpn/mipvpnd.conf");
 *   for (const ConfigError& w : r.warnings) print(format_error(w));
 *   if (!r.config) { for (const ConfigError& e : r.errors) print(format_error(e)); exit(1); }
 *   const Config& c = *r.config;   // every value checked, ready to use
 *
 * All errors are collected (not only the first): unknown setting names
 * (typo protection), wrong types, bad addresses, prefixes, MACs and hex
 * keys, duplicates, routes whose next hop is on no port's subnet, role
 * sections missing or present without their role, keys of the wrong
 * length for their suite, syntax errors. Each carries the file and line
 * of the setting at fault (0 when it is about the file as a whole) and
 * one sentence a human can act on. config is set only when errors is
 * empty. Nothing here throws.
 */
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "codec/ipv4_addr.h"
#include "codec/mac.h"
#include "crypto/esp.h"
#include "ha/home_agent.h"

namespace mipvpn {

struct ConfigError {
  std::string file;
  int line = 0;          /* 0: about the file as a whole */
  std::string message;   /* "ports[1].address: '10.0.0.300/24' is not an IPv4 prefix" */
};

/* "FILE:LINE: message" (gcc style); "FILE: message" when line is 0. */
std::string format_error(const ConfigError& e);


/* An interface address "a.b.c.d/len": the port's own address and the
 * length of its connected subnet (host bits are the address, not a typo). */
struct Ipv4IfAddr {
  Ipv4Addr addr;
  uint8_t len = 32;
  Ipv4Prefix subnet() const noexcept;
  bool on_subnet(Ipv4Addr a) const noexcept { return subnet().contains(a); }
};

/* The server roles of RFC 5265 section 2, any set of them in one process. */
struct ConfigRoles {
  bool xha = false;    /* external home agent */
  bool vpngw = false;  /* IPsec VPN gateway */
  bool iha = false;    /* internal home agent */
};

struct PortConfig {
  std::string name;                /* unique */
  std::string device;              /* DPDK vdev string or PCI address, verbatim */
  Ipv4IfAddr address;              /* own address / connected subnet */
  uint16_t mtu = 1500;             /* 576..9000 */
  bool internal = false;           /* RFC 5265 3.7: inside the VPN */
  std::optional<MacAddr> mac;      /* unset: the device's own */
};

/* A static ARP entry. */
struct NeighbourConfig {
  Ipv4Addr address;
  MacAddr mac{};
  uint32_t port = 0;               /* index into Config::ports */
};

struct RouteConfig {
  Ipv4Prefix prefix;
  Ipv4Addr via;                    /* next hop, on the port's subnet */
  uint32_t port = 0;               /* index into Config::ports (given or deduced) */
};

/* An x-HA or i-HA: exactly what HomeAgent and add_mobile_node take. */
/* A binding the operator configures (no registration): IP-in-IP to the
 * care-of address, no expiry, until a registration or mipvpnctl changes it. */
struct StaticBindingConfig {
  Ipv4Addr home;
  Ipv4Addr care_of;
  /* RFC 3519 UDP tunnelling: packets for home go in UDP to peer:port
   * (the NAT's public side); IP-in-IP to care_of when false. */
  bool udp = false;
  Ipv4Addr peer;
  uint16_t port = 0;
};

struct HaSectionConfig {
  HaConfig ha;                     /* ha.role set from the section's name */
  std::vector<HaMobileNode> mobile_nodes;
  std::vector<StaticBindingConfig> bindings;
};

/* A static ESP SA with its keys as bytes; esp_config() borrows them. */
struct EspSaSpec {
  uint32_t spi = 0;
  EspDir dir = EspDir::kOutbound;
  const EspSuite* suite = nullptr;
  std::vector<uint8_t> cipher_key;   /* GCM: key || 4-byte salt */
  std::vector<uint8_t> auth_key;     /* CBC / NULL suites */
  Ipv4Addr src;                      /* tunnel endpoints */
  Ipv4Addr dst;
  bool esn = false;
  uint32_t replay_window = 64;
  uint16_t natt_sport = 0;           /* both 0: no RFC 3948 encapsulation */
  uint16_t natt_dport = 0;
  Ipv4Prefix selector;               /* SPD: inner destination (out) / source (in) */

  /* Valid while this EspSaSpec lives (the spans point into it). */
  EspSaConfig esp_config() const noexcept;
};

struct VpngwConfig {
  Ipv4Addr address;                  /* the gateway's own address */
  bool allow_static_gcm = false;
  std::vector<EspSaSpec> sas;
};

/* The IKE bridge (docs/ike.md): IKE that reaches the VPN gateway's address
 * (UDP 500, and 4500 with the RFC 3948 non-ESP marker) is written to a TUN
 * interface on the host, where an IKE daemon bound to that address runs;
 * what the daemon sends into the TUN from that address on UDP 500 / 4500
 * goes out through the stages. Needs the vpngw role. */
struct IkeConfig {
  std::string tap;                   /* host interface name, 1..15 of [A-Za-z0-9_.-] */
  uint16_t mtu = 1500;               /* of the interface: 576..2030 */
};

struct TimersConfig {
  uint32_t t_monitor_s = 60;         /* RFC 5265 T_MONITOR */
  uint32_t reg_lifetime_s = 1800;    /* mobile node role: lifetime asked for */
};

/* Per-source policing of punted packets (registrations, IKE) on each
 * worker, before the ring to the control thread. */
struct PuntConfig {
  uint32_t rate_per_source = 100;    /* packets per second; 0: off */
  uint32_t burst = 50;               /* back to back from one source */
};

struct Config {
  std::vector<std::string> eal{"--no-huge", "-m", "512", "--no-pci"};
  ConfigRoles roles;
  uint32_t workers = 1;              /* 1..64 worker lcores */
  std::vector<PortConfig> ports;
  std::vector<NeighbourConfig> neighbours;
  std::vector<RouteConfig> routes;
  std::optional<HaSectionConfig> xha;   /* present iff roles.xha */
  std::optional<HaSectionConfig> iha;   /* present iff roles.iha */
  std::optional<VpngwConfig> vpngw;     /* present iff roles.vpngw */
  TimersConfig timers;
  PuntConfig punt;
  std::optional<IkeConfig> ike;         /* absent: IKE is counted and dropped */
  bool telemetry = true;
};

struct ConfigResult {
  std::optional<Config> config;         /* set iff errors is empty */
  std::vector<ConfigError> errors;
  std::vector<ConfigError> warnings;
};

ConfigResult load_config_file(const std::string& path);
ConfigResult parse_config_string(std::string_view text, const std::string& name = "<string>");

}  // namespace mipvpn
