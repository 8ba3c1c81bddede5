/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The configuration loader on hostile text: nothing escapes (an
 * exception would abort here), a config comes back iff there is no
 * error, and every error says something. Half the inputs are raw text;
 * the other half splice fuzzed bytes into a valid configuration with all
 * three roles, so the checks past the parser are reached too.
 */
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdlib>
#include <string>

#include "config/config.h"

namespace {

const char kValid[] =
    "roles = [\"xha\", \"vpngw\", \"iha\"];\n"
    "workers = 2;\n"
    "ports = ( { name = \"o\"; device = \"net_ring0\"; address = \"198.51.100.10/24\"; mac = \"02:00:00:00:00:01\"; },\n"
    "          { name = \"i\"; device = \"net_pcap0,rx_pcap=a\"; address = \"10.1.0.1/16\"; internal = true; } );\n"
    "neighbours = ( { address = \"10.1.0.9\"; mac = \"02:00:00:00:00:09\"; port = \"i\"; } );\n"
    "routes = ( { prefix = \"0.0.0.0/0\"; via = \"198.51.100.1\"; } );\n"
    "xha = { addresses = [\"198.51.100.10\"]; drop_internal = true; udp_tunnel = \"decline\";\n"
    "  mobile_nodes = ( { home = \"198.51.100.50\"; nai = \"a@b\"; spi = 300; key = \"000102030405060708090a0b0c0d0e0f\"; } ); };\n"
    "vpngw = { address = \"198.51.100.11\"; allow_static_gcm = true; sas = (\n"
    "  { spi = 0x1001; direction = \"in\"; suite = \"aes-128-cbc-sha256\"; key = \"000102030405060708090a0b0c0d0e0f\";\n"
    "    auth_key = \"000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f\";\n"
    "    src = \"198.51.100.50\"; dst = \"198.51.100.11\"; esn = true; replay_window = 1024; selector = \"10.99.0.5/32\"; },\n"
    "  { spi = 0x2001; direction = \"out\"; suite = \"aes-128-gcm\"; key = \"000102030405060708090a0b0c0d0e0f01020304\";\n"
    "    src = \"198.51.100.11\"; dst = \"198.51.100.50\"; natt = { }; selector = \"10.99.0.5/32\"; } ); };\n"
    "iha = { addresses = [\"10.1.0.1\"]; trusted_networks = [\"10.1.0.0/16\"];\n"
    "  mobile_nodes = ( { home = \"10.10.0.5\"; spi = 256; key = \"000102030405060708090a0b0c0d0e0f\"; replay = \"nonce\"; } ); };\n"
    "timers = { t_monitor = 60; reg_lifetime = 600; };\n"
    "telemetry = false;\n";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider fdp(data, size);
  std::string text;
  if (fdp.ConsumeBool()) {
    text = fdp.ConsumeRemainingBytesAsString();
  } else {
    text = kValid;
    const size_t at = fdp.ConsumeIntegralInRange<size_t>(0, text.size());
    const size_t cut = fdp.ConsumeIntegralInRange<size_t>(0, 16);
    text.replace(at, std::min(cut, text.size() - at), fdp.ConsumeRemainingBytesAsString());
  }
  const mipvpn::ConfigResult r = mipvpn::parse_config_string(text, "f.conf");
  if (r.config.has_value() != r.errors.empty()) std::abort();
  for (const auto& e : r.errors)
    if (e.message.empty() || e.line < 0 || mipvpn::format_error(e).empty()) std::abort();
  return 0;
}
