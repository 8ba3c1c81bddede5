#!/usr/bin/env python3
"""An i-HA with an operator binding in RFC 3519 UDP tunnelling (configured,
no registration): bindings = ( { home; care_of; encap = "udp"; peer; port; } ).

Inside port (pcap file): the correspondent's datagrams to the home address.
VPN port (pcap file): the mobile node's reverse tunnel, UDP 434 tunnel data
from the NAT's public address and port (RFC 3519 3.3), one from another
port (counted, not forwarded).
Expected: towards the VPN, IP(i-HA -> peer) / UDP(434 -> port) / MIP
tunnel header (type 4, next header 4) / the datagram with TTL - 1, checked
with scapy and tshark; inside, the reverse-tunnelled datagrams with TTL - 1.

usage: golden_operator_udp.py MIPVPND
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mipvpnd_util  # noqa: E402
from mipvpnd_util import check, minus_ttl, pcap_port, run_daemon, user_datagram  # noqa: E402,E501
from scapy.all import IP, UDP, Ether, Raw, rdpcap, wrpcap  # noqa: E402
from scapy.layers.mobileip import MobileIP, MobileIPTunnelData  # noqa: E402

IHA, CN, HOA, COA, NAT, NPORT = "10.1.0.2", "10.1.5.9", "10.10.0.7", "192.168.1.20", "10.99.0.40", 4096
GWIN = "10.2.0.1"
VPN_MAC, IN_MAC, GW_MAC, CN_MAC = "02:00:00:00:00:03", "02:00:00:00:00:02", "02:00:00:00:03:01", "02:00:00:00:05:09"
TSHARK = shutil.which("tshark")


def user(src, dst, i, ttl=30):
    return user_datagram(src, dst, i, ttl, b"op udp", 700)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    if not TSHARK:
        sys.exit("FAIL tshark is not installed")
    d = tempfile.mkdtemp(prefix="mipvpn-opudp-")
    prefix = "mipvpn-opudp-%d" % os.getpid()
    try:
        down = [user(CN, HOA, i) for i in range(3)]
        wrpcap(d + "/inside_in.pcap", [Ether(src=CN_MAC, dst=IN_MAC) / p for p in down])
        up = [user(HOA, CN, 10 + i) for i in range(2)]
        tun = [Ether(src=GW_MAC, dst=VPN_MAC) / IP(src=NAT, dst=IHA) / UDP(sport=NPORT, dport=434) /
               MobileIP(type=4) / MobileIPTunnelData(nexthdr=4) / u for u in up]
        wrong_port = (Ether(src=GW_MAC, dst=VPN_MAC) / IP(src=NAT, dst=IHA) / UDP(sport=NPORT + 1, dport=434) /
                      MobileIP(type=4) / MobileIPTunnelData(nexthdr=4) / user(HOA, CN, 20))
        wrpcap(d + "/vpn_in.pcap", tun + [wrong_port])
        conf = d + "/m.conf"
        with open(conf, "w") as f:
            f.write("\n".join([
                'eal = ["--no-huge", "-m", "256", "--no-pci", "--file-prefix=%s"];' % prefix,
                'roles = ["iha"];',
                "workers = 1;",
                "ports = ( %s, %s );" % (pcap_port(d, "vpn", 0, "10.2.0.2/24", VPN_MAC, True),
                                         pcap_port(d, "inside", 1, "10.1.0.1/16", IN_MAC, True)),
                'neighbours = ( { address = "%s"; mac = "%s"; port = "vpn"; },'
                ' { address = "%s"; mac = "%s"; port = "inside"; } );' % (GWIN, GW_MAC, CN, CN_MAC),
                'routes = ( { prefix = "10.99.0.0/16"; via = "%s"; } );' % GWIN,
                'iha = { addresses = ["%s"]; trusted_networks = ["10.99.0.0/16"];' % IHA,
                '  bindings = ( { home = "%s"; care_of = "%s"; encap = "udp"; peer = "%s"; port = %d; } ); };' % (
                    HOA, COA, NAT, NPORT),
            ]) + "\n")
        out = run_daemon(sys.argv[1], conf)

        got = rdpcap(d + "/vpn_w0.pcap")
        check("vpn count", len(got) == len(down), [p.summary() for p in got])
        for i, p in enumerate(got):
            o = p[IP]
            check("eth %d" % i, p[Ether].dst == GW_MAC and p[Ether].src == VPN_MAC, p.summary())
            check("outer %d" % i, o.src == IHA and o.dst == NAT and o.proto == 17 and
                  p[UDP].sport == 434 and p[UDP].dport == NPORT, o.summary())
            check("udp length %d" % i, p[UDP].len == len(bytes(p[UDP])), p.summary())
            check("mip tunnel header %d" % i, MobileIP in p and p[MobileIP].type == 4 and
                  p[MobileIPTunnelData].nexthdr == 4, p.show(dump=True))
            check("inner %d" % i, bytes(p[MobileIPTunnelData].payload) == minus_ttl(down[i]), p.show(dump=True))
        t = subprocess.run([TSHARK, "-r", d + "/vpn_w0.pcap", "-T", "fields", "-e", "ip.src", "-e", "ip.dst",
                            "-e", "udp.dstport", "-e", "ip.checksum.status", "-e", "_ws.malformed"],
                           capture_output=True, text=True)
        rows = [x.split("\t") for x in t.stdout.strip().splitlines()]
        check("tshark", t.returncode == 0 and len(rows) == len(down) and
              all(r[0] == IHA + "," + CN and r[1] == NAT + "," + HOA and r[2].split(",")[0] == str(NPORT) and (len(r) < 5 or not r[4]) for r in rows),
              t.stdout + t.stderr)

        got = rdpcap(d + "/inside_w0.pcap")
        check("inside count", len(got) == len(up), [p.summary() for p in got])
        for i, p in enumerate(got):
            check("reverse %d" % i, bytes(p[IP]) == minus_ttl(up[i]), p.show(dump=True))
        for what in ["iha: bindings 1", "stage imip_encap 3", "stage imip_decap 2", "drop coa_mismatch 1"]:
            check("summary: " + what, what in out, out[-3000:])
        print("golden operator udp: %d checks passed" % mipvpnd_util.checked)
    finally:
        shutil.rmtree(d, ignore_errors=True)
        shutil.rmtree("/var/run/dpdk/" + prefix, ignore_errors=True)


if __name__ == "__main__":
    main()
