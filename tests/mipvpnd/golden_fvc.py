"""fvc through the combined appliance (RFC 5265 sections 1.2 and 4): the
mobile node uses a foreign agent's care-of address, so the x-MIP tunnel
ends at the foreign agent. net_pcap ports read veths in a network
namespace (mipvpnd_util.LiveNet), so the registration is answered before
the traffic that needs its binding.

  outside in:  IP(FA -> x-HA) / UDP(434 -> 434) / Registration Request relayed by the FA
               (source = FA, care-of address = FA, D bit clear, T bit: reverse tunnel, RFC 3024;
               the x-HA requires it: the same request without T first is refused with 138)
  outside out (control queue): the Registration Reply, code 0, to the FA's address and port
  outside in:  IP(FA -> x-HA) / IP(x-HoA -> GW) / ESP / IP(VPN-TIA -> i-HA) / IP(i-HoA -> CN) / UDP
               (the FA's reverse tunnel)
  inside out:  IP(i-HoA -> CN), TTL - 1
  inside in:   IP(CN -> i-HoA)
  outside out: IP(x-HA -> FA) / IP(GW -> x-HoA) / ESP / IP(i-HA -> VPN-TIA) / IP(CN -> i-HoA)
  outside in:  the same tunnel packet from another address than the FA: refused (coa_mismatch)

Then the x-HA alone (roles = ["xha"]) with the same foreign agent, in front
of another party's VPN gateway: ESP passes through it untouched.

The i-HA's binding is an operator binding (IP-in-IP to the VPN-TIA); the
x-HA's binding is read back through telemetry (/mipvpn/bindings): care-of
address and peer = FA, IP-in-IP, flags T without D.

usage: golden_fvc.py MIPVPND
"""
import os
import shutil
import subprocess
import sys

import mipvpnd_util  # noqa: E402
from mipvpnd_util import LiveDaemon, check, minus_ttl, ntp_now, signed_rrq_ext, telemetry, user_datagram, live_net_dir  # noqa: E402,E501
from scapy.all import Ether, IP, UDP, Raw, rdpcap, wrpcap  # noqa: E402
from scapy.layers.ipsec import ESP, SecurityAssociation  # noqa: E402

MIPVPND = sys.argv[1]
TSHARK = shutil.which("tshark")
if TSHARK is None:
    sys.exit("tshark not found: this test needs it (Debian package tshark)")

OUT_MAC, IN_MAC = "02:00:00:00:00:01", "02:00:00:00:00:02"
ROUTER_MAC, CN_MAC = "02:00:00:00:01:01", "02:00:00:00:02:14"
ROUTER, GW, XHA, XHOA, FA = "198.51.100.1", "198.51.100.11", "198.51.100.10", "198.51.100.50", "192.0.2.200"
ROGUE = "192.0.2.201"
IHA, TIA, IHOA, CN = "10.1.0.2", "10.99.0.5", "10.10.0.5", "10.1.0.20"
SPI_IN, SPI_OUT = 0x1001, 0x2001
KEY_IN = bytes(range(0x10, 0x24))    # AES-128 key || 4-byte salt (RFC 4106)
KEY_OUT = bytes(range(0x40, 0x54))
XMN = (300, bytes.fromhex("a87a7be5629f2d47f2839c370531778e"), b"mn1@example.org")
PREFIX = "mipvpn-fvc-%d" % os.getpid()


def config(net, d):
    sa = ('{ spi = %d; direction = "%s"; suite = "aes-128-gcm"; key = "%s"; src = "%s"; dst = "%s";'
          ' selector = "%s/32"; }')
    return "\n".join([
        'eal = ["--no-huge", "-m", "256", "--no-pci", "--file-prefix=%s"];' % PREFIX,
        'roles = ["xha", "vpngw", "iha"];',
        "workers = 1;",
        "ports = ( %s, %s );" % (net.port(d, "outside", 0, GW + "/24", OUT_MAC, False),
                                 net.port(d, "inside", 1, "10.1.0.1/16", IN_MAC, True)),
        'neighbours = ( { address = "%s"; mac = "%s"; port = "outside"; },'
        ' { address = "%s"; mac = "%s"; port = "inside"; } );' % (ROUTER, ROUTER_MAC, CN, CN_MAC),
        'routes = ( { prefix = "0.0.0.0/0"; via = "%s"; } );' % ROUTER,
        'xha = { addresses = ["%s"]; reverse_tunnel_required = true;'
        ' mobile_nodes = ( { home = "%s"; nai = "%s"; spi = %d; key = "%s"; } ); };' % (
            XHA, XHOA, XMN[2].decode(), XMN[0], XMN[1].hex()),
        'vpngw = { address = "%s"; allow_static_gcm = true; sas = ( %s, %s ); };' % (
            GW, sa % (SPI_IN, "in", KEY_IN.hex(), XHOA, GW, TIA), sa % (SPI_OUT, "out", KEY_OUT.hex(), GW, XHOA, TIA)),
        'iha = { addresses = ["%s"]; trusted_networks = ["10.99.0.0/16"];'
        ' bindings = ( { home = "%s"; care_of = "%s"; } ); };' % (IHA, IHOA, TIA),
    ]) + "\n"


def user(src, dst, i, ttl=20):
    return user_datagram(src, dst, i, ttl, b"fvc", 700)


def run(net, d):
    with open(d + "/mipvpnd.conf", "w") as f:
        f.write(config(net, d))
    dm = LiveDaemon(MIPVPND, d + "/mipvpnd.conf", PREFIX)
    try:
        run_live(net, d, dm)
    finally:
        dm.kill()


def run_live(net, d, dm):
    eth = Ether(src=ROUTER_MAC, dst=OUT_MAC)
    # 1. The FA relays the request (RFC 5944 3.7.1): from its own address and
    #    port 434; care-of address = FA; D clear (the FA decapsulates); T set.
    #    First without T: the x-HA requires reverse tunnelling (138, RFC 3024 4.2).
    now = ntp_now()
    body = signed_rrq_ext(XHOA, XHA, FA, now, XMN[0], XMN[1], flags=0x00, nai=XMN[2])
    net.send("outside", [eth / IP(src=FA, dst=XHA) / UDP(sport=434, dport=434) / Raw(body)])
    st = dm.wait("the request without T", lambda s: s["control"]["registrations"] >= 1)
    check("no T refused", st["xha"]["refused"] == 1 and st["xha"]["bindings"] == 0, st["xha"])
    body = signed_rrq_ext(XHOA, XHA, FA, now + 1, XMN[0], XMN[1], flags=0x02, nai=XMN[2])
    net.send("outside", [eth / IP(src=FA, dst=XHA) / UDP(sport=434, dport=434) / Raw(body)])
    st = dm.wait("the relayed registration", lambda s: s["control"]["registrations"] >= 2)
    check("x-HA binding", st["xha"]["bindings"] == 1 and st["xha"]["accepted"] == 1, st["xha"])
    b = [v for v in telemetry(PREFIX, "/mipvpn/bindings,xha").values() if isinstance(v, dict)]
    check("binding to the FA", len(b) == 1 and b[0]["home"] == XHOA and b[0]["care_of"] == FA and
          b[0]["peer"] == FA and b[0]["encap"] == "ipip" and "T" in b[0]["flags"] and "D" not in b[0]["flags"], b)

    # 2. The FA's reverse tunnel (RFC 3024) carrying the mobile node's ESP; a
    #    copy from another address; the reply from the correspondent.
    mn_sa = SecurityAssociation(ESP, spi=SPI_IN, crypt_algo="AES-GCM", crypt_key=KEY_IN,
                                tunnel_header=IP(src=XHOA, dst=GW))
    up = [user(IHOA, CN, i) for i in range(3)]
    esp = [mn_sa.encrypt(IP(src=TIA, dst=IHA) / u, seq_num=i + 1) for i, u in enumerate(up)]
    net.send("outside", [eth / IP(src=FA, dst=XHA) / e for e in esp])
    rogue = mn_sa.encrypt(IP(src=TIA, dst=IHA) / user(IHOA, CN, 9), seq_num=9)
    net.send("outside", [eth / IP(src=ROGUE, dst=XHA) / rogue])
    down = [user(CN, IHOA, 10 + i, ttl=30) for i in range(2)]
    net.send("inside", [Ether(src=CN_MAC, dst=IN_MAC) / p for p in down])
    dm.wait_rx(2 + 3 + 1 + 2)
    dr = dm.drops()
    check("rogue tunnel refused", dr["stage"]["coa_mismatch"] == 1, dr["stage"])
    out = dm.stop()

    got = rdpcap(d + "/inside_w0.pcap")
    check("inside count", len(got) == len(up), [p.summary() for p in got])
    for i, p in enumerate(got):
        check("inside eth %d" % i, p[Ether].dst == CN_MAC and p[Ether].src == IN_MAC, p.summary())
        check("inside packet %d" % i, bytes(p[IP]) == minus_ttl(up[i]), p.show(dump=True))

    got = rdpcap(d + "/outside_w0.pcap")
    check("outside count", len(got) == len(down), [p.summary() for p in got])
    gw_sa = SecurityAssociation(ESP, spi=SPI_OUT, crypt_algo="AES-GCM", crypt_key=KEY_OUT,
                                tunnel_header=IP(src=GW, dst=XHOA))
    for i, p in enumerate(got):
        check("outside eth %d" % i, p[Ether].dst == ROUTER_MAC and p[Ether].src == OUT_MAC, p.summary())
        xmip = p[IP]
        check("x-MIP to the FA %d" % i, xmip.src == XHA and xmip.dst == FA and xmip.proto == 4, xmip.summary())
        vpn = xmip.payload
        check("VPN layer %d" % i, vpn.src == GW and vpn.dst == XHOA and vpn.proto == 50, vpn.summary())
        imip = gw_sa.decrypt(IP(bytes(vpn)))
        check("i-MIP layer %d" % i, imip.src == IHA and imip.dst == TIA and imip.proto == 4, imip.summary())
        check("user packet %d" % i, bytes(imip.payload) == minus_ttl(down[i]), imip.show(dump=True))
    uat = '"IPv4","%s","%s","0x%08x","AES-GCM with 16 octet ICV [RFC4106]","0x%s","NULL",""' % (
        GW, XHOA, SPI_OUT, KEY_OUT.hex())
    t = subprocess.run([TSHARK, "-r", d + "/outside_w0.pcap", "-o", "esp.enable_encryption_decode:TRUE",
                        "-o", "esp.enable_authentication_check:TRUE", "-o", "uat:esp_sa:" + uat,
                        "-T", "fields", "-e", "esp.icv_good", "-e", "ip.dst"], capture_output=True, text=True)
    rows = [r.split("\t") for r in t.stdout.strip().splitlines()]
    check("tshark esp", t.returncode == 0 and len(rows) == 2 and
          all(r[0] == "1" and r[1].split(",")[:4] == [FA, XHOA, TIA, IHOA] for r in rows), t.stdout + t.stderr)

    got = rdpcap(d + "/outside_ctl.pcap")
    check("rrp count", len(got) == 2, [p.summary() for p in got])
    body = bytes(got[0][UDP].payload)
    check("rrp 138 to the FA", got[0][IP].dst == FA and body[0] == 3 and body[1] == 138, body[:4].hex())
    rrp = got[1]
    check("rrp to the FA", rrp[IP].src == XHA and rrp[IP].dst == FA and rrp[UDP].sport == 434 and
          rrp[UDP].dport == 434 and rrp[Ether].dst == ROUTER_MAC, rrp.summary())
    body = bytes(rrp[UDP].payload)
    check("rrp code 0", body[0] == 3 and body[1] == 0, body[:4].hex())
    wrpcap(d + "/rrp.pcap", [rrp])
    t = subprocess.run([TSHARK, "-r", d + "/rrp.pcap", "-V", "-O", "mip"], capture_output=True, text=True)
    check("tshark mip", t.returncode == 0 and "Reg Accepted (0)" in t.stdout and "Home Address: " + XHOA in t.stdout
          and "Malformed" not in t.stdout, t.stdout[-1500:])

    for what in ["stage xmip_decap 3", "stage esp_inb 3", "stage imip_decap 3", "stage imip_encap 2",
                 "stage esp_outb 2", "stage xmip_encap 2", "drop coa_mismatch 1", "registrations 2",
                 "replies_sent 2", "xha: bindings 1 registered 1"]:
        check("summary: " + what, what in out, out)


GW_MAC = "02:00:00:00:01:0b"


def run_xha(net, d):
    """The x-HA alone (roles = ["xha"], one external port): an operator's
    home agent in front of someone else's VPN gateway. The FA's reverse
    tunnel is decapsulated and the mobile node's ESP forwarded, untouched
    but for its TTL, to the gateway; the gateway's ESP for the x-HoA is
    tunnelled to the FA."""
    prefix = PREFIX + "-x"
    conf = "\n".join([
        'eal = ["--no-huge", "-m", "256", "--no-pci", "--file-prefix=%s"];' % prefix,
        'roles = ["xha"];',
        "workers = 1;",
        "ports = ( %s );" % net.port(d, "xonly", 0, "198.51.100.12/24", OUT_MAC, False),
        'neighbours = ( { address = "%s"; mac = "%s"; port = "xonly"; },'
        ' { address = "%s"; mac = "%s"; port = "xonly"; } );' % (ROUTER, ROUTER_MAC, GW, GW_MAC),
        'routes = ( { prefix = "0.0.0.0/0"; via = "%s"; } );' % ROUTER,
        'xha = { addresses = ["%s"]; mobile_nodes = ( { home = "%s"; nai = "%s"; spi = %d; key = "%s"; } ); };' % (
            XHA, XHOA, XMN[2].decode(), XMN[0], XMN[1].hex()),
    ]) + "\n"
    with open(d + "/x.conf", "w") as f:
        f.write(conf)
    dm = LiveDaemon(MIPVPND, d + "/x.conf", prefix)
    try:
        eth = Ether(src=ROUTER_MAC, dst=OUT_MAC)
        body = signed_rrq_ext(XHOA, XHA, FA, ntp_now(), XMN[0], XMN[1], flags=0x02, nai=XMN[2])
        net.send("xonly", [eth / IP(src=FA, dst=XHA) / UDP(sport=434, dport=434) / Raw(body)])
        dm.wait("the relayed registration (x-HA alone)", lambda st: st["xha"]["accepted"] >= 1)
        esp_up = [IP(src=XHOA, dst=GW, ttl=40, id=800 + i, proto=50) /
                  Raw((SPI_IN).to_bytes(4, "big") + (i + 1).to_bytes(4, "big") + os.urandom(40)) for i in range(2)]
        net.send("xonly", [eth / IP(src=FA, dst=XHA) / e for e in esp_up])
        dm.wait_rx(3)
        esp_down = [IP(src=GW, dst=XHOA, ttl=50, id=900 + i, proto=50) /
                    Raw((SPI_OUT).to_bytes(4, "big") + (i + 1).to_bytes(4, "big") + os.urandom(40)) for i in range(2)]
        net.send("xonly", [Ether(src=GW_MAC, dst=OUT_MAC) / e for e in esp_down])
        dm.wait_rx(5)
        out = dm.stop()
    finally:
        dm.kill()
    got = rdpcap(d + "/xonly_w0.pcap")
    check("x-HA alone count", len(got) == 4, [p.summary() for p in got])
    for i, p in enumerate(got[:2]):
        check("x-HA alone to the gateway %d" % i, p[Ether].dst == GW_MAC and bytes(p[IP]) == minus_ttl(esp_up[i]),
              p.show(dump=True))
    for i, p in enumerate(got[2:]):
        o = p[IP]
        check("x-HA alone to the FA %d" % i, p[Ether].dst == ROUTER_MAC and o.src == XHA and o.dst == FA and
              o.proto == 4 and bytes(o.payload) == minus_ttl(esp_down[i]), p.show(dump=True))
    got = rdpcap(d + "/xonly_ctl.pcap")
    check("x-HA alone rrp", len(got) == 1 and got[0][IP].dst == FA and bytes(got[0][UDP].payload)[:2] == b"\x03\x00",
          [p.summary() for p in got])
    # forward: the four datagrams and the reply (the control thread's pipeline)
    for what in ["stage xmip_decap 2", "stage xmip_encap 2", "stage forward 5", "xha: bindings 1 registered 1"]:
        check("x-HA alone summary: " + what, what in out, out)


def main():
    with live_net_dir("mipvpn-fvc-", ["outside", "inside", "xonly"]) as (net, d):
        run(net, d)
        run_xha(net, d)
        print("golden fvc: %d checks passed" % mipvpnd_util.checked)


if __name__ == "__main__":
    main()
