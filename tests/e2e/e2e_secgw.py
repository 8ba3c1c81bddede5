# SPDX-License-Identifier: BSD-3-Clause
"""End to end in network namespaces (RFC 5265): mipvpnd as x-HA and i-HA on
net_af_packet ports, a mobile node and a correspondent node played by the
kernel and scapy, and DPDK's ipsec-secgw as the unmodified third-party VPN
gateway in the path.

    mn (kernel + scapy)        app (mipvpnd: x-HA, i-HA)         gw (ipsec-secgw)
    eth0 192.0.2.77 (CoA) ---- ext  192.0.2.1, x-HA 192.0.2.10
                               gwu  198.51.100.1 ------------- u  port 0, unprotected: GW 198.51.100.11
                               gwp  10.0.1.1 (internal) ------ p  port 1, protected (next hop 10.0.1.11)
    cn (kernel)                int  10.1.0.1 (internal), i-HA 10.1.0.2
    eth0 10.1.0.20 ----------- int

The mobile node is outside, with a co-located care-of address (CoA), an
external home address (x-HoA 198.51.100.50) at the x-HA, an ESP tunnel
mode SA pair with the gateway (outer x-HoA <-> GW, inner VPN-TIA
10.99.0.5) and an internal home address (i-HoA 10.10.0.5) at the i-HA.

  1. ARP and ping: the mobile node's kernel pings the x-HA (mipvpnd answers
     ARP and the echo request).
  2. x-HA registration (RFC 5265 4.2): Registration Request from the CoA's
     UDP socket, Reply code 0 with a good MN-HA authenticator.
  3. i-HA registration through the tunnel (RFC 5265 4.3): x-MIP (IP-in-IP to
     the x-HA) / ESP (scapy, to the gateway) / Registration Request to the
     i-HA with the VPN-TIA as co-located care-of address; the Reply, code 0
     with the Trusted Networks Configured extension (RFC 5265 3.4), comes
     back encrypted by ipsec-secgw and tunnelled by the x-HA.
  4. User traffic both ways (RFC 5265 4.4): UDP from the i-HoA, triple
     encapsulated by scapy, arrives at the correspondent's socket as the
     plain datagram; its answer from the correspondent's kernel arrives at
     the mobile node triple encapsulated (x-HA, ipsec-secgw, i-HA) and
     opens to the very datagram. Then ping both ways through the tunnel:
     the mobile node's echo request answered by the correspondent's kernel,
     and the correspondent's echo request answered by the mobile node.
  5. The fences: clear traffic from outside does not reach the intranet,
     neither sent plainly nor inside the x-MIP tunnel (RFC 5265 1.2: only
     what came through the VPN is trusted; RFC 4301 5.2); ESP under a wrong
     key is dropped by the gateway; a Registration Request to the i-HA sent
     in clear from outside is dropped silently (RFC 5265 4.3, trusted
     networks).
  6. x-MIP over UDP (RFC 3519, which RFC 5265 4.3 asks for where a VPN or a
     NAT blocks IP-in-IP): the mobile node registers again with the x-HA
     with a UDP Tunnel Request (F: force), gets a UDP Tunnel Reply, and
     its traffic and the correspondent's answers flow in UDP 434 tunnel
     data around the same ESP.
  7. Deregistration with the i-HA through the tunnel (lifetime 0): the reply
     comes back; the correspondent's datagrams for the i-HoA go nowhere.

Every frame on the mobile node's link is captured; tshark then checks the
IPv4 and UDP checksums, decrypts both directions' ESP (inside IP-in-IP and
RFC 3519 tunnel data) and finds every ICV good but the wrong key's, and
dissects the registration replies. The daemon's exit summary must count
every stage and drop above.

A peer that cannot run (no dpdk-doc, make fails, it does not start) fails
the test; nothing is skipped.

usage: e2e_secgw.py MIPVPND BUILD_SECGW SECGW_DIR [WORKERS]
  BUILD_SECGW: scripts/build-secgw; SECGW_DIR: where it builds ipsec-secgw;
  WORKERS: mipvpnd's worker count (default 1)
"""
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "mipvpnd"))
import mipvpnd_util  # noqa: E402
from scapy.all import Ether, ICMP, IP, UDP, Raw  # noqa: E402
from scapy.layers.mobileip import MobileIP, MobileIPTunnelData  # noqa: E402
from scapy.layers.ipsec import ESP, SecurityAssociation  # noqa: E402
from mipvpnd_util import check, mip_ext, ntp_now, rrp_parse, signed_rrq_ext  # noqa: E402
from e2e_util import Daemon, Wire, inet_csum, ping, recv_until, udp_socket  # noqa: E402
from netns import Topology  # noqa: E402

if len(sys.argv) not in (4, 5):
    sys.exit("usage: e2e_secgw.py MIPVPND BUILD_SECGW SECGW_DIR [WORKERS]")
# mipvpnd's workers: with 2, worker 0 reads every af_packet queue and
# spreads packets to worker 1 in software.
WORKERS = int(sys.argv[4]) if len(sys.argv) == 5 else 1
MIPVPND = os.path.abspath(sys.argv[1])
BUILD_SECGW, SECGW_DIR = os.path.abspath(sys.argv[2]), os.path.abspath(sys.argv[3])

# Addresses (see the drawing above).
COA, EXT, XHA = "192.0.2.77", "192.0.2.1", "192.0.2.10"
GWU, GW, XHOA = "198.51.100.1", "198.51.100.11", "198.51.100.50"
GWP, GW_PROT = "10.0.1.1", "10.0.1.11"
INT, IHA, CN = "10.1.0.1", "10.1.0.2", "10.1.0.20"
TIA, IHOA = "10.99.0.5", "10.10.0.5"
# MACs: every veth end gets a fixed one (ipsec-secgw answers no ARP).
MN_MAC, EXT_MAC = "02:00:00:e2:00:01", "02:00:00:e2:00:02"
GWU_MAC, U_MAC = "02:00:00:e2:01:01", "02:00:00:e2:01:02"
GWP_MAC, P_MAC = "02:00:00:e2:02:01", "02:00:00:e2:02:02"
INT_MAC, CN_MAC = "02:00:00:e2:03:01", "02:00:00:e2:03:02"
# Mobility security associations (RFC 5944 3.5.1) with the two home agents.
X_SPI, X_KEY = 300, bytes.fromhex("a87a7be5629f2d47f2839c370531778e")
I_SPI, I_KEY = 256, bytes.fromhex("25191ae63fa7027f453ef34924953506")
NAI = "mn1@example.org"
# The ESP tunnel mode SA pair between the mobile node and the gateway
# (static, AES-128-GCM: key || 4-byte salt, RFC 4106).
SPI_IN, SPI_OUT = 4097, 8193       # to the gateway, from it
KEY_IN = bytes(range(0x10, 0x24))
KEY_OUT = bytes(range(0x40, 0x54))
FLAGS_DT = 0x22  # D (co-located care-of address, RFC 5944 3.3) and T (reverse tunnel, RFC 3024)


TSHARK, TCPDUMP = shutil.which("tshark"), shutil.which("tcpdump")
if TSHARK is None or TCPDUMP is None:
    sys.exit("FAIL tshark and tcpdump are needed (Debian packages tshark, tcpdump)")


def mipvpnd_config(prefix):
    # net_af_packet: one queue pair per worker and one for the control
    # thread's TX queue (the runtime reads every RX queue of the fanout).
    def port(name, n, addr, mac, internal):
        return ('{ name = "%s"; device = "net_af_packet%d,iface=%s,qpairs=%d"; address = "%s"; mac = "%s";'
                ' internal = %s; }' % (name, n, name, WORKERS + 1, addr, mac, "true" if internal else "false"))
    return "\n".join([
        'eal = ["--no-huge", "-m", "256", "--no-pci", "--file-prefix=%s-app", "--log-level=*:warning"];' % prefix,
        'roles = ["xha", "iha"];',
        "workers = %d;" % WORKERS,
        "ports = ( %s );" % ", ".join([
            port("ext", 0, EXT + "/24", EXT_MAC, False),
            port("gwu", 1, GWU + "/24", GWU_MAC, False),
            port("gwp", 2, GWP + "/24", GWP_MAC, True),
            port("int", 3, INT + "/24", INT_MAC, True)]),
        # The gateway answers no ARP: its two ports are static neighbours.
        'neighbours = ( { address = "%s"; mac = "%s"; port = "gwu"; },'
        ' { address = "%s"; mac = "%s"; port = "gwp"; } );' % (GW, U_MAC, GW_PROT, P_MAC),
        # The VPN inner address pool is behind the gateway's protected port.
        'routes = ( { prefix = "10.99.0.0/16"; via = "%s"; } );' % GW_PROT,
        'xha = { addresses = ["%s"]; mobile_nodes = ( { home = "%s"; nai = "%s"; spi = %d; key = "%s"; } ); };' % (
            XHA, XHOA, NAI, X_SPI, X_KEY.hex()),
        'iha = { addresses = ["%s"]; trusted_networks = ["10.99.0.0/16", "10.1.0.0/24"];'
        ' mobile_nodes = ( { home = "%s"; nai = "%s"; spi = %d; key = "%s"; } ); };' % (
            IHA, IHOA, NAI, I_SPI, I_KEY.hex()),
    ]) + "\n"


def secgw_config():
    """ipsec-secgw's SPD, SAD and routes (port 0 unprotected, 1 protected)."""
    def key(k):
        return ":".join("%02x" % b for b in k)
    return "\n".join([
        # Inbound: what may come out of the tunnel (inner source: the VPN-TIA).
        "sp ipv4 in esp protect %d pri 1 src %s/32 sport 0:65535 dport 0:65535" % (SPI_IN, TIA),
        # Outbound: what goes into it (inner destination: the VPN-TIA).
        "sp ipv4 out esp protect %d pri 1 dst %s/32 sport 0:65535 dport 0:65535" % (SPI_OUT, TIA),
        "sa in %d aead_algo aes-128-gcm aead_key %s mode ipv4-tunnel src %s dst %s" % (
            SPI_IN, key(KEY_IN), XHOA, GW),
        "sa out %d aead_algo aes-128-gcm aead_key %s mode ipv4-tunnel src %s dst %s" % (
            SPI_OUT, key(KEY_OUT), GW, XHOA),
        "rt ipv4 dst 198.51.100.0/24 port 0",
        "rt ipv4 dst 10.0.0.0/8 port 1",
        # It answers no ARP and asks none: the next hop's MAC per port.
        "neigh port 0 %s" % GWU_MAC,
        "neigh port 1 %s" % GWP_MAC,
    ]) + "\n"


# What a timeout must end: the daemons started (each in a session of its
# own), the topology, the folders.
LIVE = {"daemons": [], "topo": None, "dirs": []}


def on_sigterm(*_):
    """meson's timeout: SIGTERM to the test's process group, SIGKILL 0.5 s
    later, too soon for graceful stops and Python's unwinding: SIGKILL
    ipsec-secgw, mipvpnd and tcpdump (not waiting for them to go), show the
    end of their output, delete the namespaces and the folders, exit."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    for p in LIVE["daemons"]:
        try:
            os.killpg(p.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if LIVE["topo"]:
        LIVE["topo"].close()
    print("FAIL terminated (timeout)")
    for p in LIVE["daemons"]:
        try:
            print("--- %s (end)\n%s" % (p.name, p.output()[-1500:]))
        except OSError:
            pass
    for path in LIVE["dirs"]:
        shutil.rmtree(path, ignore_errors=True)
    sys.stdout.flush()
    os._exit(1)  # all done: the finally blocks would only wait on what is gone


def build_secgw():
    # A cold build (make of the example) on a loaded two-core machine.
    r = subprocess.run([BUILD_SECGW, SECGW_DIR], capture_output=True, text=True, timeout=420)
    check("ipsec-secgw built (scripts/build-secgw)", r.returncode == 0 and r.stdout.strip(),
          r.stdout + r.stderr)
    return r.stdout.strip().splitlines()[-1]


def from_xha(p):
    """x-MIP from the x-HA to the care-of address: IP-in-IP (RFC 2003)."""
    return IP in p and p[IP].src == XHA and p[IP].dst == COA and p[IP].proto == 4


def open_tunnel(p, gw_sa, what):
    """The x-MIP and ESP layers of p, checked; the inner (i-MIP) IP packet."""
    outer = p[IP]
    vpn = outer.payload
    check(what + ": VPN layer", isinstance(vpn, IP) and vpn.src == GW and vpn.dst == XHOA and vpn.proto == 50,
          outer.summary())
    check(what + ": ESP SPI", vpn[ESP].spi == SPI_OUT, vpn.summary())
    inner = gw_sa.decrypt(IP(bytes(vpn)))  # checks the ICV (AES-GCM)
    return inner


def slice_xha(topo, app):
    # 1. ARP and ping: the first requests go unanswered while the daemon's
    # ports come up; then every one of three must be answered.
    ok, out = False, ""
    end = time.time() + 30
    while not ok and time.time() < end and app.alive():
        ok, out = ping(topo, "mn", XHA)
    check("ping x-HA (first)", ok, out + app.output())
    ok, out = ping(topo, "mn", XHA, count=3, wait=3)
    check("ping x-HA 3/3", ok, out)
    ok, out = ping(topo, "mn", EXT, count=1)
    check("ping ext port address", ok, out)
    neigh = topo.sh("mn", ["ip", "neigh", "show", XHA]).stdout
    check("mn learned the x-HA's MAC by ARP", EXT_MAC in neigh.lower(), neigh)

    # 2. x-HA registration (RFC 5265 4.2, RFC 5944 3.3): the mobile node's
    # own UDP socket on its co-located care-of address.
    s = udp_socket(topo, "mn", COA, 434)
    ident = ntp_now()
    s.sendto(signed_rrq_ext(XHOA, XHA, COA, ident, X_SPI, X_KEY, FLAGS_DT), (XHA, 434))
    got = recv_until(s, 5, lambda d, a: a == (XHA, 434))
    s.close()
    check("x-HA reply received", got is not None, app.output())
    r = rrp_parse(got[0], X_SPI, X_KEY)
    check("x-HA reply parsed", r is not None, got[0].hex())
    check("x-HA reply code 0", r["code"] == 0, r)
    check("x-HA reply fields", r["home"] == XHOA and r["ha"] == XHA and r["id"] >> 32 == ident >> 32
          and r["lifetime"] > 0, r)
    check("x-HA reply authenticator", r["auth_ok"], r)


def slice_iha(topo, app, mn, mn_sa, gw_sa):
    """The i-HA registration through the tunnel (RFC 5265 4.3)."""
    ident = ntp_now()
    rrq = IP(src=TIA, dst=IHA) / UDP(sport=434, dport=434) / Raw(
        signed_rrq_ext(IHOA, IHA, TIA, ident, I_SPI, I_KEY, FLAGS_DT))
    frame = Ether(src=MN_MAC, dst=EXT_MAC) / IP(src=COA, dst=XHA) / mn_sa.encrypt(rrq)
    mn.send(frame)
    p = mn.recv(from_xha, 10)
    check("i-HA reply through the tunnel", p is not None, app.output())
    inner = open_tunnel(p, gw_sa, "i-HA reply")
    check("i-HA reply addresses", inner.src == IHA and inner.dst == TIA and UDP in inner and
          inner[UDP].sport == 434 and inner[UDP].dport == 434, inner.summary())
    r = rrp_parse(bytes(inner[UDP].payload), I_SPI, I_KEY)
    check("i-HA reply parsed", r is not None, inner.summary())
    check("i-HA reply code 0", r["code"] == 0, r)
    check("i-HA reply fields", r["home"] == IHOA and r["ha"] == IHA and r["id"] >> 32 == ident >> 32, r)
    kinds = [t for t, _ in r["exts"]]
    check("i-HA reply: TNC (RFC 5265 3.4) before the MN-HA authenticator",
          149 in kinds and kinds.index(149) < kinds.index(32), kinds)
    check("i-HA reply authenticator", r["auth_ok"], r)


def cvc(mn_sa, user):
    """RFC 5265 4.4, the triple encapsulation of a user packet from outside:
    x-MIP (IP-in-IP to the x-HA) / ESP (tunnel mode to the gateway) /
    i-MIP (IP-in-IP from the VPN-TIA to the i-HA) / user packet."""
    return Ether(src=MN_MAC, dst=EXT_MAC) / IP(src=COA, dst=XHA) / mn_sa.encrypt(IP(src=TIA, dst=IHA) / user)


def open_cvc(p, gw_sa, what):
    """The user packet inside a triple encapsulation to the mobile node."""
    imip = open_tunnel(p, gw_sa, what)
    check(what + ": i-MIP layer", imip.src == IHA and imip.dst == TIA and imip.proto == 4, imip.summary())
    return imip.payload


def udp_ok(u):
    """The UDP checksum of IP packet u is right (RFC 768)."""
    want = u.copy()
    del want[UDP].chksum
    return IP(bytes(want))[UDP].chksum == u[UDP].chksum


def slice_user(topo, app, mn, mn_sa, gw_sa):
    """User traffic both ways through x-HA, ipsec-secgw and i-HA."""
    cn = udp_socket(topo, "cn", CN, 34500)
    n = 3
    for i in range(n):
        mn.send(cvc(mn_sa, IP(src=IHOA, dst=CN, id=300 + i) / UDP(sport=33434, dport=34500) /
                    Raw(b"from mn %d" % i)))
    for i in range(n):
        got = recv_until(cn, 10, lambda dd, a: True)
        check("cn received datagram %d" % i, got is not None, app.output())
        data, addr = got
        check("cn datagram %d is the mobile node's" % i, data == b"from mn %d" % i and addr == (IHOA, 33434),
              (data, addr))
        # The correspondent answers from its kernel's socket.
        cn.sendto(b"to mn %d" % i, addr)
        p = mn.recv(lambda q: from_xha(q) and q[IP].payload.proto == 50, 10)
        check("reply %d at the mobile node" % i, p is not None, app.output())
        u = open_cvc(p, gw_sa, "reply %d" % i)
        check("reply %d: the correspondent's datagram" % i,
              u.src == CN and u.dst == IHOA and UDP in u and u[UDP].sport == 34500 and
              u[UDP].dport == 33434 and bytes(u[UDP].payload) == b"to mn %d" % i, u.summary())
        check("reply %d: UDP checksum" % i, udp_ok(u), u.show(dump=True))
    cn.close()

    # Ping from the mobile node (its i-HoA) to the correspondent's kernel.
    for seq in range(1, 3):
        mn.send(cvc(mn_sa, IP(src=IHOA, dst=CN) / ICMP(type=8, id=0x4d4e, seq=seq) / Raw(b"mn ping")))
        p = mn.recv(lambda q: from_xha(q) and q[IP].payload.proto == 50, 10)
        check("echo reply %d at the mobile node" % seq, p is not None, app.output())
        u = open_cvc(p, gw_sa, "echo reply %d" % seq)
        check("echo reply %d from the correspondent" % seq,
              u.src == CN and u.dst == IHOA and ICMP in u and u[ICMP].type == 0 and u[ICMP].id == 0x4d4e and
              u[ICMP].seq == seq and bytes(u[ICMP].payload) == b"mn ping", u.summary())

    # Ping from the correspondent's kernel to the mobile node (i-HoA): the
    # request reaches the mobile node triple encapsulated; it answers the
    # same way back.
    with topo.enter("cn"):
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    for seq in range(1, 3):
        msg = struct.pack("!BBHHH", 8, 0, 0, 0x434e, seq) + b"cn ping"
        msg = msg[:2] + struct.pack("!H", inet_csum(msg)) + msg[4:]
        s.sendto(msg, (IHOA, 0))
        p = mn.recv(lambda q: from_xha(q) and q[IP].payload.proto == 50, 10)
        check("echo request %d at the mobile node" % seq, p is not None, app.output())
        u = open_cvc(p, gw_sa, "echo request %d" % seq)
        check("echo request %d from the correspondent" % seq,
              u.src == CN and u.dst == IHOA and ICMP in u and u[ICMP].type == 8 and u[ICMP].seq == seq,
              u.summary())
        mn.send(cvc(mn_sa, IP(src=IHOA, dst=CN) / ICMP(type=0, id=u[ICMP].id, seq=seq) /
                    Raw(bytes(u[ICMP].payload))))

        def reply(dd, a):
            icmp = dd[(dd[0] & 15) * 4:]
            return a[0] == IHOA and icmp[:1] == b"\0" and icmp[4:8] == msg[4:8]
        got = recv_until(s, 10, reply)
        check("cn ping %d answered by the mobile node" % seq, got is not None, app.output())
    s.close()


def slice_fences(topo, app, mn, mn_sa):
    """What must not get through."""
    cn = udp_socket(topo, "cn", CN, 34501)
    udp = UDP(sport=33434, dport=34501)
    eth = Ether(src=MN_MAC, dst=EXT_MAC)
    mn.send(eth / IP(src=COA, dst=CN) / udp / Raw(b"plain from outside"))
    mn.send(eth / IP(src=COA, dst=XHA) / IP(src=XHOA, dst=CN) / udp / Raw(b"x-MIP, no ESP"))
    bad_sa = SecurityAssociation(ESP, spi=SPI_IN, crypt_algo="AES-GCM", crypt_key=bytes(20),
                                 tunnel_header=IP(src=XHOA, dst=GW))
    bad_sa.seq_num = 1000
    mn.send(eth / IP(src=COA, dst=XHA) / bad_sa.encrypt(IP(src=TIA, dst=IHA) / IP(src=IHOA, dst=CN) / udp /
                                                         Raw(b"wrong key")))
    # The one that must arrive, sent last: when it is there, the others had their chance.
    mn.send(cvc(mn_sa, IP(src=IHOA, dst=CN) / udp / Raw(b"through the VPN")))
    got = []
    while True:
        g = recv_until(cn, 3 if not got else 0.5, lambda dd, a: True)
        if g is None:
            break
        got.append(g[0])
    cn.close()
    check("fences: only the VPN's datagram reached the correspondent", got == [b"through the VPN"], got)

    # Registration with the i-HA in clear from outside: no reply.
    s = udp_socket(topo, "mn", COA, 434)
    mn.send(eth / IP(src=COA, dst=IHA) / UDP(sport=434, dport=434) /
            Raw(signed_rrq_ext(IHOA, IHA, COA, ntp_now(), I_SPI, I_KEY, FLAGS_DT)))
    got = recv_until(s, 1.5, lambda dd, a: True)
    s.close()
    check("fences: no reply to a registration with the i-HA from outside", got is None, got)


def cvc_udp(mn_sa, user):
    """cvc with the x-MIP layer in UDP (RFC 3519 3.3: tunnel data, next
    header 4) from the care-of address's port 434."""
    return (Ether(src=MN_MAC, dst=EXT_MAC) / IP(src=COA, dst=XHA) / UDP(sport=434, dport=434) /
            MobileIP(type=4) / MobileIPTunnelData(nexthdr=4) / mn_sa.encrypt(IP(src=TIA, dst=IHA) / user))


def from_xha_udp(q):
    """x-MIP tunnel data in UDP from the x-HA to the care-of address."""
    return (IP in q and q[IP].src == XHA and q[IP].dst == COA and UDP in q and q[UDP].sport == 434 and
            q[UDP].dport == 434 and bytes(q[UDP].payload)[:1] == b"\x04")


def open_cvc_udp(p, gw_sa, what):
    """The user packet inside UDP tunnel data to the mobile node, every
    layer checked."""
    td = bytes(p[UDP].payload)
    check(what + ": tunnel data header", td[0] == 4 and td[1] == 4, td[:4].hex())
    vpn = IP(td[4:])
    check(what + ": VPN layer", vpn.src == GW and vpn.dst == XHOA and vpn.proto == 50, vpn.summary())
    imip = gw_sa.decrypt(vpn)
    check(what + ": i-MIP layer", imip.src == IHA and imip.dst == TIA and imip.proto == 4, imip.summary())
    return imip.payload


def slice_udp_tunnel(topo, app, mn, mn_sa, gw_sa):
    """x-MIP over UDP (RFC 3519) around the same ESP tunnel."""
    # UDP Tunnel Request (RFC 3519 3.1): sub-type 0, reserved, F (force),
    # encapsulation 4 (IP-in-IP inside the UDP tunnel), reserved.
    req = mip_ext(144, bytes([0, 0, 0x80, 4, 0, 0]))
    s = udp_socket(topo, "mn", COA, 434)
    ident = ntp_now()
    s.sendto(signed_rrq_ext(XHOA, XHA, COA, ident, X_SPI, X_KEY, FLAGS_DT, exts=req), (XHA, 434))
    got = recv_until(s, 5, lambda dd, a: a == (XHA, 434))
    s.close()
    check("x-HA UDP tunnel reply received", got is not None, app.output())
    r = rrp_parse(got[0], X_SPI, X_KEY)
    check("x-HA UDP tunnel reply code 0", r is not None and r["code"] == 0, r)
    check("x-HA UDP tunnel reply authenticator", r["auth_ok"], r)
    tun = [data for t, data in r["exts"] if t == 44]
    check("x-HA UDP Tunnel Reply (RFC 3519 3.2), code 0", len(tun) == 1 and len(tun[0]) == 6 and tun[0][1] == 0,
          r["exts"])

    cn = udp_socket(topo, "cn", CN, 34502)
    for i in range(2):
        mn.send(cvc_udp(mn_sa, IP(src=IHOA, dst=CN) / UDP(sport=33435, dport=34502) / Raw(b"udp tunnel %d" % i)))
        got = recv_until(cn, 10, lambda dd, a: True)
        check("udp tunnel: cn received %d" % i, got is not None and got[0] == b"udp tunnel %d" % i and
              got[1] == (IHOA, 33435), got)
        cn.sendto(b"udp back %d" % i, got[1])
        p = mn.recv(from_xha_udp, 10)
        check("udp tunnel: reply %d at the mobile node in UDP 434 tunnel data" % i, p is not None, app.output())
        u = open_cvc_udp(p, gw_sa, "udp tunnel %d" % i)
        check("udp tunnel: the correspondent's datagram %d" % i, u.src == CN and u.dst == IHOA and UDP in u and
              bytes(u[UDP].payload) == b"udp back %d" % i and udp_ok(u), u.summary())
    cn.close()


def slice_deregister(topo, app, mn, mn_sa, gw_sa):
    """Deregistration with the i-HA through the tunnel (RFC 5944 3.8.3.1:
    lifetime 0): the reply still comes back; then the correspondent's
    datagrams for the i-HoA go nowhere."""
    ident = ntp_now()
    rrq = UDP(sport=434, dport=434) / Raw(signed_rrq_ext(IHOA, IHA, TIA, ident, I_SPI, I_KEY, FLAGS_DT,
                                                           lifetime=0))
    mn.send(cvc_udp(mn_sa, rrq))
    p = mn.recv(from_xha_udp, 10)
    check("i-HA deregistration reply through the tunnel", p is not None, app.output())
    td = bytes(p[UDP].payload)
    inner = gw_sa.decrypt(IP(td[4:]))
    check("i-HA deregistration reply addresses", inner.src == IHA and inner.dst == TIA and UDP in inner,
          inner.summary())
    r = rrp_parse(bytes(inner[UDP].payload), I_SPI, I_KEY)
    check("i-HA deregistration reply code 0, lifetime 0, authenticated",
          r is not None and r["code"] == 0 and r["lifetime"] == 0 and r["auth_ok"], r)
    cn = udp_socket(topo, "cn", CN, 34503)
    cn.sendto(b"after deregistration", (IHOA, 33436))
    cn.close()
    p = mn.recv(from_xha_udp, 1.5)
    check("nothing for the i-HoA after deregistration", p is None, p and p.summary())


def tshark_check(pcap):
    """A second opinion on every frame of the mobile node's link: tshark
    checks IPv4 and UDP checksums, decrypts both SAs' ESP (inside IP-in-IP
    and RFC 3519 tunnel data) and checks every ICV; only the fences' wrong
    key may fail, and nothing may be malformed."""
    def uat(spi, src, dst, k):
        return 'uat:esp_sa:"IPv4","%s","%s","0x%08x","AES-GCM with 16 octet ICV [RFC4106]","0x%s","NULL",""' % (
            src, dst, spi, k.hex())
    t = subprocess.run([TSHARK, "-r", pcap, "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
                        "-o", "esp.enable_encryption_decode:TRUE", "-o", "esp.enable_authentication_check:TRUE",
                        "-o", uat(SPI_IN, XHOA, GW, KEY_IN), "-o", uat(SPI_OUT, GW, XHOA, KEY_OUT),
                        "-T", "fields", "-E", "separator=|", "-e", "frame.number", "-e", "esp.spi",
                        "-e", "esp.icv_good", "-e", "esp.icv_bad", "-e", "ip.checksum.status",
                        "-e", "udp.checksum.status", "-e", "_ws.malformed", "-e", "_ws.col.Info"],
                       capture_output=True, text=True, timeout=60)
    check("tshark ran", t.returncode == 0, t.stderr)
    rows = [line.split("|") for line in t.stdout.splitlines()]
    esp_in = [r for r in rows if r[1] == "0x%08x" % SPI_IN]
    esp_out = [r for r in rows if r[1] == "0x%08x" % SPI_OUT]
    check("tshark: ESP to the gateway, all good but the wrong key",
          len(esp_in) > 5 and sum(r[3] == "1" for r in esp_in) == 1 and
          sum(r[2] == "1" for r in esp_in) == len(esp_in) - 1, esp_in)
    check("tshark: ipsec-secgw's ESP, every ICV good", len(esp_out) > 5 and all(r[2] == "1" for r in esp_out),
          esp_out)
    # Checksum status 0 is "bad" (1 good, 2 unverified), at any layer.
    bad = [r for r in rows if "0" in r[4].split(",") or "0" in r[5].split(",") or r[6]]
    check("tshark: no bad checksum, nothing malformed", not bad, bad)
    check("tshark: Mobile IP registrations dissected",
          sum("Reg Reply" in r[7] and "Code=0" in r[7] for r in rows) == 4, [r[7] for r in rows])


def run(d, topo, prefix):
    for n in ["mn", "app", "gw", "cn"]:
        topo.add(n)
    topo.link("mn", "eth0", MN_MAC, "app", "ext", EXT_MAC)
    topo.link("app", "gwu", GWU_MAC, "gw", "u", U_MAC)
    topo.link("app", "gwp", GWP_MAC, "gw", "p", P_MAC)
    topo.link("app", "int", INT_MAC, "cn", "eth0", CN_MAC)
    topo.host("mn", "eth0", COA + "/24")
    topo.host("cn", "eth0", CN + "/24", gateway=INT)

    conf = os.path.join(d, "mipvpnd.conf")
    with open(conf, "w") as f:
        f.write(mipvpnd_config(prefix))
    r = topo.sh("app", [MIPVPND, "--check", "-c", conf], check=False)
    check("mipvpnd --check", r.returncode == 0, r.stdout + r.stderr)
    sg_conf = os.path.join(d, "secgw.cfg")
    with open(sg_conf, "w") as f:
        f.write(secgw_config())
    secgw = build_secgw()
    cpus = sorted(os.sched_getaffinity(0))
    cpu = cpus[-1]
    mn_sa = SecurityAssociation(ESP, spi=SPI_IN, crypt_algo="AES-GCM", crypt_key=KEY_IN,
                                tunnel_header=IP(src=XHOA, dst=GW))
    gw_sa = SecurityAssociation(ESP, spi=SPI_OUT, crypt_algo="AES-GCM", crypt_key=KEY_OUT,
                                tunnel_header=IP(src=GW, dst=XHOA))
    pcap = os.path.join(d, "mn.pcap")
    gw = app = cap = mn = None
    try:
        # One lcore, busy polling: niced so that it shares the CPU with the rest.
        gw = Daemon(topo, "gw", [
            "nice", "-n", "10", secgw, "--no-huge", "-m", "1024", "--no-pci", "-l", str(cpu),
            "--file-prefix=%s-gw" % prefix, "--no-telemetry",
            "--vdev", "net_af_packet0,iface=u", "--vdev", "net_af_packet1,iface=p", "--vdev", "crypto_aesni_gcm0",
            "--", "-p", "0x3", "-P", "-u", "0x1", "--config", "(0,0,%d),(1,0,%d)" % (cpu, cpu), "-f", sg_conf],
            os.path.join(d, "secgw.log"))
        LIVE["daemons"].append(gw)
        app = Daemon(topo, "app", [MIPVPND, "-c", conf, "--idle-sleep-us", "200"], os.path.join(d, "mipvpnd.log"))
        LIVE["daemons"].append(app)
        # Everything on the mobile node's link, for tshark afterwards.
        cap = Daemon(topo, "mn", [TCPDUMP, "-i", "eth0", "--immediate-mode", "-U", "-s", "0", "-w", pcap],
                     os.path.join(d, "tcpdump.log"))
        LIVE["daemons"].append(cap)
        mn = Wire(topo, "mn", "eth0")
        # Start-up is slow on a loaded machine (mipvpnd under ASan: EAL).
        check("tcpdump running", cap.wait_for("listening on", 20), cap.output())
        check("ipsec-secgw running", gw.wait_for("entering main loop", 60), gw.output())
        check("mipvpnd running", app.wait_for("mipvpnd: running", 60), app.output())
        slice_xha(topo, app)
        slice_iha(topo, app, mn, mn_sa, gw_sa)
        slice_user(topo, app, mn, mn_sa, gw_sa)
        slice_fences(topo, app, mn, mn_sa)
        slice_udp_tunnel(topo, app, mn, mn_sa, gw_sa)
        slice_deregister(topo, app, mn, mn_sa, gw_sa)
        check("ipsec-secgw still running", gw.alive(), gw.output())
    finally:
        # Every process started is stopped (killed if it must be) before
        # the namespaces go.
        if mn:
            mn.close()
        rc = app.stop(signal.SIGTERM) if app else None
        gw_rc = gw.stop(signal.SIGINT) if gw else None
        if cap:
            cap.stop(signal.SIGINT)
        if app:
            print("--- mipvpnd\n" + app.output())
        if gw:
            print("--- ipsec-secgw (end)\n" + gw.output()[-2500:])
    out = app.output()
    check("mipvpnd exit 0", rc == 0, "rc %s" % rc)
    check("ipsec-secgw exit 0", gw_rc == 0, "rc %s" % gw_rc)
    # The fences' ESP under a wrong key: the gateway's own ICV check refused it.
    check("ipsec-secgw refused the wrong key", gw.output().count("esp_inbound_post() failed crypto op") == 1,
          gw.output()[-2000:])
    tshark_check(pcap)
    for what in [
            # x-HA twice (IP-in-IP, then UDP), i-HA through the tunnel, i-HA from outside
            # (dropped), i-HA deregistration through the tunnel.
            "registrations 5", "replies_sent 4", "xha: bindings 1 registered 2",
            "iha: bindings 0 registered 1 deregistered 1",
            # The correspondent's datagram after it.
            "drop no_route 1",
            # Plain and x-MIP-only traffic from outside to the correspondent.
            "drop unprotected 2",
            # In: i-HA registration, 3 UDP, 2 echo requests, 2 echo replies; in the fences
            # an x-MIP without ESP, one with the wrong key, one good; over UDP 2, and the
            # deregistration. Out: the same less what the fences stopped.
            "stage xmip_decap 14", "stage imip_decap 10", "stage imip_encap 9", "stage xmip_encap 11"]:
        check("summary: " + what, what in out, out)
    print("e2e secgw: %d checks passed" % mipvpnd_util.checked)


def main():
    if os.geteuid() != 0:
        sys.exit("FAIL e2e_secgw needs root (network namespaces)")
    prefix = "mve2e-%d" % os.getpid()
    d = tempfile.mkdtemp(prefix="mipvpn-e2e-")
    topo = Topology(prefix)
    LIVE["topo"] = topo
    LIVE["dirs"] = [d, "/var/run/dpdk/%s-app" % prefix, "/var/run/dpdk/%s-gw" % prefix]
    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        run(d, topo, prefix)
    finally:
        topo.close()
        shutil.rmtree(d, ignore_errors=True)
        shutil.rmtree("/var/run/dpdk/%s-app" % prefix, ignore_errors=True)
        shutil.rmtree("/var/run/dpdk/%s-gw" % prefix, ignore_errors=True)


if __name__ == "__main__":
    main()
