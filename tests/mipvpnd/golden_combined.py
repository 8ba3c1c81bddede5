"""The combined appliance (x-HA + VPN gateway + i-HA in one mipvpnd, RFC 5265
section 2) on net_pcap ports, with operator bindings from the configuration:

  outside in:  IP(CoA -> x-HA) / IP(x-HoA -> GW) / ESP / IP(VPN-TIA -> i-HA) / IP(i-HoA -> CN) / UDP
  inside out:  IP(i-HoA -> CN) / UDP, TTL - 1                       (the triple decapsulation)
  inside in:   IP(CN -> i-HoA) / UDP
  outside out: IP(x-HA -> CoA) / IP(GW -> x-HoA) / ESP / IP(i-HA -> VPN-TIA) / IP(CN -> i-HoA) / UDP
                                                                     (the triple encapsulation)
  outside in:  IP(CoA -> x-HA) / IP(x-HoA -> GW) / ESP / IP(VPN-TIA -> i-HA) / UDP 434 / Registration Request
  outside out (control queue): the Registration Reply, code 0, with the Trusted Networks Configured
               extension (RFC 5265 3.4), back through ESP and the x-MIP tunnel (RFC 5265 4.3)

scapy builds the mobile node's packets (its own SecurityAssociation for the
ESP layer) and opens ours layer by layer; tshark decrypts our ESP and must
find its ICV good.

usage: golden_combined.py MIPVPND
"""
import os
import shutil
import subprocess
import sys
import tempfile

import mipvpnd_util  # noqa: E402
from mipvpnd_util import check, ntp_now, pcap_port, run_daemon, signed_rrq  # noqa: E402
from scapy.all import Ether, IP, UDP, Raw, rdpcap, wrpcap  # noqa: E402
from scapy.layers.ipsec import ESP, SecurityAssociation  # noqa: E402

MIPVPND = sys.argv[1]
TSHARK = shutil.which("tshark")
if TSHARK is None:
    sys.exit("tshark not found: this test needs it (Debian package tshark)")

OUT_MAC, IN_MAC = "02:00:00:00:00:01", "02:00:00:00:00:02"
ROUTER_MAC, CN_MAC = "02:00:00:00:01:01", "02:00:00:00:02:14"
ROUTER, GW, XHA, XHOA, COA = "198.51.100.1", "198.51.100.11", "198.51.100.10", "198.51.100.50", "192.0.2.77"
IHA, TIA, IHOA, CN = "10.1.0.2", "10.99.0.5", "10.10.0.5", "10.1.0.20"
SPI_IN, SPI_OUT = 0x1001, 0x2001
KEY_IN = bytes(range(0x10, 0x24))    # AES-128 key || 4-byte salt (RFC 4106)
KEY_OUT = bytes(range(0x40, 0x54))
MN_SPI, MN_KEY = 256, bytes.fromhex("25191ae63fa7027f453ef34924953506")


def config(d):
    sa = ('{ spi = %d; direction = "%s"; suite = "aes-128-gcm"; key = "%s"; src = "%s"; dst = "%s";'
          ' selector = "%s/32"; }')
    return "\n".join([
        'eal = ["--no-huge", "-m", "256", "--no-pci", "--file-prefix=mipvpn-combined-%d"];' % os.getpid(),
        'roles = ["xha", "vpngw", "iha"];',
        "workers = 1;",
        "ports = ( %s, %s );" % (pcap_port(d, "outside", 0, GW + "/24", OUT_MAC, False),
                                 pcap_port(d, "inside", 1, "10.1.0.1/16", IN_MAC, True)),
        'neighbours = ( { address = "%s"; mac = "%s"; port = "outside"; },'
        ' { address = "%s"; mac = "%s"; port = "inside"; } );' % (ROUTER, ROUTER_MAC, CN, CN_MAC),
        'routes = ( { prefix = "0.0.0.0/0"; via = "%s"; } );' % ROUTER,
        'xha = { addresses = ["%s"]; bindings = ( { home = "%s"; care_of = "%s"; } ); };' % (XHA, XHOA, COA),
        'vpngw = { address = "%s"; allow_static_gcm = true; sas = ( %s, %s ); };' % (
            GW, sa % (SPI_IN, "in", KEY_IN.hex(), XHOA, GW, TIA), sa % (SPI_OUT, "out", KEY_OUT.hex(), GW, XHOA, TIA)),
        # The request's timestamp is taken when the input pcap is written,
        # before the daemon starts (slow under the sanitizers): a wide tolerance.
        'iha = { addresses = ["%s"]; trusted_networks = ["10.99.0.0/16"]; timestamp_tolerance = 300;'
        ' bindings = ( { home = "%s"; care_of = "%s"; } );'
        ' mobile_nodes = ( { home = "%s"; nai = "mn1@example.org"; spi = %d; key = "%s"; } ); };' % (
            IHA, IHOA, TIA, IHOA, MN_SPI, MN_KEY.hex()),
    ]) + "\n"


def run(d):
    mn_sa = SecurityAssociation(ESP, spi=SPI_IN, crypt_algo="AES-GCM", crypt_key=KEY_IN,
                                tunnel_header=IP(src=XHOA, dst=GW))
    user = [IP(src=IHOA, dst=CN, ttl=20, id=200 + i) / UDP(sport=33434, dport=34500) / Raw(b"from mn %d" % i)
            for i in range(4)]
    cvc = [IP(src=COA, dst=XHA) / mn_sa.encrypt(IP(src=TIA, dst=IHA) / u, seq_num=i + 1)
           for i, u in enumerate(user)]
    # The i-HA registration through the tunnel: co-located care-of address = VPN-TIA.
    rrq = IP(src=TIA, dst=IHA) / UDP(sport=434, dport=434) / Raw(signed_rrq(IHOA, IHA, TIA, ntp_now(), MN_SPI, MN_KEY))
    cvc.append(IP(src=COA, dst=XHA) / mn_sa.encrypt(rrq, seq_num=len(cvc) + 1))
    wrpcap(d + "/outside_in.pcap", [Ether(src=ROUTER_MAC, dst=OUT_MAC) / p for p in cvc])
    reply = IP(src=CN, dst=IHOA, ttl=30, id=7) / UDP(sport=34500, dport=33434) / Raw(b"to mn")
    wrpcap(d + "/inside_in.pcap", [Ether(src=CN_MAC, dst=IN_MAC) / reply])
    with open(d + "/mipvpnd.conf", "w") as f:
        f.write(config(d))

    out = run_daemon(MIPVPND, d + "/mipvpnd.conf")

    # The triple decapsulation: the user packets, TTL - 1, to the correspondent.
    got = rdpcap(d + "/inside_w0.pcap")
    check("inside count", len(got) == len(user), [p.summary() for p in got])
    for i, p in enumerate(got):
        check("inside eth %d" % i, p[Ether].dst == CN_MAC and p[Ether].src == IN_MAC, p.summary())
        want = user[i].copy()
        want.ttl -= 1
        del want.chksum
        check("inside packet %d" % i, bytes(p[IP]) == bytes(IP(bytes(want))), p.show(dump=True))

    # The triple encapsulation of the reply, opened layer by layer.
    got = rdpcap(d + "/outside_w0.pcap")
    check("outside count", len(got) == 1, [p.summary() for p in got])
    p = got[0]
    check("outside eth", p[Ether].dst == ROUTER_MAC and p[Ether].src == OUT_MAC, p.summary())
    xmip = p[IP]
    check("x-MIP layer", xmip.src == XHA and xmip.dst == COA and xmip.proto == 4, xmip.summary())
    vpn = xmip.payload
    check("VPN layer", vpn.src == GW and vpn.dst == XHOA and vpn.proto == 50, vpn.summary())
    gw_sa = SecurityAssociation(ESP, spi=SPI_OUT, crypt_algo="AES-GCM", crypt_key=KEY_OUT,
                                tunnel_header=IP(src=GW, dst=XHOA))
    imip = gw_sa.decrypt(IP(bytes(vpn)))
    check("i-MIP layer", imip.src == IHA and imip.dst == TIA and imip.proto == 4, imip.summary())
    want = reply.copy()
    want.ttl -= 1
    del want.chksum
    check("user packet", bytes(imip.payload) == bytes(IP(bytes(want))), imip.show(dump=True))
    uat = '"IPv4","%s","%s","0x%08x","AES-GCM with 16 octet ICV [RFC4106]","0x%s","NULL",""' % (
        GW, XHOA, SPI_OUT, KEY_OUT.hex())
    t = subprocess.run([TSHARK, "-r", d + "/outside_w0.pcap", "-o", "esp.enable_encryption_decode:TRUE",
                        "-o", "esp.enable_authentication_check:TRUE", "-o", "uat:esp_sa:" + uat,
                        "-T", "fields", "-e", "esp.icv_good", "-e", "ip.src"],
                       capture_output=True, text=True)
    fields = t.stdout.strip().split("\t")
    check("tshark esp", t.returncode == 0 and fields[0] == "1", t.stdout + t.stderr)
    check("tshark layers", fields[-1].split(",")[:4] == [XHA, GW, IHA, CN], t.stdout)

    # The registration reply: on the control queue, through ESP and the x-MIP tunnel.
    got = rdpcap(d + "/outside_ctl.pcap")
    check("rrp count", len(got) == 1, [p.summary() for p in got])
    p = got[0]
    check("rrp x-MIP", p[IP].src == XHA and p[IP].dst == COA and p[IP].proto == 4, p.summary())
    inner = gw_sa.decrypt(IP(bytes(p[IP].payload)))
    check("rrp addresses", inner.src == IHA and inner.dst == TIA and UDP in inner and inner[UDP].sport == 434,
          inner.summary())
    body = bytes(inner[UDP].payload)
    check("rrp code 0", body[0] == 3 and body[1] == 0, body[:4].hex())
    exts = body[20:]
    kinds = []
    while len(exts) >= 2:
        kinds.append(exts[0])
        exts = exts[2 + exts[1]:]
    check("rrp TNC before MN-HA auth", 149 in kinds and 32 in kinds and kinds.index(149) < kinds.index(32), kinds)

    for what in ["stage xmip_decap 5", "stage esp_inb 5", "stage imip_decap 4", "stage imip_encap 1",
                 "stage esp_outb 2", "stage xmip_encap 2", "stage punt 1", "registrations 1", "replies_sent 1",
                 "xha: bindings 1", "iha: bindings 1 registered 2"]:
        check("summary: " + what, what in out, out)
    print("golden combined: %d checks passed" % mipvpnd_util.checked)


def main():
    d = tempfile.mkdtemp(prefix="mipvpn-combined-")
    try:
        run(d)
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
