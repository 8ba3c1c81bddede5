/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The configuration loader (control/config/config.h). Bad snippets are
 * a table: each names the line the error must point at (the line that
 * carries the marker "#<", or 0 for the file as a whole) and a piece of
 * its message. Good snippets check the values that come out, and the
 * example files of docs/examples/ must load without errors.
 */
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/values.h"

using namespace mipvpn;

namespace {

/* Pieces that make a valid x-HA configuration. */
const std::string kRolesXha = "roles = [\"xha\"];\n";
const std::string kPorts =
    "ports = ( { name = \"a\"; device = \"net_ring0\"; address = \"192.0.2.1/24\"; },\n"
    "          { name = \"b\"; device = \"net_ring1\"; address = \"10.1.0.1/16\"; internal = true; } );\n";
const std::string kXha = "xha = { addresses = [\"192.0.2.1\"]; };\n";
const std::string kIha = "iha = { addresses = [\"10.1.0.1\"]; trusted_networks = [\"10.1.0.0/16\"]; };\n";
const std::string kKey16 = "000102030405060708090a0b0c0d0e0f";
const std::string kKey32 = kKey16 + kKey16;
const std::string kMinimal = kRolesXha + kPorts + kXha;

std::string mn(const std::string& fields) { return "xha = { addresses = [\"192.0.2.1\"];\n mobile_nodes = (\n" + fields + "\n); };\n"; }
std::string vpngw(const std::string& sas, const std::string& extra = "") {
  return "roles = [\"vpngw\"];\n" + kPorts + "vpngw = { address = \"192.0.2.2\";" + extra + "\n sas = (\n" + sas + "\n); };\n";
}
/* An SA with every required field. extra comes last and may override
 * src, dst or selector; a marker in it must be followed by a newline. */
std::string sa(const std::string& spi, const std::string& dir, const std::string& suite, const std::string& key,
               const std::string& auth, const std::string& extra = "") {
  std::string s = "{ spi = " + spi + "; direction = \"" + dir + "\"; suite = \"" + suite + "\"; key = \"" + key + "\";";
  if (!auth.empty()) s += " auth_key = \"" + auth + "\";";
  /* Our end is vpngw.address, 192.0.2.2. */
  const bool in = dir == "in";
  if (extra.find("src =") == std::string::npos) s += in ? " src = \"203.0.113.9\";" : " src = \"192.0.2.2\";";
  if (extra.find("dst =") == std::string::npos) s += in ? " dst = \"192.0.2.2\";" : " dst = \"203.0.113.9\";";
  if (extra.find("selector =") == std::string::npos) s += " selector = \"10.99.0.5/32\";";
  return s + extra + " }";
}
std::string cbc(const std::string& spi, const std::string& dir = "out", const std::string& extra = "") {
  return sa(spi, dir, "aes-128-cbc-sha256", kKey16, kKey32, extra);
}

int marker_line(const std::string& text) {
  const auto at = text.find("#<");
  if (at == std::string::npos) return 0;
  int line = 1;
  for (size_t i = 0; i < at; ++i) line += text[i] == '\n';
  return line;
}

std::string dump(const std::vector<ConfigError>& v) {
  std::string s;
  for (const ConfigError& e : v) s += "  " + format_error(e) + "\n";
  return s;
}

struct Bad {
  const char* what;
  std::string text;
  std::string message;  /* a piece of the error at the marked line */
};

class BadConfig : public testing::TestWithParam<Bad> {};

TEST_P(BadConfig, ErrorAtLine) {
  const Bad& b = GetParam();
  const ConfigResult r = parse_config_string(b.text, "t.conf");
  EXPECT_FALSE(r.config.has_value());
  const int want_line = marker_line(b.text);
  bool found = false;
  for (const ConfigError& e : r.errors)
    found = found || (e.line == want_line && e.file == "t.conf" && e.message.find(b.message) != std::string::npos);
  EXPECT_TRUE(found) << "want line " << want_line << " with '" << b.message << "'; got\n"
                     << dump(r.errors) << "in\n" << b.text;
}

const Bad kBad[] = {
    // Syntax (libconfig's parser) and typos.
    {"syntax", kRolesXha + "workers = = 2; #<\n" + kPorts + kXha, "syntax error"},
    {"top_typo", kMinimal + "wokers = 2; #<\n", "unknown setting 'wokers'; did you mean 'workers'?"},
    {"top_unknown", kMinimal + "frobnicate = 2; #<\n", "unknown setting 'frobnicate' at the top level"},
    {"port_typo", kRolesXha + kXha + "ports = ( { name = \"a\"; device = \"net_ring0\"; address = \"192.0.2.1/24\";\n mtuu = 1500; } ); #<\n",
     "ports[0].mtuu: unknown setting 'mtuu'; did you mean 'mtu'?"},
    {"mn_typo", kRolesXha + kPorts + mn("{ home = \"192.0.2.9\"; spi = 256; key = \"" + kKey16 + "\";\n nia = \"x@y\"; } #<"),
     "xha.mobile_nodes[0].nia: unknown setting 'nia'; did you mean 'nai'?"},
    {"sa_typo", vpngw(cbc("300", "out", "\n replay_windw = 64; #<\n")), "did you mean 'replay_window'?"},
    {"drop_internal_in_iha", "roles = [\"iha\"];\n" + kPorts + "iha = { addresses = [\"10.1.0.1\"];\n drop_internal = true; }; #<\n",
     "unknown setting 'drop_internal'"},
    {"trusted_in_xha", kRolesXha + kPorts + "xha = { addresses = [\"192.0.2.1\"];\n trusted_networks = [\"10.0.0.0/8\"]; }; #<\n",
     "unknown setting 'trusted_networks'"},
    // Types and ranges.
    {"workers_string", kMinimal + "workers = \"2\"; #<\n", "workers: expected an integer, got a string"},
    {"workers_range", kMinimal + "workers = 65; #<\n", "workers: 65 is out of range; use 1 to 64"},
    {"workers_zero", kMinimal + "workers = 0; #<\n", "out of range"},
    {"telemetry_int", kMinimal + "telemetry = 1; #<\n", "telemetry: expected a boolean"},
    {"eal_ints", kMinimal + "eal = [1, 2]; #<\n", "eal[0]: expected a string, got an integer"},
    {"eal_group", kMinimal + "eal = { a = 1; }; #<\n", "eal: expected a list of strings"},
    {"ports_group", kRolesXha + kXha + "ports = { name = \"a\"; }; #<\n", "ports: expected a list of groups"},
    {"mtu_small", kRolesXha + kXha + "ports = ( { name = \"a\"; device = \"net_ring0\"; address = \"192.0.2.1/24\";\n mtu = 500; } ); #<\n",
     "ports[0].mtu: 500 is out of range; use 576 to 9000"},
    {"t_monitor_zero", kMinimal + "timers = {\n t_monitor = 0; }; #<\n", "timers.t_monitor: 0 is out of range"},
    {"timers_typo", kMinimal + "timers = {\n t_monitr = 5; }; #<\n", "did you mean 't_monitor'?"},
    {"punt_burst_zero", kMinimal + "punt = {\n burst = 0; }; #<\n", "punt.burst: 0 is out of range"},
    {"punt_rate_negative", kMinimal + "punt = {\n rate_per_source = -1; }; #<\n", "punt.rate_per_source: -1 is out of range"},
    {"punt_typo", kMinimal + "punt = {\n rate_per_sourc = 5; }; #<\n", "did you mean 'rate_per_source'?"},
    // Roles and their sections.
    {"roles_missing", kPorts + kXha, "the setting 'roles' is required"},
    {"role_unknown", kPorts + kXha + "roles = [\"xha\", \"ha\"]; #<\n", "roles[1]: 'ha' is not a role"},
    {"role_twice", kPorts + kXha + "roles = [\"xha\", \"xha\"]; #<\n", "role 'xha' is listed twice"},
    {"roles_empty", kPorts + "roles = []; #<\n", "give at least one role"},
    {"section_missing", kPorts + kXha + "roles = [\"xha\", \"iha\"]; #<\n", "role 'iha' is listed but the iha section is missing"},
    {"section_without_role", kRolesXha + kPorts + kXha + "vpngw = { address = \"192.0.2.2\"; }; #<\n",
     "vpngw: the section is present but 'vpngw' is not in roles"},
    // Ports, neighbours, routes.
    {"no_ports", kRolesXha + kXha, "no ports are configured"},
    {"bad_prefix", kRolesXha + kXha + "ports = ( { name = \"a\"; device = \"net_ring0\";\n address = \"10.0.0.300/24\"; } ); #<\n",
     "ports[0].address: '10.0.0.300/24' is not an IPv4 prefix"},
    {"bare_address", kRolesXha + kXha + "ports = ( { name = \"a\"; device = \"net_ring0\";\n address = \"10.0.0.1\"; } ); #<\n",
     "'10.0.0.1' is not an IPv4 prefix"},
    {"address_network", kRolesXha + kXha + "ports = ( { name = \"a\"; device = \"net_ring0\";\n address = \"192.0.2.0/24\"; } ); #<\n",
     "is the subnet's network or broadcast address"},
    {"address_zero_len", kRolesXha + kXha + "ports = ( { name = \"a\"; device = \"net_ring0\";\n address = \"192.0.2.1/0\"; } ); #<\n",
     "is not a unicast address on a subnet of length 1 to 32"},
    {"address_missing", kRolesXha + kXha + "ports = ( { name = \"a\"; device = \"net_ring0\"; } ); #<\n",
     "ports[0]: the setting 'address' is required"},
    {"bad_mac", kRolesXha + kXha + "ports = ( { name = \"a\"; device = \"net_ring0\"; address = \"192.0.2.1/24\";\n mac = \"02:00:00:00:00\"; } ); #<\n",
     "'02:00:00:00:00' is not a MAC address"},
    {"multicast_mac", kRolesXha + kXha + "ports = ( { name = \"a\"; device = \"net_ring0\"; address = \"192.0.2.1/24\";\n mac = \"01:00:5e:00:00:01\"; } ); #<\n",
     "multicast MAC address"},
    {"bad_device", kRolesXha + kXha + "ports = ( { name = \"a\"; address = \"192.0.2.1/24\";\n device = \"eth0\"; } ); #<\n",
     "'eth0' is neither a PCI address"},
    {"bad_vdev_args", kRolesXha + kXha + "ports = ( { name = \"a\"; address = \"192.0.2.1/24\";\n device = \"net_pcap0,\"; } ); #<\n",
     "has empty arguments"},
    {"dup_port_name", kRolesXha + kXha + "ports = ( { name = \"a\"; device = \"net_ring0\"; address = \"192.0.2.1/24\"; },\n"
                                        "{ name = \"a\"; device = \"net_ring1\"; address = \"10.0.0.1/8\"; } ); #<\n",
     "ports[1].name: port name 'a' is used twice"},
    {"dup_device", kRolesXha + kXha + "ports = ( { name = \"a\"; device = \"net_pcap0,rx_pcap=a\"; address = \"192.0.2.1/24\"; },\n"
                                      "{ name = \"b\"; device = \"net_pcap0,rx_pcap=b\"; address = \"10.0.0.1/8\"; } ); #<\n",
     "device 'net_pcap0' is given to two ports"},
    {"route_off_subnet", kMinimal + "routes = ( { prefix = \"0.0.0.0/0\";\n via = \"172.16.0.1\"; } ); #<\n",
     "routes[0].via: next hop 172.16.0.1 is not on any port's connected subnet"},
    {"route_wrong_port", kMinimal + "routes = ( { prefix = \"0.0.0.0/0\"; port = \"b\";\n via = \"192.0.2.254\"; } ); #<\n",
     "next hop 192.0.2.254 is not on port 'b' (subnet 10.1.0.0/16)"},
    {"route_no_port", kMinimal + "routes = ( { prefix = \"0.0.0.0/0\"; via = \"192.0.2.254\";\n port = \"c\"; } ); #<\n",
     "there is no port named 'c'"},
    {"route_host_bits", kMinimal + "routes = ( { via = \"192.0.2.254\";\n prefix = \"10.0.0.1/8\"; } ); #<\n",
     "'10.0.0.1/8' has host bits set; the prefix is 10.0.0.0/8"},
    {"route_twice", kMinimal + "routes = ( { prefix = \"0.0.0.0/0\"; via = \"192.0.2.254\"; },\n"
                               "{ via = \"10.1.0.2\";\n prefix = \"0.0.0.0/0\"; } ); #<\n",
     "routes[1].prefix: there is already a route to 0.0.0.0/0"},
    {"route_bad_via", kMinimal + "routes = ( { prefix = \"0.0.0.0/0\";\n via = \"192.0.2\"; } ); #<\n",
     "'192.0.2' is not an IPv4 address"},
    {"neighbour_off_subnet", kMinimal + "neighbours = ( { mac = \"02:00:00:00:00:01\"; port = \"a\";\n address = \"10.1.0.9\"; } ); #<\n",
     "10.1.0.9 is not on port 'a' (subnet 192.0.2.0/24)"},
    {"neighbour_twice", kMinimal + "neighbours = ( { address = \"192.0.2.9\"; mac = \"02:00:00:00:00:01\"; port = \"a\"; },\n"
                                   "{ mac = \"02:00:00:00:00:02\"; port = \"a\";\n address = \"192.0.2.9\"; } ); #<\n",
     "192.0.2.9 has two static entries"},
    // Home agents.
    {"xha_no_addresses", kRolesXha + kPorts + "xha = { max_lifetime = 60; }; #<\n", "xha: the setting 'addresses' is required in xha"},
    {"xha_bad_address", kRolesXha + kPorts + "xha = {\n addresses = [\"192.0.2.1\", \"224.0.0.1\"]; }; #<\n",
     "xha.addresses[1]: '224.0.0.1' is not a unicast host address"},
    {"max_simultaneous", kRolesXha + kPorts + "xha = { addresses = [\"192.0.2.1\"];\n max_simultaneous = 5; }; #<\n",
     "xha.max_simultaneous: 5 is out of range; use 1 to 4"},
    {"max_lifetime_zero", kRolesXha + kPorts + "xha = { addresses = [\"192.0.2.1\"];\n max_lifetime = 0; }; #<\n", "out of range"},
    {"udp_policy", kRolesXha + kPorts + "xha = { addresses = [\"192.0.2.1\"];\n udp_tunnel = \"maybe\"; }; #<\n",
     "'maybe' is not a UDP tunnelling policy"},
    {"rt_required", kRolesXha + kPorts + "xha = { addresses = [\"192.0.2.1\"]; reverse_tunnel = false;\n reverse_tunnel_required = true; }; #<\n",
     "reverse tunnelling cannot be required"},
    {"trusted_bad", "roles = [\"iha\"];\n" + kPorts + "iha = { addresses = [\"10.1.0.1\"];\n trusted_networks = [\"10.1.0.0/33\"]; }; #<\n",
     "iha.trusted_networks[0]: '10.1.0.0/33' is not an IPv4 prefix"},
    {"mn_no_id", kRolesXha + kPorts + mn("{ spi = 256; key = \"" + kKey16 + "\"; } #<"),
     "xha.mobile_nodes[0]: a mobile node needs a home address (home) or an NAI (nai)"},
    {"mn_empty_nai", kRolesXha + kPorts + mn("{ spi = 256; key = \"" + kKey16 + "\";\n nai = \"\"; } #<"), "an NAI cannot be empty"},
    {"mn_spi_reserved", kRolesXha + kPorts + mn("{ home = \"192.0.2.9\"; key = \"" + kKey16 + "\";\n spi = 255; } #<"),
     "xha.mobile_nodes[0].spi: 255 is out of range; use 256 to 4294967295"},
    {"mn_spi_wrapped", kRolesXha + kPorts + mn("{ home = \"192.0.2.9\"; key = \"" + kKey16 + "\";\n spi = 4294967295; } #<"),
     "'4294967295' does not fit in 32 bits and libconfig would silently cut it; write 4294967295L"},
    {"max_bindings_cut", kRolesXha + kPorts + "xha = { addresses = [\"192.0.2.1\"];\n max_bindings = 99999999999; }; #<\n",
     "'99999999999' does not fit in 32 bits"},
    {"hex_cut", kRolesXha + kPorts + mn("{ home = \"192.0.2.9\"; key = \"" + kKey16 + "\";\n spi = 0x100000100; } #<"),
     "'0x100000100' does not fit in 32 bits"},
    {"mn_spi_missing", kRolesXha + kPorts + mn("{ home = \"192.0.2.9\"; key = \"" + kKey16 + "\"; } #<"), "the setting 'spi' is required"},
    {"mn_bad_hex", kRolesXha + kPorts + mn("{ home = \"192.0.2.9\"; spi = 256;\n key = \"00112g\"; } #<"), "key: is not a hex string"},
    {"mn_odd_hex", kRolesXha + kPorts + mn("{ home = \"192.0.2.9\"; spi = 256;\n key = \"001\"; } #<"), "is not a hex string"},
    {"mn_key_long", kRolesXha + kPorts + mn("{ home = \"192.0.2.9\"; spi = 256;\n key = \"" + kKey32 + kKey32 + "00\"; } #<"),
     "the key is 65 bytes; HMAC-MD5 keys here are at most 64 bytes"},
    {"mn_key_empty", kRolesXha + kPorts + mn("{ home = \"192.0.2.9\"; spi = 256;\n key = \"\"; } #<"), "the key is empty"},
    {"mn_alg", kRolesXha + kPorts + mn("{ home = \"192.0.2.9\"; spi = 256; key = \"" + kKey16 + "\";\n algorithm = \"hmac-sha1\"; } #<"),
     "'hmac-sha1' is not supported; use \"hmac-md5\""},
    {"mn_replay", kRolesXha + kPorts + mn("{ home = \"192.0.2.9\"; spi = 256; key = \"" + kKey16 + "\";\n replay = \"seq\"; } #<"),
     "'seq' is not a replay protection method"},
    {"mn_dup_home", kRolesXha + kPorts + mn("{ home = \"192.0.2.9\"; spi = 256; key = \"" + kKey16 + "\"; },\n"
                                            "{ spi = 257; key = \"" + kKey16 + "\";\n home = \"192.0.2.9\"; } #<"),
     "home address 192.0.2.9 belongs to two mobile nodes"},
    {"mn_dup_nai", kRolesXha + kPorts + mn("{ nai = \"a@b\"; spi = 256; key = \"" + kKey16 + "\"; },\n"
                                           "{ spi = 257; key = \"" + kKey16 + "\";\n nai = \"a@b\"; } #<"),
     "NAI 'a@b' belongs to two mobile nodes"},
    {"mn_not_group", kRolesXha + kPorts + mn("\"mn1\", 1 #<"), "xha.mobile_nodes[0]: expected a group"},
    // The VPN gateway's SAs.
    {"sa_suite", vpngw(sa("300", "out", "aes-128-ccm", kKey16, "") + " #<"), "'aes-128-ccm' is not a cipher suite; use one of aes-128-gcm"},
    {"sa_direction", vpngw(sa("300", "both", "aes-128-cbc-sha256", kKey16, kKey32) + " #<"), "'both' is not a direction"},
    {"sa_spi_reserved", vpngw(cbc("100", "out") + " #<"), "vpngw.sas[0].spi: 100 is out of range"},
    {"sa_key_len", vpngw(sa("300", "out", "aes-128-cbc-sha256", kKey16 + "00", kKey32) + " #<"),
     "vpngw.sas[0].key: aes-128-cbc-sha256 needs a 16-byte AES key, got 17 bytes"},
    {"sa_auth_len", vpngw(sa("300", "out", "aes-256-cbc-sha1", kKey32, kKey16) + " #<"),
     "vpngw.sas[0].auth_key: aes-256-cbc-sha1 needs a 20-byte integrity key"},
    {"sa_auth_missing", vpngw(sa("300", "out", "aes-128-cbc-sha1", kKey16, "") + " #<"), "the setting 'auth_key' is required"},
    {"sa_gcm_salt", vpngw(sa("300", "out", "aes-128-gcm", kKey16, "") + " #<", " allow_static_gcm = true;"),
     "aes-128-gcm needs a 20-byte cipher key"},
    {"sa_gcm_static", vpngw(sa("300", "out", "aes-128-gcm", kKey16 + "01020304", "") + " #<"),
     "vpngw.sas[0].suite: a static AES-GCM SA repeats its IVs after every restart"},
    {"sa_window", vpngw(cbc("300", "in", "\n replay_window = 32; #<\n")), "32 is out of range; use 0 (no replay check) or 64 to 4096"},
    {"sa_dup_spi", vpngw(cbc("300", "in") + ",\n" + cbc("300", "in") + " #<"), "SPI 300 is used by two inbound SAs"},
    {"sa_same_selector", vpngw(cbc("300") + ",\n" + cbc("301") + " #<"),
     "vpngw.sas[1].selector: another outbound SA already has the selector 10.99.0.5/32"},
    {"sa_selector", vpngw(cbc("300", "out", "\n selector = \"10.99.0.5/24\"; #<\n")), "has host bits set"},
    {"sa_natt_typo", vpngw(cbc("300", "out", "\n natt = { sport = 4500; dprt = 4500; }; #<\n")), "did you mean 'dport'?"},
    {"sa_natt_port", vpngw(cbc("300", "out", "\n natt = { sport = 0; }; #<\n")), "vpngw.sas[0].natt.sport: 0 is out of range"},
    {"sa_src", vpngw(cbc("300", "out", "\n src = \"192.0.2.256\"; #<\n")), "is not an IPv4 address"},
    {"binding_same", kRolesXha + kPorts + "xha = { addresses = [\"192.0.2.1\"];\n bindings = (\n"
                     "{ home = \"192.0.2.9\"; care_of = \"192.0.2.9\"; } #<\n); };\n",
     "a binding needs a home address and a different, non-zero care-of address"},
    {"binding_twice", kRolesXha + kPorts + "xha = { addresses = [\"192.0.2.1\"];\n bindings = (\n"
                      "{ home = \"192.0.2.9\"; care_of = \"198.51.100.7\"; },\n"
                      "{ care_of = \"198.51.100.8\";\n home = \"192.0.2.9\"; } #<\n); };\n",
     "home address 192.0.2.9 is bound twice"},
    {"binding_typo", kRolesXha + kPorts + "xha = { addresses = [\"192.0.2.1\"];\n bindings = (\n"
                     "{ home = \"192.0.2.9\"; careof = \"198.51.100.7\"; } #<\n); };\n",
     "did you mean 'care_of'?"},
    {"binding_encap", kRolesXha + kPorts + "xha = { addresses = [\"192.0.2.1\"];\n bindings = (\n"
                      "{ home = \"192.0.2.9\"; care_of = \"198.51.100.7\";\n encap = \"gre\"; } #<\n); };\n",
     "'gre' is not an encapsulation; use \"ipip\" or \"udp\""},
    {"binding_udp_no_port", kRolesXha + kPorts + "xha = { addresses = [\"192.0.2.1\"];\n bindings = (\n"
                            "{ home = \"192.0.2.9\"; care_of = \"198.51.100.7\"; encap = \"udp\"; } #<\n); };\n",
     "the setting 'port' is required"},
    {"binding_ipip_port", kRolesXha + kPorts + "xha = { addresses = [\"192.0.2.1\"];\n bindings = (\n"
                          "{ home = \"192.0.2.9\"; care_of = \"198.51.100.7\";\n port = 4096; } #<\n); };\n",
     "peer and port belong to encap = \"udp\""},
    {"binding_udp_port0", kRolesXha + kPorts + "xha = { addresses = [\"192.0.2.1\"];\n bindings = (\n"
                          "{ home = \"192.0.2.9\"; care_of = \"198.51.100.7\"; encap = \"udp\";\n port = 0; } #<\n); };\n",
     "xha.bindings[0].port: 0 is out of range"},
};

INSTANTIATE_TEST_SUITE_P(Table, BadConfig, testing::ValuesIn(kBad),
                         [](const testing::TestParamInfo<Bad>& i) { return std::string(i.param.what); });

/* The ike section (the IKE bridge to a host TUN interface, docs/ike.md). */
std::string vpngw_ike(const std::string& ike) { return vpngw(cbc("300")) + ike; }

const Bad kBadIke[] = {
    {"ike_without_vpngw", kMinimal + "ike = { #<\n tap = \"ike0\"; };\n", "add \"vpngw\" to roles"},
    {"ike_typo", vpngw_ike("ike = { tap = \"ike0\";\n mut = 1400; }; #<\n"), "ike.mut: unknown setting 'mut'; did you mean 'mtu'?"},
    {"ike_no_tap", vpngw_ike("ike = { mtu = 1400; }; #<\n"), "the setting 'tap' is required in ike"},
    {"ike_tap_int", vpngw_ike("ike = {\n tap = 5; }; #<\n"), "ike.tap: expected a string"},
    {"ike_tap_empty", vpngw_ike("ike = {\n tap = \"\"; }; #<\n"), "must be 1 to 15 characters"},
    {"ike_tap_long", vpngw_ike("ike = {\n tap = \"abcdefghijklmnop\"; }; #<\n"), "must be 1 to 15 characters"},
    {"ike_tap_chars", vpngw_ike("ike = {\n tap = \"ike0,x=1\"; }; #<\n"), "may hold only letters"},
    {"ike_tap_slash", vpngw_ike("ike = {\n tap = \"a/b\"; }; #<\n"), "may hold only letters"},
    {"ike_tap_dot", vpngw_ike("ike = {\n tap = \"..\"; }; #<\n"), "is not a valid interface name"},
    {"ike_mtu_small", vpngw_ike("ike = { tap = \"ike0\";\n mtu = 500; }; #<\n"), "ike.mtu: 500 is out of range; use 576 to 2030"},
    {"ike_mtu_big", vpngw_ike("ike = { tap = \"ike0\";\n mtu = 9000; }; #<\n"), "use 576 to 2030"},
    {"ike_not_group", vpngw_ike("ike = \"ike0\"; #<\n"), "ike: expected a group"},
    {"ike_tap_is_port",
     "roles = [\"vpngw\"];\nports = ( { name = \"t\"; device = \"net_tap0,iface=ike0\"; address = \"192.0.2.1/24\"; } );\n"
     "vpngw = { address = \"192.0.2.2\"; };\nike = {\n tap = \"ike0\"; }; #<\n",
     "interface 'ike0' is already port 't'"},
};

INSTANTIATE_TEST_SUITE_P(Ike, BadConfig, testing::ValuesIn(kBadIke),
                         [](const testing::TestParamInfo<Bad>& i) { return std::string(i.param.what); });

/* What the good examples and snippets give. */

ConfigResult parse(const std::string& text) { return parse_config_string(text, "t.conf"); }

const Config& ok(const ConfigResult& r) {
  EXPECT_TRUE(r.config.has_value()) << dump(r.errors);
  static const Config kEmpty;
  return r.config ? *r.config : kEmpty;
}

TEST(ConfigGood, DefaultsWhenAbsent) {
  const ConfigResult r = parse(kMinimal);
  const Config& c = ok(r);
  EXPECT_TRUE(r.warnings.empty()) << dump(r.warnings);
  EXPECT_EQ(c.eal, (std::vector<std::string>{"--no-huge", "-m", "512", "--no-pci"}));
  EXPECT_TRUE(c.roles.xha);
  EXPECT_FALSE(c.roles.vpngw);
  EXPECT_FALSE(c.roles.iha);
  EXPECT_EQ(c.workers, 1u);
  ASSERT_EQ(c.ports.size(), 2u);
  EXPECT_EQ(c.ports[0].mtu, 1500);
  EXPECT_FALSE(c.ports[0].internal);
  EXPECT_TRUE(c.ports[1].internal);
  EXPECT_FALSE(c.ports[0].mac.has_value());
  EXPECT_TRUE(c.neighbours.empty());
  EXPECT_TRUE(c.routes.empty());
  ASSERT_TRUE(c.xha.has_value());
  EXPECT_FALSE(c.iha.has_value());
  EXPECT_FALSE(c.vpngw.has_value());
  const HaConfig d;
  EXPECT_EQ(c.xha->ha.role, HaRole::kXha);
  EXPECT_EQ(c.xha->ha.max_lifetime, d.max_lifetime);
  EXPECT_EQ(c.xha->ha.max_bindings, d.max_bindings);
  EXPECT_EQ(c.xha->ha.max_simultaneous, d.max_simultaneous);
  EXPECT_EQ(c.xha->ha.keepalive_s, d.keepalive_s);
  EXPECT_EQ(c.xha->ha.udp_tunnel, HaUdpTunnelPolicy::kEnabled);
  EXPECT_FALSE(c.xha->ha.drop_from_internal);
  EXPECT_TRUE(c.xha->mobile_nodes.empty());
  EXPECT_EQ(c.timers.t_monitor_s, 60u);  /* RFC 5265 4.1 default */
  EXPECT_EQ(c.timers.reg_lifetime_s, 1800u);
  EXPECT_EQ(c.punt.rate_per_source, 100u);
  EXPECT_EQ(c.punt.burst, 50u);
  EXPECT_TRUE(c.telemetry);
}

TEST(ConfigGood, EveryTopLevelValue) {
  const ConfigResult r = parse(
      "eal = [\"-l\", \"0-3\", \"--vdev=net_ring0\"];\n"
      "roles = [\"iha\", \"xha\"];\n"
      "workers = 4;\n"
      "ports = ( { name = \"out\"; device = \"0000:03:00.0\"; address = \"198.51.100.10/24\"; mtu = 9000;\n"
      "            mac = \"02:AA:bb:00:00:01\"; },\n"
      "          { name = \"in\"; device = \"03:00.1\"; address = \"10.1.0.1/16\"; internal = true; } );\n"
      "neighbours = ( { address = \"10.1.0.9\"; mac = \"02:00:00:00:00:09\"; port = \"in\"; } );\n"
      "routes = ( { prefix = \"0.0.0.0/0\"; via = \"198.51.100.1\"; },\n"
      "           { prefix = \"10.99.0.0/16\"; via = \"10.1.0.2\"; port = \"in\"; } );\n" +
      kXha + kIha +
      "timers = { t_monitor = 30; reg_lifetime = 300; };\n"
      "punt = { rate_per_source = 0; burst = 7; };\n"
      "telemetry = false;\n");
  const Config& c = ok(r);
  EXPECT_EQ(c.eal, (std::vector<std::string>{"-l", "0-3", "--vdev=net_ring0"}));
  EXPECT_TRUE(c.roles.xha && c.roles.iha && !c.roles.vpngw);
  EXPECT_EQ(c.workers, 4u);
  ASSERT_EQ(c.ports.size(), 2u);
  EXPECT_EQ(c.ports[0].name, "out");
  EXPECT_EQ(c.ports[0].device, "0000:03:00.0");
  EXPECT_EQ(c.ports[0].address.addr, Ipv4Addr(198, 51, 100, 10));
  EXPECT_EQ(c.ports[0].address.len, 24);
  EXPECT_EQ(c.ports[0].address.subnet().addr, Ipv4Addr(198, 51, 100, 0));
  EXPECT_EQ(c.ports[0].mtu, 9000);
  ASSERT_TRUE(c.ports[0].mac.has_value());
  EXPECT_EQ(*c.ports[0].mac, (MacAddr{{0x02, 0xaa, 0xbb, 0, 0, 1}}));
  EXPECT_EQ(c.ports[1].device, "03:00.1");
  ASSERT_EQ(c.neighbours.size(), 1u);
  EXPECT_EQ(c.neighbours[0].address, Ipv4Addr(10, 1, 0, 9));
  EXPECT_EQ(c.neighbours[0].mac, (MacAddr{{2, 0, 0, 0, 0, 9}}));
  EXPECT_EQ(c.neighbours[0].port, 1u);
  ASSERT_EQ(c.routes.size(), 2u);
  EXPECT_EQ(c.routes[0].prefix.len, 0);
  EXPECT_EQ(c.routes[0].via, Ipv4Addr(198, 51, 100, 1));
  EXPECT_EQ(c.routes[0].port, 0u);  /* deduced from the next hop */
  EXPECT_EQ(c.routes[1].prefix.addr, Ipv4Addr(10, 99, 0, 0));
  EXPECT_EQ(c.routes[1].prefix.len, 16);
  EXPECT_EQ(c.routes[1].port, 1u);
  EXPECT_EQ(c.timers.t_monitor_s, 30u);
  EXPECT_EQ(c.punt.rate_per_source, 0u);  /* policing off */
  EXPECT_EQ(c.punt.burst, 7u);
  EXPECT_EQ(c.timers.reg_lifetime_s, 300u);
  EXPECT_FALSE(c.telemetry);
  ASSERT_TRUE(c.iha.has_value());
  EXPECT_EQ(c.iha->ha.role, HaRole::kIha);
  ASSERT_EQ(c.iha->ha.trusted.size(), 1u);
  EXPECT_EQ(c.iha->ha.trusted[0].addr, Ipv4Addr(10, 1, 0, 0));
  EXPECT_EQ(c.iha->ha.trusted[0].len, 16);
}

TEST(ConfigGood, HomeAgentSection) {
  const ConfigResult r = parse(kRolesXha + kPorts +
      "xha = { addresses = [\"192.0.2.1\", \"192.0.2.3\"]; max_lifetime = 600; max_bindings = 1000;\n"
      "  max_simultaneous = 1; reverse_tunnel = true; reverse_tunnel_required = true; udp_tunnel = \"decline\";\n"
      "  keepalive = 25; timestamp_tolerance = 3; log_rate_per_s = 10; log_burst = 20; drop_internal = true;\n"
      "  mobile_nodes = (\n"
      "    { home = \"192.0.2.50\"; nai = \"mn1@example.org\"; spi = 256; algorithm = \"hmac-md5\";\n"
      "      key = \"0x" + kKey16 + "\"; replay = \"timestamp\"; },\n"
      "    { nai = \"mn2@example.org\"; spi = 0xffffffff; key = \"" + kKey32 + "\"; replay = \"nonce\";\n"
      "      timestamp_tolerance = 10; enabled = false; } ); };\n");
  const Config& c = ok(r);
  ASSERT_TRUE(c.xha.has_value());
  const HaConfig& h = c.xha->ha;
  EXPECT_EQ(h.addresses, (std::vector<Ipv4Addr>{Ipv4Addr(192, 0, 2, 1), Ipv4Addr(192, 0, 2, 3)}));
  EXPECT_EQ(h.max_lifetime, 600);
  EXPECT_EQ(h.max_bindings, 1000u);
  EXPECT_EQ(h.max_simultaneous, 1);
  EXPECT_TRUE(h.reverse_tunnel_required);
  EXPECT_EQ(h.udp_tunnel, HaUdpTunnelPolicy::kDecline);
  EXPECT_EQ(h.keepalive_s, 25);
  EXPECT_EQ(h.log_rate_per_s, 10u);
  EXPECT_EQ(h.log_burst, 20u);
  EXPECT_TRUE(h.drop_from_internal);
  ASSERT_EQ(c.xha->mobile_nodes.size(), 2u);
  const HaMobileNode& a = c.xha->mobile_nodes[0];
  EXPECT_EQ(a.home, Ipv4Addr(192, 0, 2, 50));
  EXPECT_EQ(a.nai, "mn1@example.org");
  EXPECT_EQ(a.sa.spi, 256u);
  EXPECT_EQ(a.sa.key_len, 16);
  EXPECT_EQ(a.sa.key[15], std::byte{0x0f});
  EXPECT_EQ(a.sa.replay, MipReplayMethod::kTimestamps);
  EXPECT_EQ(a.sa.tolerance_s, 3u);  /* the section's */
  EXPECT_TRUE(a.enabled);
  EXPECT_EQ(mip_sa_check(a.sa), MipError::kOk);
  const HaMobileNode& b = c.xha->mobile_nodes[1];
  EXPECT_EQ(b.home.host(), 0u);
  EXPECT_EQ(b.sa.spi, 0xffffffffu);
  EXPECT_EQ(b.sa.key_len, 32);
  EXPECT_EQ(b.sa.replay, MipReplayMethod::kNonces);
  EXPECT_EQ(b.sa.tolerance_s, 10u);
  EXPECT_FALSE(b.enabled);
  /* What the loader accepts, the home agent takes. */
  HomeAgent ha(h);
  /* The largest SPI in decimal needs libconfig's L suffix. */
  EXPECT_TRUE(parse(kRolesXha + kPorts + mn("{ home = \"192.0.2.9\"; spi = 4294967295L; key = \"" + kKey16 + "\"; }"))
                  .config.has_value());
  for (const HaMobileNode& m : c.xha->mobile_nodes) EXPECT_EQ(ha.add_mobile_node(m), MipError::kOk);
}

TEST(ConfigGood, OperatorBindings) {
  const ConfigResult r = parse(kRolesXha + kPorts + "xha = { addresses = [\"192.0.2.1\"];\n"
                               "  bindings = ( { home = \"192.0.2.9\"; care_of = \"198.51.100.7\"; },\n"
                               "    { home = \"192.0.2.10\"; care_of = \"192.168.1.20\"; encap = \"udp\";\n"
                               "      peer = \"203.0.113.7\"; port = 4096; },\n"
                               "    { home = \"192.0.2.11\"; care_of = \"198.51.100.9\"; encap = \"udp\"; port = 434; } ); };\n");
  const Config& c = ok(r);
  ASSERT_TRUE(c.xha.has_value());
  ASSERT_EQ(c.xha->bindings.size(), 3u);
  EXPECT_EQ(c.xha->bindings[0].home, Ipv4Addr(192, 0, 2, 9));
  EXPECT_EQ(c.xha->bindings[0].care_of, Ipv4Addr(198, 51, 100, 7));
  EXPECT_FALSE(c.xha->bindings[0].udp);
  EXPECT_TRUE(c.xha->bindings[1].udp);
  EXPECT_EQ(c.xha->bindings[1].peer, Ipv4Addr(203, 0, 113, 7));
  EXPECT_EQ(c.xha->bindings[1].port, 4096);
  EXPECT_TRUE(c.xha->bindings[2].udp);
  EXPECT_EQ(c.xha->bindings[2].peer, Ipv4Addr(198, 51, 100, 9));  /* no NAT: the care-of address */
  EXPECT_EQ(c.xha->bindings[2].port, 434);
}

TEST(ConfigGood, VpnGatewaySas) {
  const std::string gcm_key = kKey16 + "a0a1a2a3";
  const ConfigResult r = parse(vpngw(
      cbc("0x1001", "in", " esn = true; replay_window = 1024;") + ",\n" +
      cbc("0x1001", "out", " natt = { };") + ",\n" +
      sa("300", "out", "aes-128-gcm", gcm_key, "", " natt = { sport = 40000; }; selector = \"10.99.0.6/32\";") + ",\n" +
      sa("301", "in", "null-sha1", "", kKey16 + "00010203", " replay_window = 0; selector = \"10.99.0.0/16\";"),
      " allow_static_gcm = true;"));
  const Config& c = ok(r);
  ASSERT_TRUE(c.vpngw.has_value());
  EXPECT_EQ(c.vpngw->address, Ipv4Addr(192, 0, 2, 2));
  EXPECT_TRUE(c.vpngw->allow_static_gcm);
  ASSERT_EQ(c.vpngw->sas.size(), 4u);
  const EspSaSpec& in = c.vpngw->sas[0];
  EXPECT_EQ(in.spi, 0x1001u);
  EXPECT_EQ(in.dir, EspDir::kInbound);
  EXPECT_EQ(in.suite, esp_suite_by_name("aes-128-cbc-sha256"));
  EXPECT_EQ(in.cipher_key.size(), 16u);
  EXPECT_EQ(in.auth_key.size(), 32u);
  EXPECT_EQ(in.src, Ipv4Addr(203, 0, 113, 9));
  EXPECT_EQ(in.dst, Ipv4Addr(192, 0, 2, 2));
  EXPECT_TRUE(in.esn);
  EXPECT_EQ(in.replay_window, 1024u);
  EXPECT_EQ(in.natt_sport, 0);
  EXPECT_EQ(in.selector.addr, Ipv4Addr(10, 99, 0, 5));
  EXPECT_EQ(in.selector.len, 32);
  /* Same SPI in the other direction is fine; natt = { } means 4500 both ways (RFC 3948). */
  EXPECT_EQ(c.vpngw->sas[1].dir, EspDir::kOutbound);
  EXPECT_EQ(c.vpngw->sas[1].natt_sport, 4500);
  EXPECT_EQ(c.vpngw->sas[1].natt_dport, 4500);
  const EspSaSpec& g = c.vpngw->sas[2];
  EXPECT_EQ(g.cipher_key.size(), 20u);  /* key || salt */
  EXPECT_EQ(g.cipher_key[16], 0xa0);
  EXPECT_EQ(g.natt_sport, 40000);
  EXPECT_EQ(g.natt_dport, 4500);
  EXPECT_EQ(c.vpngw->sas[3].replay_window, 0u);
  EXPECT_EQ(c.vpngw->sas[3].selector.len, 16);
  /* The static GCM SA is allowed, with a warning that says why it is risky. */
  ASSERT_EQ(r.warnings.size(), 1u) << dump(r.warnings);
  EXPECT_NE(r.warnings[0].message.find("repeats its IVs"), std::string::npos);
  /* Every SA builds. */
  for (const EspSaSpec& s : c.vpngw->sas) {
    std::string err;
    EXPECT_NE(EspSa::create(s.esp_config(), &err), nullptr) << err;
  }
}

TEST(ConfigGood, Warnings) {
  /* A short MIP key (RFC 5944 3.5.1 asks for 128 bits) and an i-HA that trusts nothing. */
  const ConfigResult r = parse("roles = [\"xha\", \"iha\"];\n" + kPorts +
                               mn("{ home = \"192.0.2.9\"; spi = 256;\n key = \"0001020304050607\"; }") +
                               "iha = {\n addresses = [\"10.1.0.1\"]; };\n");
  ok(r);
  ASSERT_EQ(r.warnings.size(), 2u) << dump(r.warnings);
  EXPECT_EQ(r.warnings[0].line, 7);
  EXPECT_NE(r.warnings[0].message.find("the key is 8 bytes"), std::string::npos);
  EXPECT_EQ(r.warnings[1].line, 9);
  EXPECT_NE(r.warnings[1].message.find("no trusted_networks"), std::string::npos);
}

TEST(ConfigGood, MoreWarnings) {
  /* Overlapping port subnets; an SA whose local end is not the gateway's address. */
  const ConfigResult r = parse("roles = [\"vpngw\"];\n"
                               "ports = ( { name = \"a\"; device = \"net_ring0\"; address = \"10.0.0.1/8\"; },\n"
                               "          { name = \"b\"; device = \"net_ring1\"; address = \"10.1.0.1/16\"; } );\n"
                               "vpngw = { address = \"10.0.0.2\"; sas = (\n" +
                               cbc("300", "in", " dst = \"10.0.0.3\";") + " ); };\n");
  ok(r);
  ASSERT_EQ(r.warnings.size(), 2u) << dump(r.warnings);
  EXPECT_EQ(r.warnings[0].line, 3);
  EXPECT_NE(r.warnings[0].message.find("ports[1].address: subnet 10.1.0.0/16 overlaps port 'a' (10.0.0.0/8)"),
            std::string::npos);
  EXPECT_EQ(r.warnings[1].line, 5);
  EXPECT_NE(r.warnings[1].message.find("our tunnel endpoint 10.0.0.3 is not vpngw.address 10.0.0.2"),
            std::string::npos);
}

TEST(ConfigErrors, AllAreCollected) {
  const ConfigResult r = parse("roles = [\"xha\", \"vpngw\"];\n"
                               "workers = 100;\n"
                               "ports = ( { name = \"a\"; device = \"net_ring0\"; address = \"192.0.2.1/40\"; } );\n"
                               "xha = { addresses = [\"192.0.2.1\"]; max_lifetim = 5; };\n"
                               "telemetry = \"yes\";\n");
  EXPECT_FALSE(r.config.has_value());
  ASSERT_EQ(r.errors.size(), 5u) << dump(r.errors);
  std::vector<int> lines;
  for (const ConfigError& e : r.errors) lines.push_back(e.line);
  EXPECT_EQ(lines, (std::vector<int>{2, 3, 4, 1, 5}));
}

TEST(ConfigErrors, NulByte) {
  std::string t = kRolesXha + "wor";
  t.push_back('\0');
  t += "kers = 1;\n";
  const ConfigResult r = parse(t + kMinimal);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 2);
  EXPECT_NE(r.errors[0].message.find("NUL byte"), std::string::npos);
}

TEST(ConfigErrors, UnreadableRolesStillChecksSections) {
  /* roles is not a list: that one error, and the section's own, but no
   * "section present without its role". */
  const ConfigResult r = parse(kPorts + "roles = \"xha\";\nxha = { addresses = [\"192.0.2.1\"]; max_lifetime = 0; };\n");
  ASSERT_EQ(r.errors.size(), 2u) << dump(r.errors);
  EXPECT_NE(r.errors[0].message.find("roles: expected a list of strings"), std::string::npos);
  EXPECT_NE(r.errors[1].message.find("xha.max_lifetime: 0 is out of range"), std::string::npos);
}

TEST(ConfigErrors, FormatIsGccStyle) {
  EXPECT_EQ(format_error({"a.conf", 12, "workers: 65 is out of range; use 1 to 64"}),
            "a.conf:12: workers: 65 is out of range; use 1 to 64");
  EXPECT_EQ(format_error({"a.conf", 0, "cannot open the file: No such file or directory"}),
            "a.conf: cannot open the file: No such file or directory");
}

TEST(ConfigErrors, NoExceptionOnGarbage) {
  for (const std::string& t : {std::string(""), std::string("\0\1\2", 3), std::string("{{{{"), std::string("a = (((;"),
                              std::string("roles = \"xha\";"), std::string("ports = 5; roles = 7; xha = 1;"),
                              std::string(100000, '(')}) {
    const ConfigResult r = parse(t);
    EXPECT_FALSE(r.config.has_value());
    EXPECT_FALSE(r.errors.empty());
  }
}

/* Files: a missing one, errors in an included file name that file. */
class ConfigFiles : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TempDir() + "mipvpn_config_test";
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    const std::string p = dir_ + "/" + name;
    std::ofstream(p) << text;
    return p;
  }
  std::string dir_;
};

TEST_F(ConfigFiles, Missing) {
  const ConfigResult r = load_config_file(dir_ + "/nope.conf");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 0);
  EXPECT_EQ(r.errors[0].file, dir_ + "/nope.conf");
  EXPECT_NE(r.errors[0].message.find("cannot open the file"), std::string::npos);
}

TEST_F(ConfigFiles, SyntaxErrorNamesFileAndLine) {
  const std::string p = write("bad.conf", kRolesXha + "\n\nworkers = ;\n");
  const ConfigResult r = load_config_file(p);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(format_error(r.errors[0]).substr(0, p.size() + 3), p + ":4:");
}

TEST_F(ConfigFiles, CutLiteralInAFile) {
  const std::string p = write("wide.conf", kMinimal + "\nworkers = 4294967297;\n");
  const ConfigResult r = load_config_file(p);
  ASSERT_FALSE(r.errors.empty());
  EXPECT_EQ(format_error(r.errors[0]),
            p + ":6: '4294967297' does not fit in 32 bits and libconfig would silently cut it; write 4294967297L");
}

TEST_F(ConfigFiles, IncludeRelativeToTheFile) {
  write("ports.conf", "ports = ( { name = \"a\"; device = \"net_ring0\";\n address = \"192.0.2.1/33\"; } );\n");
  const std::string p = write("main.conf", kRolesXha + "@include \"ports.conf\"\n" + kXha);
  const ConfigResult r = load_config_file(p);
  ASSERT_EQ(r.errors.size(), 1u) << dump(r.errors);
  EXPECT_EQ(r.errors[0].file, dir_ + "/ports.conf");
  EXPECT_EQ(r.errors[0].line, 2);
}

/* The examples in docs/examples/ are part of the product: they must load. */
class ConfigExample : public testing::TestWithParam<const char*> {};

TEST_P(ConfigExample, Loads) {
  const ConfigResult r = load_config_file(std::string(MIPVPN_EXAMPLES_DIR) + "/" + GetParam());
  EXPECT_TRUE(r.config.has_value()) << dump(r.errors);
  EXPECT_TRUE(r.warnings.empty()) << dump(r.warnings);
}

INSTANTIATE_TEST_SUITE_P(Docs, ConfigExample, testing::Values("xha.conf", "iha.conf", "combined.conf"),
                         [](const testing::TestParamInfo<const char*>& i) {
                           const std::string n = i.param;
                           return n.substr(0, n.find('.'));
                         });

TEST(ConfigExamples, RolesAsDocumented) {
  const ConfigResult x = load_config_file(std::string(MIPVPN_EXAMPLES_DIR) + "/xha.conf");
  const ConfigResult i = load_config_file(std::string(MIPVPN_EXAMPLES_DIR) + "/iha.conf");
  const ConfigResult c = load_config_file(std::string(MIPVPN_EXAMPLES_DIR) + "/combined.conf");
  ASSERT_TRUE(x.config && i.config && c.config);
  EXPECT_TRUE(x.config->xha && !x.config->iha && !x.config->vpngw);
  EXPECT_TRUE(x.config->xha->ha.drop_from_internal);
  EXPECT_TRUE(i.config->iha && !i.config->xha && !i.config->vpngw);
  EXPECT_FALSE(i.config->iha->ha.trusted.empty());
  EXPECT_TRUE(c.config->xha && c.config->iha && c.config->vpngw);
  EXPECT_EQ(c.config->eal, (std::vector<std::string>{"--no-huge", "-m", "512", "--no-pci"}));
  /* What the examples configure, the home agents and the ESP engine take. */
  for (const ConfigResult* r : {&x, &i, &c}) {
    for (const auto* sec : {&r->config->xha, &r->config->iha}) {
      if (!sec->has_value()) continue;
      HomeAgent ha((*sec)->ha);
      for (const HaMobileNode& m : (*sec)->mobile_nodes) EXPECT_EQ(ha.add_mobile_node(m), MipError::kOk);
    }
    if (r->config->vpngw) {
      for (const EspSaSpec& s : r->config->vpngw->sas) {
        std::string err;
        EXPECT_NE(EspSa::create(s.esp_config(), &err), nullptr) << err;
      }
    }
  }
}

/* The value parsers on their own. */
TEST(ConfigValues, Parsers) {
  using namespace mipvpn::cfg;
  EXPECT_EQ(parse_hex("0x0aFf"), (std::vector<uint8_t>{0x0a, 0xff}));
  EXPECT_EQ(parse_hex(""), std::vector<uint8_t>{});
  EXPECT_FALSE(parse_hex("abc"));
  EXPECT_FALSE(parse_hex("0xzz"));
  EXPECT_FALSE(parse_mac("02:00:00:00:00:0"));
  EXPECT_FALSE(parse_mac("02-00-00-00-00-01"));
  EXPECT_TRUE(parse_ifaddr("10.0.0.1/0"));
  EXPECT_FALSE(parse_ifaddr("10.0.0.1/"));
  EXPECT_FALSE(parse_ifaddr("10.0.0.1/+1"));
  std::string why;
  for (const char* d : {"0000:03:00.0", "af:00.7", "net_ring0", "net_pcap0,rx_pcap=a.pcap,tx_pcap=b.pcap",
                        "net_af_packet0,iface=veth0", "eth_tap0"})
    EXPECT_TRUE(check_device(d, &why)) << d;
  for (const char* d : {"", "0000:03:00.8", "03:00", "net_", "net_ring0 ", "net-ring0", "eth0", "net_pcap0,a b"})
    EXPECT_FALSE(check_device(d, &why)) << d;
  EXPECT_EQ(device_name("net_pcap0,rx_pcap=a"), "net_pcap0");
  const auto w = find_wide_int_literals("a = 2147483647; b = -2147483648; c = 0xffffffff; d = 4294967296L;\n"
                                        "e = 1e99; f = 3.5; g = \"99999999999\"; # 99999999999\n"
                                        "/* 99999999999\n */ h1 = 2147483648; i = -2147483649; j = 0x100000000;\n"
                                        "k = 184467440737095516150;");
  ASSERT_EQ(w.size(), 4u);
  EXPECT_EQ(w[0].line, 4);
  EXPECT_EQ(w[0].text, "2147483648");
  EXPECT_EQ(w[1].text, "-2147483649");
  EXPECT_EQ(w[2].text, "0x100000000");
  EXPECT_EQ(w[3].line, 5);
  EXPECT_EQ(closest_name("mtuu", {"name", "mtu", "mac"}), "mtu");
  EXPECT_EQ(closest_name("zzzzzz", {"name", "mtu"}), "");
}

}  // namespace

TEST(ConfigIke, AbsentByDefault) {
  const ConfigResult r = parse(vpngw(cbc("300")));
  EXPECT_FALSE(ok(r).ike.has_value());
}

TEST(ConfigIke, Values) {
  const ConfigResult r = parse(vpngw_ike("ike = { tap = \"mipvpn-ike\"; };\n"));
  const Config& c = ok(r);
  EXPECT_TRUE(r.warnings.empty()) << dump(r.warnings);
  ASSERT_TRUE(c.ike.has_value());
  EXPECT_EQ(c.ike->tap, "mipvpn-ike");
  EXPECT_EQ(c.ike->mtu, 1500);
  const ConfigResult rd = parse(vpngw_ike("ike = { tap = \"ike.0_A\"; mtu = 1400; };\n"));
  const Config& d = ok(rd);
  ASSERT_TRUE(d.ike.has_value());
  EXPECT_EQ(d.ike->tap, "ike.0_A");
  EXPECT_EQ(d.ike->mtu, 1400);
  /* A different TAP port does not collide. */
  const ConfigResult re = parse("roles = [\"vpngw\"];\n"
                             "ports = ( { name = \"t\"; device = \"net_tap0,iface=dtap0\"; address = \"192.0.2.1/24\"; } );\n"
                             "vpngw = { address = \"192.0.2.2\"; };\nike = { tap = \"ike0\"; };\n");
  EXPECT_TRUE(ok(re).ike.has_value());
}

TEST(ConfigIke, CombinedExampleBridgesIke) {
  const ConfigResult c = load_config_file(std::string(MIPVPN_EXAMPLES_DIR) + "/combined.conf");
  ASSERT_TRUE(c.config.has_value()) << dump(c.errors);
  ASSERT_TRUE(c.config->ike.has_value());
  EXPECT_EQ(c.config->ike->tap, "mipvpn-ike");
}
