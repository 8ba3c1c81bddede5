"""mipvpnd end to end on net_pcap ports (golden files): the x-HA and the VPN
gateway roles in one daemon, fed with traffic that scapy builds, the output
checked by scapy (ESP opened with its own SecurityAssociation) and by tshark
(ESP decrypted, ICV verified; registration reply dissected as Mobile IP).

Outside port: an ARP request for the gateway, a Registration Request to the
x-HA (NAI + MN-HA HMAC-MD5, timestamp now), ESP from the mobile node's x-HoA
(three good, a replay, an unknown SPI, a truncated datagram). Inside port: a
datagram for the mobile node's VPN inner address. Expected: an ARP reply and
a Registration Reply (code 0) on the outside control queue, the three inner
datagrams (TTL - 1) inside, one ESP datagram outside, and the bad ones
counted by reason in the daemon's exit summary.

usage: golden_mipvpnd.py MIPVPND
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import mipvpnd_util  # noqa: E402
from mipvpnd_util import check, ntp_now, pcap_port, run_daemon, signed_rrq  # noqa: E402
from scapy.all import ARP, Ether, IP, UDP, Raw, rdpcap, wrpcap  # noqa: E402
from scapy.layers.ipsec import ESP, SecurityAssociation  # noqa: E402

MIPVPND = sys.argv[1]
TSHARK = shutil.which("tshark")
if TSHARK is None:
    sys.exit("tshark not found: this test needs it (Debian package tshark)")

OUT_MAC, IN_MAC = "02:00:00:00:00:01", "02:00:00:00:00:02"
GW_MAC, MN_MAC, CN_MAC = "02:00:00:00:01:01", "02:00:00:00:01:32", "02:00:00:00:02:14"
GW, XHA, ROUTER, XHOA = "198.51.100.11", "198.51.100.10", "198.51.100.1", "198.51.100.50"
TIA, CN, COA = "10.99.0.5", "10.1.0.20", "192.0.2.77"
SPI_IN, SPI_OUT = 0x1001, 0x2001
KEY_IN = bytes(range(0x10, 0x24))    # AES-128 key || 4-byte salt (RFC 4106)
KEY_OUT = bytes(range(0x40, 0x54))
MN_SPI, MN_KEY = 300, bytes.fromhex("a87a7be5629f2d47f2839c370531778e")

def rrq(ident):
    return signed_rrq(XHOA, XHA, COA, ident, MN_SPI, MN_KEY)


def config(d):
    def port(name, n, addr, mac, internal):
        return pcap_port(d, name, n, addr, mac, internal)
    sa = ('{ spi = %d; direction = "%s"; suite = "aes-128-gcm"; key = "%s"; src = "%s"; dst = "%s";'
          ' selector = "%s/32"; }')
    return "\n".join([
        'eal = ["--no-huge", "-m", "256", "--no-pci", "--file-prefix=mipvpn-golden-%d"];' % os.getpid(),
        'roles = ["xha", "vpngw"];',
        "workers = 1;",
        "ports = ( %s, %s );" % (port("outside", 0, GW + "/24", OUT_MAC, False),
                                 port("inside", 1, "10.1.0.1/16", IN_MAC, True)),
        "neighbours = ( %s );" % ", ".join(
            '{ address = "%s"; mac = "%s"; port = "%s"; }' % a for a in
            [(ROUTER, GW_MAC, "outside"), (XHOA, MN_MAC, "outside"), (CN, CN_MAC, "inside")]),
        'routes = ( { prefix = "0.0.0.0/0"; via = "%s"; } );' % ROUTER,
        # The request's timestamp is taken when the input pcap is written,
        # before the daemon starts (slow under the sanitizers): a wide tolerance.
        'xha = { addresses = ["%s"]; timestamp_tolerance = 300; mobile_nodes = ( { home = "%s"; nai = "mn1@example.org"; '
        'spi = %d; key = "%s"; } ); };' % (XHA, XHOA, MN_SPI, MN_KEY.hex()),
        'vpngw = { address = "%s"; allow_static_gcm = true; sas = ( %s, %s ); };' % (
            GW, sa % (SPI_IN, "in", KEY_IN.hex(), XHOA, GW, TIA), sa % (SPI_OUT, "out", KEY_OUT.hex(), GW, XHOA, TIA)),
    ]) + "\n"


def main():
    d = tempfile.mkdtemp(prefix="mipvpn-golden-")
    try:
        run(d)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def run(d):
    mn_sa = SecurityAssociation(ESP, spi=SPI_IN, crypt_algo="AES-GCM", crypt_key=KEY_IN,
                                tunnel_header=IP(src=XHOA, dst=GW))
    inner = [IP(src=TIA, dst=CN, ttl=20, id=100 + i) / UDP(sport=33434, dport=34500) / Raw(b"user %d" % i)
             for i in range(3)]
    esp = [mn_sa.encrypt(p, seq_num=i + 1) for i, p in enumerate(inner)]
    now_ntp = ntp_now()
    eth = Ether(src=GW_MAC, dst=OUT_MAC)
    outside_in = [
        Ether(src=GW_MAC, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=GW_MAC, psrc=ROUTER, pdst=GW),
        eth / IP(src=COA, dst=XHA) / UDP(sport=434, dport=434) / Raw(rrq(now_ntp)),
    ] + [eth / p for p in esp] + [
        eth / esp[1],                                                   # replayed
        eth / IP(src=XHOA, dst=GW, proto=50) / Raw(struct.pack("!II", 0x7777, 1) + bytes(40)),  # unknown SPI
        Ether(src=GW_MAC, dst=OUT_MAC, type=0x0800) / Raw(bytes(IP(src=XHOA, dst=GW, proto=50) / Raw(bytes(40)))[:30]),  # truncated IPv4
    ]
    wrpcap(d + "/outside_in.pcap", outside_in)
    reply = IP(src=CN, dst=TIA, ttl=30, id=7) / UDP(sport=34500, dport=33434) / Raw(b"reply")
    wrpcap(d + "/inside_in.pcap", [Ether(src=CN_MAC, dst=IN_MAC) / reply])
    with open(d + "/mipvpnd.conf", "w") as f:
        f.write(config(d))

    r = subprocess.run([MIPVPND, "--check", "-c", d + "/mipvpnd.conf"], capture_output=True, text=True)
    check("check", r.returncode == 0, r.stdout + r.stderr)
    out = run_daemon(MIPVPND, d + "/mipvpnd.conf")

    # Inside: the three inner datagrams, TTL - 1, to the correspondent's MAC.
    got = rdpcap(d + "/inside_w0.pcap")
    check("inside count", len(got) == 3, [p.summary() for p in got])
    for i, p in enumerate(got):
        check("inside eth", p[Ether].dst == CN_MAC and p[Ether].src == IN_MAC, p.summary())
        want = inner[i].copy()
        want.ttl -= 1
        del want.chksum
        check("inside packet %d" % i, bytes(p[IP]) == bytes(IP(bytes(want))), p.show(dump=True))

    # Outside, worker queue: the reply, ESP to the mobile node's x-HoA.
    got = rdpcap(d + "/outside_w0.pcap")
    check("outside count", len(got) == 1, [p.summary() for p in got])
    p = got[0]
    check("outside eth", p[Ether].dst == MN_MAC, p.summary())
    check("outside esp", p[IP].src == GW and p[IP].dst == XHOA and p[IP].proto == 50, p.summary())
    gw_sa = SecurityAssociation(ESP, spi=SPI_OUT, crypt_algo="AES-GCM", crypt_key=KEY_OUT,
                                tunnel_header=IP(src=GW, dst=XHOA))
    dec = gw_sa.decrypt(IP(bytes(p[IP])))
    want = reply.copy()
    want.ttl -= 1
    del want.chksum
    check("outside inner", bytes(dec) == bytes(IP(bytes(want))), dec.show(dump=True))
    uat = '"IPv4","%s","%s","0x%08x","AES-GCM with 16 octet ICV [RFC4106]","0x%s","NULL",""' % (
        GW, XHOA, SPI_OUT, KEY_OUT.hex())
    t = subprocess.run([TSHARK, "-r", d + "/outside_w0.pcap", "-o", "esp.enable_encryption_decode:TRUE",
                        "-o", "esp.enable_authentication_check:TRUE", "-o", "uat:esp_sa:" + uat,
                        "-T", "fields", "-e", "esp.icv_good", "-e", "ip.dst"],
                       capture_output=True, text=True)
    check("tshark esp", t.returncode == 0 and t.stdout.split("\t")[0].strip() == "1", t.stdout + t.stderr)

    # Outside, control queue: the ARP reply and the Registration Reply.
    got = rdpcap(d + "/outside_ctl.pcap")
    arps = [p for p in got if ARP in p]
    check("arp reply", len(arps) == 1 and arps[0][ARP].op == 2 and arps[0][ARP].psrc == GW and
          arps[0][ARP].hwsrc == OUT_MAC and arps[0][Ether].dst == GW_MAC, [p.summary() for p in got])
    rrps = [p for p in got if UDP in p and p[UDP].sport == 434]
    check("rrp", len(rrps) == 1, [p.summary() for p in got])
    rrp = rrps[0]
    check("rrp addresses", rrp[IP].src == XHA and rrp[IP].dst == COA and rrp[Ether].dst == GW_MAC,
          rrp.summary())
    body = bytes(rrp[UDP].payload)
    check("rrp code 0", body[0] == 3 and body[1] == 0, body[:4].hex())
    wrpcap(d + "/rrp.pcap", [rrp])
    t = subprocess.run([TSHARK, "-r", d + "/rrp.pcap", "-V", "-O", "mip"], capture_output=True, text=True)
    check("tshark mip", t.returncode == 0 and "Registration Reply" in t.stdout and
          "Malformed" not in t.stdout and "Reg Accepted (0)" in t.stdout, t.stdout[-1500:])

    # The bad input, counted by reason.
    for what in ["esp_inb replayed 1", "drop unknown_spi 1", "drop truncated 1", "registrations 1",
                 "replies_sent 1", "arp_replies 1", "xha: bindings 1"]:
        check("summary: " + what, what in out, out)
    print("golden mipvpnd: %d checks passed" % mipvpnd_util.checked)


if __name__ == "__main__":
    main()
