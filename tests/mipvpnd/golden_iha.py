"""The internal home agent alone (mipvpnd with roles = ["iha"]): an
enterprise i-HA behind an external VPN gateway (RFC 5265 section 4.3); both
its ports are internal. net_pcap ports read veths in a network namespace
(mipvpnd_util.LiveNet), so that each registration is answered before the
traffic that needs its binding; what the daemon sends is in pcap files.

  port vpn (towards the VPN gateway's inside, 10.2.0.1):
    RRQ from VPN-TIA 1 (co-located care-of address, T bit): accepted, the
        reply carries TNC (149) before the MN-HA authenticator
    IP(TIA1 -> i-HA) / IP(i-HoA1 -> CN) / UDP           -> inside: IP(i-HoA1 -> CN), TTL - 1
    RRQ from VPN-TIA 2 port 1434 with a UDP Tunnel Request (144, F): accepted with
        a UDP Tunnel Reply (44) and TNC; the binding is RFC 3519 UDP
    IP(TIA2 -> i-HA) / UDP(1434 -> 434) / MIP tunnel data / IP(i-HoA2 -> CN) -> inside, TTL - 1
  port inside (the intranet):
    RRQ from 10.1.0.66 (outside the trusted networks): dropped silently, counted
    IP(CN -> i-HoA1)  -> vpn: IP(i-HA -> TIA1) / IP(CN -> i-HoA1)           (RFC 2003)
    IP(CN -> i-HoA2)  -> vpn: IP(i-HA -> TIA2) / UDP(434 -> 1434) / MIP / IP (RFC 3519)
  refused at decapsulation, counted: IP-in-IP from TIA2 (its binding is UDP), UDP from
  another port of TIA2 (coa_mismatch), an inner source with no binding (no_binding);
  then MN1 deregisters (lifetime 0): answered with TNC, and the next IP(CN -> i-HoA1)
  is no longer tunnelled (no route: counted).

Checked field by field with scapy and with tshark (-V -O mip for the replies).

usage: golden_iha.py MIPVPND
"""
import hashlib
import hmac
import os
import re
import shutil
import subprocess
import sys

import mipvpnd_util  # noqa: E402
from mipvpnd_util import LiveDaemon, check, good_checksum, minus_ttl, mip_exts, ntp_now, signed_rrq_ext, udp_tunnel_req, user_datagram, live_net_dir  # noqa: E402,E501
from scapy.all import Ether, IP, UDP, Raw, rdpcap, wrpcap  # noqa: E402
from scapy.layers.mobileip import MobileIP, MobileIPTunnelData  # noqa: E402

MIPVPND = sys.argv[1]
TSHARK = shutil.which("tshark")
if TSHARK is None:
    sys.exit("tshark not found: this test needs it (Debian package tshark)")

VPN_MAC, IN_MAC = "02:00:00:00:00:03", "02:00:00:00:00:02"
GWIN_MAC, CN_MAC, HOST_MAC = "02:00:00:00:03:01", "02:00:00:00:02:14", "02:00:00:00:02:42"
GWIN, IHA, CN, HOST = "10.2.0.1", "10.1.0.2", "10.1.0.20", "10.1.0.66"
TIA1, IHOA1, TIA2, IHOA2, TPORT = "10.99.0.5", "10.10.0.5", "10.99.0.6", "10.10.0.6", 1434
MN1 = (256, bytes.fromhex("25191ae63fa7027f453ef34924953506"), b"mn1@example.org")
MN2 = (257, bytes.fromhex("0f1e2d3c4b5a69788796a5b4c3d2e1f0"), b"mn2@example.org")
PREFIX = "mipvpn-iha-%d" % os.getpid()


def config(net, d):
    mn = '{ home = "%s"; nai = "%s"; spi = %d; key = "%s"; }'
    return "\n".join([
        'eal = ["--no-huge", "-m", "256", "--no-pci", "--file-prefix=%s"];' % PREFIX,
        'roles = ["iha"];',
        "workers = 1;",
        "ports = ( %s, %s );" % (net.port(d, "vpn", 0, "10.2.0.2/24", VPN_MAC, True),
                                 net.port(d, "inside", 1, "10.1.0.1/16", IN_MAC, True)),
        'neighbours = ( { address = "%s"; mac = "%s"; port = "vpn"; },'
        ' { address = "%s"; mac = "%s"; port = "inside"; },'
        ' { address = "%s"; mac = "%s"; port = "inside"; } );' % (GWIN, GWIN_MAC, CN, CN_MAC, HOST, HOST_MAC),
        # The VPN inner address pool is behind the VPN gateway's inside address.
        'routes = ( { prefix = "10.99.0.0/16"; via = "%s"; } );' % GWIN,
        'iha = { addresses = ["%s"]; trusted_networks = ["10.99.0.0/16"];'
        ' mobile_nodes = ( %s, %s ); };' % (
            IHA, mn % (IHOA1, MN1[2].decode(), MN1[0], MN1[1].hex()),
            mn % (IHOA2, MN2[2].decode(), MN2[0], MN2[1].hex())),
    ]) + "\n"


def rrq(src, sport, home, coa, mn, flags, exts=b"", lifetime=600, ident=None):
    spi, key, nai = mn
    body = signed_rrq_ext(home, IHA, coa, ident or ntp_now(), spi, key, flags=flags, exts=exts, nai=nai,
                          lifetime=lifetime)
    return Ether(src=GWIN_MAC, dst=VPN_MAC) / IP(src=src, dst=IHA) / UDP(sport=sport, dport=434) / Raw(body)


def user(src, dst, i, ttl=20):
    return user_datagram(src, dst, i, ttl, b"user", 300)


def check_reply(name, p, dst, dport, home, want_44):
    check(name + " addresses", p[IP].src == IHA and p[IP].dst == dst and p[UDP].sport == 434 and
          p[UDP].dport == dport and p[Ether].dst == GWIN_MAC and p[Ether].src == VPN_MAC, p.summary())
    body = bytes(p[UDP].payload)
    check(name + " code 0", body[0] == 3 and body[1] == 0, body[:4].hex())
    check(name + " home", bytes(body[4:8]) == bytes(map(int, home.split("."))), body[4:8].hex())
    kinds = [t for t, _ in mip_exts(body, 20)]
    check(name + " TNC before MN-HA auth", 149 in kinds and 32 in kinds and kinds.index(149) < kinds.index(32) and
          kinds[-1] == 32, kinds)
    # RFC 5944 3.5.1: the authenticator covers the reply up to its SPI, TNC included.
    spi, key, _ = MN1 if home == IHOA1 else MN2
    at = len(body) - 22
    check(name + " MN-HA authenticator", body[at:at + 6] == bytes([32, 20]) + spi.to_bytes(4, "big") and
          body[at + 6:] == hmac.new(key, body[:at + 6], hashlib.md5).digest(), body.hex())
    tnc = dict(mip_exts(body, 20))[149]
    check(name + " TNC sub-type 0", tnc == bytes([0, 0]), tnc.hex())
    if want_44:
        utr = dict(mip_exts(body, 20)).get(44)
        # RFC 3519 3.2: sub-type 0, reply code 0 (will tunnel), flags, keepalive interval (110 s default).
        check(name + " UDP Tunnel Reply", utr is not None and utr[0] == 0 and utr[1] == 0 and
              int.from_bytes(utr[4:6], "big") == 110 and kinds.index(44) < kinds.index(32), kinds)
    else:
        check(name + " no UDP Tunnel Reply", 44 not in kinds, kinds)


def run(net, d):
    with open(d + "/mipvpnd.conf", "w") as f:
        f.write(config(net, d))
    r = subprocess.run([MIPVPND, "--check", "-c", d + "/mipvpnd.conf"], capture_output=True, text=True)
    check("check", r.returncode == 0, r.stdout + r.stderr)
    dm = LiveDaemon(MIPVPND, d + "/mipvpnd.conf", PREFIX)
    try:
        run_live(net, d, dm)
    finally:
        dm.kill()


def run_live(net, d, dm):
    eth_vpn = Ether(src=GWIN_MAC, dst=VPN_MAC)
    eth_in = Ether(src=CN_MAC, dst=IN_MAC)
    # 1. Registrations: TIA1 (IP-in-IP, T bit) on the vpn port; an intranet host
    #    outside the trusted networks on the inside port.
    net.send("vpn", [rrq(TIA1, 434, IHOA1, TIA1, MN1, flags=0x02)])
    untrusted = rrq(HOST, 434, IHOA1, HOST, MN1, flags=0x02)
    untrusted[Ether].src, untrusted[Ether].dst = HOST_MAC, IN_MAC
    net.send("inside", [untrusted])
    st = dm.wait("two registrations", lambda s: s["control"]["registrations"] >= 2)
    check("iha accepted 1", st["iha"]["accepted"] == 1 and st["iha"]["bindings"] == 1, st["iha"])
    dr = dm.drops()
    check("untrusted counted", dr["iha"]["untrusted_source"] == 1, dr["iha"])

    # 2. IP-in-IP both ways.
    up1 = [user(IHOA1, CN, i) for i in range(3)]
    net.send("vpn", [eth_vpn / IP(src=TIA1, dst=IHA) / u for u in up1])
    down1 = [user(CN, IHOA1, 10 + i, ttl=30) for i in range(2)]
    net.send("inside", [eth_in / p for p in down1])
    dm.wait_rx(7)

    # 3. Registration asking for the RFC 3519 UDP tunnel (F: force, no NAT on the path).
    net.send("vpn", [rrq(TIA2, TPORT, IHOA2, TIA2, MN2, flags=0x02, exts=udp_tunnel_req(force=True))])
    st = dm.wait("the UDP tunnel registration", lambda s: s["control"]["registrations"] >= 3)
    check("udp tunnel granted", st["iha"]["udp_tunnels"] == 1 and st["iha"]["bindings"] == 2, st["iha"])

    # 4. RFC 3519 tunnel data both ways; then IP-in-IP from TIA2 (its binding
    #    is UDP: refused) and UDP from another port (refused).
    up2 = [user(IHOA2, CN, 20 + i) for i in range(2)]
    net.send("vpn", [eth_vpn / IP(src=TIA2, dst=IHA) / UDP(sport=TPORT, dport=434) / MobileIP(type=4) /
                     MobileIPTunnelData(nexthdr=4) / u for u in up2])
    down2 = [user(CN, IHOA2, 30 + i, ttl=30) for i in range(2)]
    net.send("inside", [eth_in / p for p in down2])
    bad = [eth_vpn / IP(src=TIA2, dst=IHA) / user(IHOA2, CN, 40),
           eth_vpn / IP(src=TIA2, dst=IHA) / UDP(sport=TPORT + 1, dport=434) / MobileIP(type=4) /
           MobileIPTunnelData(nexthdr=4) / user(IHOA2, CN, 41),
           eth_vpn / IP(src=TIA1, dst=IHA) / user("10.10.0.99", CN, 42)]     # no binding
    net.send("vpn", bad)
    dm.wait_rx(7 + 1 + 2 + 2 + 3)
    dr = dm.drops()
    check("decap refusals", dr["stage"]["coa_mismatch"] == 2 and dr["stage"]["no_binding"] == 1, dr["stage"])

    # 5. MN1 deregisters (lifetime 0, RFC 5944 3.8.3.1): answered with TNC too;
    #    the correspondent's next datagram for it is no longer tunnelled.
    net.send("vpn", [rrq(TIA1, 434, IHOA1, TIA1, MN1, flags=0x02, lifetime=0, ident=ntp_now() + 1)])
    st = dm.wait("the deregistration", lambda s: s["iha"]["deregistered"] >= 1)
    check("deregistered", st["iha"]["bindings"] == 1, st["iha"])
    net.send("inside", [eth_in / user(CN, IHOA1, 50, ttl=30)])
    dm.wait_rx(7 + 1 + 2 + 2 + 3 + 2)
    out = dm.stop()

    # The intranet gets the inner datagrams, TTL - 1, in order of arrival.
    got = rdpcap(d + "/inside_w0.pcap")
    want = up1 + up2
    check("inside count", len(got) == len(want), [p.summary() for p in got])
    for i, p in enumerate(got):
        check("inside eth %d" % i, p[Ether].dst == CN_MAC and p[Ether].src == IN_MAC, p.summary())
        check("inside packet %d" % i, bytes(p[IP]) == minus_ttl(want[i]), p.show(dump=True))

    # Towards the VPN: IP-in-IP to TIA1, then the RFC 3519 UDP tunnel to TIA2:1434.
    got = rdpcap(d + "/vpn_w0.pcap")
    check("vpn count", len(got) == 4, [p.summary() for p in got])
    for i, p in enumerate(got):
        check("vpn eth %d" % i, p[Ether].dst == GWIN_MAC and p[Ether].src == VPN_MAC, p.summary())
        check("vpn outer checksum %d" % i, good_checksum(p[IP]), p.summary())
    for i, p in enumerate(got[:2]):
        o = p[IP]
        check("ipip outer %d" % i, o.src == IHA and o.dst == TIA1 and o.proto == 4, o.summary())
        check("ipip inner %d" % i, bytes(o.payload) == minus_ttl(down1[i]), o.show(dump=True))
    for i, p in enumerate(got[2:]):
        o = p[IP]
        check("udp outer %d" % i, o.src == IHA and o.dst == TIA2 and o.proto == 17 and
              p[UDP].sport == 434 and p[UDP].dport == TPORT, o.summary())
        check("udp checksum %d" % i, p[UDP].chksum == 0 or UDP(bytes(p[UDP])).chksum == p[UDP].chksum, p.summary())
        check("mip tunnel header %d" % i, MobileIP in p and p[MobileIP].type == 4 and
              p[MobileIPTunnelData].nexthdr == 4, p.show(dump=True))
        check("udp inner %d" % i, bytes(p[MobileIPTunnelData].payload) == minus_ttl(down2[i]), p.show(dump=True))
    t = subprocess.run([TSHARK, "-r", d + "/vpn_w0.pcap", "-T", "fields", "-e", "ip.src", "-e", "ip.dst",
                        "-e", "udp.dstport"], capture_output=True, text=True)
    rows = [x.split("\t") for x in t.stdout.strip().splitlines()]
    check("tshark tunnels", t.returncode == 0 and len(rows) == 4 and
          all(r[0] == IHA + "," + CN and r[1] == TIA1 + "," + IHOA1 for r in rows[:2]) and
          all(r[0].startswith(IHA) and r[1].startswith(TIA2) and r[2].startswith(str(TPORT)) for r in rows[2:]),
          t.stdout + t.stderr)

    # The replies: on the vpn port's control queue, to each requester; none to the untrusted host.
    got = rdpcap(d + "/vpn_ctl.pcap")
    rrps = [p for p in got if UDP in p and p[UDP].sport == 434]
    check("rrp count", len(rrps) == 3, [p.summary() for p in got])
    check_reply("rrp ipip", rrps[0], TIA1, 434, IHOA1, want_44=False)
    check_reply("rrp udp", rrps[1], TIA2, TPORT, IHOA2, want_44=True)
    check_reply("rrp deregistration", rrps[2], TIA1, 434, IHOA1, want_44=False)
    check("rrp deregistration lifetime 0", bytes(rrps[2][UDP].payload)[2:4] == bytes(2), rrps[2].summary())
    check("nothing to the untrusted host", not os.path.exists(d + "/inside_ctl.pcap") or
          len(rdpcap(d + "/inside_ctl.pcap")) == 0, "inside_ctl")
    wrpcap(d + "/rrp.pcap", rrps[:2])
    t = subprocess.run([TSHARK, "-r", d + "/rrp.pcap", "-V", "-O", "mip"], capture_output=True, text=True)
    v = t.stdout
    check("tshark mip", t.returncode == 0 and v.count("Registration Reply") >= 2 and "Malformed" not in v and
          v.count("Reg Accepted (0)") == 2, v[-2000:])
    # Each reply as tshark orders its extensions: TNC (149) before MN-HA auth (32).
    frames = re.split(r"^Frame \d+:", v, flags=re.M)[1:]
    check("tshark frames", len(frames) == 2, v[-2000:])
    for k, frame in enumerate(frames):
        tnc = frame.find("Trusted Networks Configured (TNC) Extension (149)")
        auth = frame.find("Mobile-Home Authentication Extension (32)")
        check("tshark TNC before auth %d" % k, 0 <= tnc < auth, frame[-1500:])
    check("tshark UDP tunnel reply", "UDP Tunnel Reply Extension (44)" not in frames[0] and
          "Will do Tunneling (0)" in frames[1] and "Keepalive Interval: 110" in frames[1], frames[1])

    for what in ["stage imip_decap 5", "stage imip_encap 4", "stage punt 4", "registrations 4", "replies_sent 3",
                 "iha: bindings 1 registered 2 deregistered 1", "drop coa_mismatch 2", "drop no_binding 1",
                 "drop no_route 1"]:
        check("summary: " + what, what in out, out)
    print("golden iha: %d checks passed" % mipvpnd_util.checked)


def main():
    with live_net_dir("mipvpn-iha-", ["vpn", "inside"]) as (net, d):
        run(net, d)


if __name__ == "__main__":
    main()
