/* SPDX-License-Identifier: BSD-3-Clause */
/* One function per part of the configuration; each reports into r. */
#pragma once

#include "config/config.h"
#include "config/reader.h"

namespace mipvpn::cfg {

/* ports, neighbours, routes (network.cc). */
void read_network(Reader& r, const Setting& root, Config* c);
/* The xha or iha section (ha_section.cc). */
HaSectionConfig read_ha_section(Reader& r, const Setting& s, HaRole role, const Config& c);
/* The vpngw section (vpngw_section.cc). */
VpngwConfig read_vpngw_section(Reader& r, const Setting& s, const Config& c);
/* The ike section (ike_section.cc); c.roles and c.ports already read. */
IkeConfig read_ike_section(Reader& r, const Setting& s, const Config& c, bool roles_known);

/* The port whose subnet holds a, or -1. */
int port_on_subnet(const Config& c, Ipv4Addr a);

}  // namespace mipvpn::cfg
