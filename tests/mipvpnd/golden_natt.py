"""The combined appliance (x-HA + VPN gateway + i-HA, RFC 5265 section 2)
with every NAT traversal header, on net_pcap ports that read veths in a
network namespace (mipvpnd_util.LiveNet), so that each registration is
answered before the traffic that needs its binding:

  x-MIP: RFC 3519 UDP. The mobile node registers from behind a NAT with a
         UDP Tunnel Request (144): the request's IP source (the NAT's
         public address and port) differs from its care-of address, so
         the x-HA answers with a UDP Tunnel Reply (44) and tunnels to that
         address and port (RFC 3519 4.6).
  ESP:   RFC 3948 UDP 4500 both ways (the SAs say natt = { }).
  i-MIP: RFC 3519 UDP inside ESP (the i-HA registration asks for it with
         144, F flag: no NAT between the VPN-TIA and the i-HA).

  outside in:  IP(NAT -> x-HA) / UDP(40001 -> 434) / MIP tunnel / IP(x-HoA -> GW) / UDP 4500 / ESP /
               IP(VPN-TIA -> i-HA) / UDP(1434 -> 434) / MIP tunnel / IP(i-HoA -> CN) / UDP
  inside out:  IP(i-HoA -> CN), TTL - 1; and the reverse for CN -> i-HoA.

Then the NAT mapping: an RFC 3519 4.9 keepalive (ICMP echo request through
the UDP tunnel to the x-HA) from the registered port is answered through
the tunnel; one from a new port is refused (coa_mismatch: an
unauthenticated packet does not move a binding); the mobile node's
re-registration from the new port (RFC 3519 4.10) moves it, and traffic to
the mobile node follows. Inside the tunnel, port 4500 also carries a NAT-T
keepalive, IKE, an unknown SPI and a replayed ESP datagram: each counted.

Then the VPN gateway alone (roles = ["vpngw"], pcap files): the mobile
node's ESP in UDP through a NAT that moved port 4500 to 62000, both ways.

scapy builds the mobile node's packets and opens ours layer by layer;
tshark decrypts our UDP-encapsulated ESP and must find its ICV good.

usage: golden_natt.py MIPVPND
"""
import os
import shutil
import subprocess
import sys
import time

import mipvpnd_util  # noqa: E402
from mipvpnd_util import LiveDaemon, check, minus_ttl, mip_exts, pcap_port, remove_eal_dir, run_daemon, signed_rrq_ext, udp_tunnel_req, user_datagram, live_net_dir  # noqa: E402,E501
from scapy.all import Ether, ICMP, IP, UDP, Raw, rdpcap, wrpcap  # noqa: E402
from scapy.layers.ipsec import ESP, SecurityAssociation  # noqa: E402
from scapy.layers.mobileip import MobileIP, MobileIPTunnelData  # noqa: E402

MIPVPND = sys.argv[1]
TSHARK = shutil.which("tshark")
if TSHARK is None:
    sys.exit("tshark not found: this test needs it (Debian package tshark)")

OUT_MAC, IN_MAC = "02:00:00:00:00:01", "02:00:00:00:00:02"
ROUTER_MAC, CN_MAC = "02:00:00:00:01:01", "02:00:00:00:02:14"
ROUTER, GW, XHA, XHOA = "198.51.100.1", "198.51.100.11", "198.51.100.10", "198.51.100.50"
NAT, PRIV, NPORT, NPORT2 = "203.0.113.7", "192.168.1.10", 40001, 40002
IHA, TIA, IHOA, CN, TPORT = "10.1.0.2", "10.99.0.5", "10.10.0.5", "10.1.0.20", 1434
SPI_IN, SPI_OUT = 0x1001, 0x2001
KEY_IN = bytes(range(0x10, 0x24))    # AES-128 key || 4-byte salt (RFC 4106)
KEY_OUT = bytes(range(0x40, 0x54))
XMN = (300, bytes.fromhex("a87a7be5629f2d47f2839c370531778e"), b"mn1@example.org")
IMN = (256, bytes.fromhex("25191ae63fa7027f453ef34924953506"), b"mn1@example.org")
PREFIX = "mipvpn-natt-%d" % os.getpid()


def config(net, d):
    sa = ('{ spi = %d; direction = "%s"; suite = "aes-128-gcm"; key = "%s"; src = "%s"; dst = "%s";'
          ' natt = { }; selector = "%s/32"; }')
    mn = '{ home = "%s"; nai = "%s"; spi = %d; key = "%s"; }'
    return "\n".join([
        'eal = ["--no-huge", "-m", "256", "--no-pci", "--file-prefix=%s"];' % PREFIX,
        'roles = ["xha", "vpngw", "iha"];',
        "workers = 1;",
        "ports = ( %s, %s );" % (net.port(d, "outside", 0, GW + "/24", OUT_MAC, False),
                                 net.port(d, "inside", 1, "10.1.0.1/16", IN_MAC, True)),
        'neighbours = ( { address = "%s"; mac = "%s"; port = "outside"; },'
        ' { address = "%s"; mac = "%s"; port = "inside"; } );' % (ROUTER, ROUTER_MAC, CN, CN_MAC),
        'routes = ( { prefix = "0.0.0.0/0"; via = "%s"; } );' % ROUTER,
        'xha = { addresses = ["%s"]; mobile_nodes = ( %s ); };' % (
            XHA, mn % (XHOA, XMN[2].decode(), XMN[0], XMN[1].hex())),
        'vpngw = { address = "%s"; allow_static_gcm = true; sas = ( %s, %s ); };' % (
            GW, sa % (SPI_IN, "in", KEY_IN.hex(), XHOA, GW, TIA), sa % (SPI_OUT, "out", KEY_OUT.hex(), GW, XHOA, TIA)),
        'iha = { addresses = ["%s"]; trusted_networks = ["10.99.0.0/16"]; mobile_nodes = ( %s ); };' % (
            IHA, mn % (IHOA, IMN[2].decode(), IMN[0], IMN[1].hex())),
    ]) + "\n"


def ident():
    """RFC 5944 5.7.1 timestamp with the fraction, so that two requests in
    one second still grow."""
    return int((time.time() + 2208988800) * (1 << 32))


class Mn:
    """The mobile node's side: its ESP SA (RFC 3948 NAT-T) and its tunnels."""

    def __init__(self):
        self.sa = SecurityAssociation(ESP, spi=SPI_IN, crypt_algo="AES-GCM", crypt_key=KEY_IN,
                                      tunnel_header=IP(src=XHOA, dst=GW),
                                      nat_t_header=UDP(sport=4500, dport=4500))
        self.seq = 0
        self.nport = NPORT

    def esp(self, inner):
        self.seq += 1
        p = self.sa.encrypt(inner, seq_num=self.seq)
        del p[UDP].len  # scapy 2.5.0 NAT-T length bug (PEERS.md)
        del p[UDP].chksum
        return IP(bytes(p))

    def xmip(self, inner, nport=None):
        """Through the NAT: IP(NAT -> x-HA) / UDP(port -> 434) / MIP tunnel data / inner."""
        return (Ether(src=ROUTER_MAC, dst=OUT_MAC) / IP(src=NAT, dst=XHA) /
                UDP(sport=nport or self.nport, dport=434) / MobileIP(type=4) / MobileIPTunnelData(nexthdr=4) / inner)

    def imip(self, inner):
        return IP(src=TIA, dst=IHA) / UDP(sport=TPORT, dport=434) / MobileIP(type=4) / \
            MobileIPTunnelData(nexthdr=4) / inner

    def xrrq(self, nport):
        body = signed_rrq_ext(XHOA, XHA, PRIV, ident(), XMN[0], XMN[1], flags=0x02, exts=udp_tunnel_req(),
                              nai=XMN[2])
        return Ether(src=ROUTER_MAC, dst=OUT_MAC) / IP(src=NAT, dst=XHA) / UDP(sport=nport, dport=434) / Raw(body)


def user(src, dst, i, ttl=20):
    return user_datagram(src, dst, i, ttl, b"natt", 500)


def open_xmip(name, p, nport):
    """Our x-MIP layer: IP(x-HA -> NAT) / UDP(434 -> nport) / MIP tunnel data; returns the inner IP."""
    check(name + " eth", p[Ether].dst == ROUTER_MAC and p[Ether].src == OUT_MAC, p.summary())
    o = p[IP]
    check(name + " x-MIP", o.src == XHA and o.dst == NAT and o.proto == 17 and p[UDP].sport == 434 and
          p[UDP].dport == nport and MobileIPTunnelData in p and p[MobileIP].type == 4 and
          p[MobileIPTunnelData].nexthdr == 4, p.summary())
    return IP(bytes(p[MobileIPTunnelData].payload))


def open_esp(name, vpn):
    """Our ESP in UDP 4500 (RFC 3948 2.1) to the mobile node; returns the inner IP."""
    check(name + " ESP in UDP", vpn.src == GW and vpn.dst == XHOA and vpn.proto == 17 and
          vpn[UDP].sport == 4500 and vpn[UDP].dport == 4500 and vpn[UDP].chksum == 0 and
          vpn[UDP].len == vpn.len - 20 and bytes(vpn[UDP].payload)[:4] == SPI_OUT.to_bytes(4, "big"), vpn.summary())
    plain = IP(src=vpn.src, dst=vpn.dst, proto=50) / Raw(bytes(vpn[UDP].payload))
    gw_sa = SecurityAssociation(ESP, spi=SPI_OUT, crypt_algo="AES-GCM", crypt_key=KEY_OUT,
                                tunnel_header=IP(src=GW, dst=XHOA))
    return gw_sa.decrypt(IP(bytes(plain)))


def tshark_esp(name, path):
    """tshark dissects our frames whole (MIP tunnel, UDP-encapsulated ESP,
    RFC 3948), decrypts the ESP and checks its ICV; returns per frame the
    protocol stack, the ICV verdict and the IP sources (outer first)."""
    uat = '"IPv4","%s","%s","0x%08x","AES-GCM with 16 octet ICV [RFC4106]","0x%s","NULL",""' % (
        GW, XHOA, SPI_OUT, KEY_OUT.hex())
    t = subprocess.run([TSHARK, "-r", path, "-o", "esp.enable_encryption_decode:TRUE",
                        "-o", "esp.enable_authentication_check:TRUE", "-o", "uat:esp_sa:" + uat,
                        "-T", "fields", "-e", "frame.protocols", "-e", "esp.icv_good", "-e", "ip.src"],
                       capture_output=True, text=True)
    check(name + " tshark ran", t.returncode == 0, t.stderr)
    return [r.split("\t") for r in t.stdout.strip("\n").splitlines()]


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
    mn = Mn()
    sent = 0

    # 1. x-HA registration from behind the NAT, with 144: UDP tunnelling.
    net.send("outside", [mn.xrrq(NPORT)])
    sent += 1
    st = dm.wait("the x-HA registration", lambda s: s["control"]["registrations"] >= 1)
    check("x-HA udp tunnel", st["xha"]["udp_tunnels"] == 1 and st["xha"]["bindings"] == 1, st["xha"])

    # 2. i-HA registration through x-MIP UDP and ESP-in-UDP, with 144 F.
    body = signed_rrq_ext(IHOA, IHA, TIA, ident(), IMN[0], IMN[1], flags=0x02, exts=udp_tunnel_req(force=True),
                          nai=IMN[2])
    net.send("outside", [mn.xmip(mn.esp(IP(src=TIA, dst=IHA) / UDP(sport=TPORT, dport=434) /
                                                               Raw(body)))])
    sent += 1
    st = dm.wait("the i-HA registration", lambda s: s["control"]["registrations"] >= 2)
    check("i-HA udp tunnel", st["iha"]["udp_tunnels"] == 1 and st["iha"]["bindings"] == 1, st["iha"])

    # 3. User traffic both ways through the three NAT traversal layers.
    up = [user(IHOA, CN, i) for i in range(3)]
    net.send("outside", [mn.xmip(mn.esp(mn.imip(u))) for u in up])
    down = [user(CN, IHOA, 10 + i, ttl=30) for i in range(2)]
    net.send("inside", [Ether(src=CN_MAC, dst=IN_MAC) / p for p in down])
    sent += 5
    dm.wait_rx(sent)

    # 4. Keepalives (RFC 3519 4.9): from the registered port, then from a new one.
    ping = IP(src=XHOA, dst=XHA, id=77) / ICMP(type=8, id=0x4d49, seq=1) / Raw(b"keepalive")
    net.send("outside", [mn.xmip(ping)])
    net.send("outside", [mn.xmip(ping, nport=NPORT2)])
    sent += 2
    dm.wait_rx(sent)
    dr = dm.drops()
    check("keepalive from a new port refused", dr["stage"]["coa_mismatch"] == 1, dr["stage"])

    # RFC 3948 on port 4500 inside the tunnel, the other kinds: a NAT-T
    # keepalive (one 0xFF byte, 2.3: dropped quietly), IKE (non-ESP marker,
    # 2.2: to the control thread), an unknown SPI, a replayed ESP datagram.
    natt = IP(src=XHOA, dst=GW) / UDP(sport=4500, dport=4500)
    replay = mn.esp(mn.imip(user(IHOA, CN, 99)))
    net.send("outside", [mn.xmip(natt / Raw(b"\xff")),
                         mn.xmip(natt / Raw(bytes(4) + os.urandom(8) + bytes(8) + b"\x21\x20\x22\x08" + bytes(8))),
                         mn.xmip(natt / Raw(bytes.fromhex("00007777") + (1).to_bytes(4, "big") + bytes(40))),
                         mn.xmip(replay), mn.xmip(replay)])
    sent += 5
    st = dm.wait_rx(sent)
    dr = dm.drops()
    check("natt keepalive", dr["stage"]["natt_keepalive"] == 1, dr["stage"])
    check("natt unknown spi", dr["stage"]["unknown_spi"] == 1, dr["stage"])
    check("natt replay", dr["esp_inb"]["replayed"] == 1 and dr["stage"]["esp_inbound"] == 1, dr)
    check("IKE to the control thread", st["control"]["ike_unhandled"] == 1, st["control"])
    up.append(user(IHOA, CN, 99))

    # 5. The NAT mapping moved: the mobile node registers again from the new port.
    mn.nport = NPORT2
    net.send("outside", [mn.xrrq(NPORT2)])
    sent += 1
    dm.wait("the re-registration", lambda s: s["control"]["registrations"] >= 3)
    down2 = [user(CN, IHOA, 20, ttl=30)]
    net.send("inside", [Ether(src=CN_MAC, dst=IN_MAC) / p for p in down2])
    net.send("outside", [mn.xmip(mn.esp(mn.imip(user(IHOA, CN, 3))))])
    up.append(user(IHOA, CN, 3))
    sent += 2
    dm.wait_rx(sent)
    out = dm.stop()

    # Inside: the four user datagrams, TTL - 1.
    got = rdpcap(d + "/inside_w0.pcap")
    check("inside count", len(got) == len(up), [p.summary() for p in got])
    for i, p in enumerate(got):
        check("inside eth %d" % i, p[Ether].dst == CN_MAC and p[Ether].src == IN_MAC, p.summary())
        check("inside packet %d" % i, bytes(p[IP]) == minus_ttl(up[i]), p.show(dump=True))

    # Outside, worker queue: two replies to the first port, the keepalive's
    # answer, then the third reply to the new port.
    got = rdpcap(d + "/outside_w0.pcap")
    check("outside count", len(got) == 4, [p.summary() for p in got])
    for i, (p, want, nport) in enumerate(zip([got[0], got[1], got[3]], down + down2, [NPORT, NPORT, NPORT2])):
        vpn = open_xmip("reply %d" % i, p, nport)
        imip = open_esp("reply %d" % i, vpn)
        check("reply %d i-MIP UDP" % i, imip.src == IHA and imip.dst == TIA and UDP in imip and
              imip[UDP].sport == 434 and imip[UDP].dport == TPORT and MobileIPTunnelData in imip and
              imip[MobileIPTunnelData].nexthdr == 4, imip.summary())
        check("reply %d user" % i, bytes(imip[MobileIPTunnelData].payload) == minus_ttl(want),
              imip.show(dump=True))
    pong = open_xmip("keepalive reply", got[2], NPORT)
    check("keepalive reply", pong.src == XHA and pong.dst == XHOA and ICMP in pong and pong[ICMP].type == 0 and
          pong[ICMP].id == 0x4d49 and bytes(pong[ICMP].payload) == b"keepalive", pong.show(dump=True))
    rows = tshark_esp("replies", d + "/outside_w0.pcap")
    stack = "eth:ethertype:ip:udp:mip:ip:udp:udpencap:esp:ip:udp:mip:ip:udp:data"
    check("tshark replies", len(rows) == 4 and all(rows[k][:2] == [stack, "1"] and
          rows[k][2].split(",") == [XHA, GW, IHA, CN] for k in (0, 1, 3)), rows)
    check("tshark keepalive reply", rows[2][0] == "eth:ethertype:ip:udp:mip:ip:icmp:data", rows[2])

    # Outside, control queue: the x-HA replies (44) and the i-HA reply through ESP and x-MIP.
    got = rdpcap(d + "/outside_ctl.pcap")
    check("rrp count", len(got) == 3, [p.summary() for p in got])
    for name, p, nport in [("x-HA rrp", got[0], NPORT), ("x-HA rrp again", got[2], NPORT2)]:
        check(name + " addresses", p[IP].src == XHA and p[IP].dst == NAT and p[UDP].sport == 434 and
              p[UDP].dport == nport and p[Ether].dst == ROUTER_MAC, p.summary())
        body = bytes(p[UDP].payload)
        exts = dict(mip_exts(body, 20))
        check(name + " code 0", body[0] == 3 and body[1] == 0, body[:4].hex())
        check(name + " UDP Tunnel Reply", 44 in exts and exts[44][1] == 0 and 149 not in exts, exts)
    vpn = open_xmip("i-HA rrp", got[1], NPORT)
    inner = open_esp("i-HA rrp", vpn)
    check("i-HA rrp addresses", inner.src == IHA and inner.dst == TIA and inner[UDP].sport == 434 and
          inner[UDP].dport == TPORT, inner.summary())
    body = bytes(inner[UDP].payload)
    kinds = [t for t, _ in mip_exts(body, 20)]
    check("i-HA rrp code 0", body[0] == 3 and body[1] == 0, body[:4].hex())
    check("i-HA rrp 44, TNC before auth", 44 in kinds and 149 in kinds and kinds.index(149) < kinds.index(32), kinds)
    rows = tshark_esp("i-HA rrp", d + "/outside_ctl.pcap")
    check("tshark i-HA rrp", len(rows) == 3 and rows[1][0] == "eth:ethertype:ip:udp:mip:ip:udp:udpencap:esp:ip:udp:mip"
          and rows[1][1] == "1" and rows[1][2].split(",") == [XHA, GW, IHA], rows)
    wrpcap(d + "/xrrp.pcap", [got[0], got[2]])
    t = subprocess.run([TSHARK, "-r", d + "/xrrp.pcap", "-V", "-O", "mip"], capture_output=True, text=True)
    check("tshark x-HA rrp", t.returncode == 0 and t.stdout.count("Reg Accepted (0)") == 2 and
          t.stdout.count("Will do Tunneling (0)") == 2 and "Malformed" not in t.stdout, t.stdout[-2000:])

    for what in ["stage xmip_decap 11", "stage esp_inb 6", "stage imip_decap 5", "stage imip_encap 3",
                 "stage esp_outb 4", "stage xmip_encap 5", "drop coa_mismatch 1", "registrations 3",
                 "replies_sent 3", "xha: bindings 1 registered 2", "iha: bindings 1 registered 1"]:
        check("summary: " + what, what in out, out)


NAT_SPORT = 62000   # the NAT's port for the mobile node's 4500 (RFC 3948 2.1)


def run_vpngw(d):
    """The VPN gateway alone (roles = ["vpngw"]), the mobile node's IPsec
    behind a NAT that moved its port 4500 to 62000: ESP in UDP both ways,
    the replies to the NAT's address and port (the SAs say so: static SAs
    are configured with the mapping). pcap files in and out."""
    prefix = PREFIX + "-gw"
    sa = ('{ spi = %d; direction = "%s"; suite = "aes-128-gcm"; key = "%s"; src = "%s"; dst = "%s";'
          ' natt = { sport = %d; dport = %d; }; selector = "%s/32"; }')
    conf = "\n".join([
        'eal = ["--no-huge", "-m", "256", "--no-pci", "--file-prefix=%s"];' % prefix,
        'roles = ["vpngw"];',
        "workers = 1;",
        "ports = ( %s, %s );" % (pcap_port(d, "gwout", 0, GW + "/24", OUT_MAC, False),
                                 pcap_port(d, "gwin", 1, "10.1.0.1/16", IN_MAC, True)),
        'neighbours = ( { address = "%s"; mac = "%s"; port = "gwout"; },'
        ' { address = "%s"; mac = "%s"; port = "gwin"; } );' % (ROUTER, ROUTER_MAC, CN, CN_MAC),
        'routes = ( { prefix = "0.0.0.0/0"; via = "%s"; } );' % ROUTER,
        'vpngw = { address = "%s"; allow_static_gcm = true; sas = ( %s, %s ); };' % (
            GW, sa % (SPI_IN, "in", KEY_IN.hex(), NAT, GW, NAT_SPORT, 4500, TIA),
            sa % (SPI_OUT, "out", KEY_OUT.hex(), GW, NAT, 4500, NAT_SPORT, TIA)),
    ]) + "\n"
    with open(d + "/gw.conf", "w") as f:
        f.write(conf)
    mn_sa = SecurityAssociation(ESP, spi=SPI_IN, crypt_algo="AES-GCM", crypt_key=KEY_IN,
                                tunnel_header=IP(src=NAT, dst=GW), nat_t_header=UDP(sport=NAT_SPORT, dport=4500))
    up = [user(TIA, CN, 60 + i) for i in range(3)]
    frames = []
    for i, u in enumerate(up):
        p = mn_sa.encrypt(u, seq_num=i + 1)
        del p[UDP].len  # scapy 2.5.0 NAT-T length bug (PEERS.md)
        del p[UDP].chksum
        frames.append(Ether(src=ROUTER_MAC, dst=OUT_MAC) / IP(bytes(p)))
    wrpcap(d + "/gwout_in.pcap", frames)
    down = [user(CN, TIA, 70 + i, ttl=30) for i in range(2)]
    wrpcap(d + "/gwin_in.pcap", [Ether(src=CN_MAC, dst=IN_MAC) / p for p in down])
    out = run_daemon(MIPVPND, d + "/gw.conf")
    remove_eal_dir(prefix)

    got = rdpcap(d + "/gwin_w0.pcap")
    check("gw inside count", len(got) == len(up), [p.summary() for p in got])
    for i, p in enumerate(got):
        check("gw inside %d" % i, bytes(p[IP]) == minus_ttl(up[i]) and p[Ether].dst == CN_MAC, p.show(dump=True))
    got = rdpcap(d + "/gwout_w0.pcap")
    check("gw outside count", len(got) == len(down), [p.summary() for p in got])
    gw_sa = SecurityAssociation(ESP, spi=SPI_OUT, crypt_algo="AES-GCM", crypt_key=KEY_OUT,
                                tunnel_header=IP(src=GW, dst=NAT))
    for i, p in enumerate(got):
        o = p[IP]
        check("gw ESP in UDP %d" % i, p[Ether].dst == ROUTER_MAC and o.src == GW and o.dst == NAT and
              o.proto == 17 and p[UDP].sport == 4500 and p[UDP].dport == NAT_SPORT and p[UDP].len == o.len - 20,
              p.summary())
        dec = gw_sa.decrypt(IP(bytes(IP(src=o.src, dst=o.dst, proto=50) / Raw(bytes(p[UDP].payload)))))
        check("gw inner %d" % i, bytes(dec) == minus_ttl(down[i]), dec.show(dump=True))
    uat = '"IPv4","%s","%s","0x%08x","AES-GCM with 16 octet ICV [RFC4106]","0x%s","NULL",""' % (
        GW, NAT, SPI_OUT, KEY_OUT.hex())
    t = subprocess.run([TSHARK, "-r", d + "/gwout_w0.pcap", "-o", "esp.enable_encryption_decode:TRUE",
                        "-o", "esp.enable_authentication_check:TRUE", "-o", "uat:esp_sa:" + uat,
                        "-T", "fields", "-e", "frame.protocols", "-e", "esp.icv_good"], capture_output=True, text=True)
    rows = [r.split("\t") for r in t.stdout.strip("\n").splitlines()]
    check("gw tshark", t.returncode == 0 and rows == [["eth:ethertype:ip:udp:udpencap:esp:ip:udp:data", "1"]] * 2,
          t.stdout + t.stderr)
    for what in ["stage esp_inb 3", "stage esp_outb 2"]:
        check("gw summary: " + what, what in out, out)


def main():
    with live_net_dir("mipvpn-natt-", ["outside", "inside"]) as (net, d):
        run(net, d)
        run_vpngw(d)
        print("golden natt: %d checks passed" % mipvpnd_util.checked)


if __name__ == "__main__":
    main()
