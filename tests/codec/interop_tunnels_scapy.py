#!/usr/bin/python3
"""Tunnel codecs against scapy (a peer nobody here wrote).

IP in IP (RFC 2003), Mobile IP UDP tunnelling (RFC 3519, scapy.layers.mobileip)
and UDP-encapsulated ESP (RFC 3948, scapy.layers.ipsec): what scapy builds our
decapsulators and classifiers read with the same fields; what our
encapsulators build scapy dissects with correct checksums and the expected
fields. A missing scapy is an ImportError: the test fails."""
import random
import subprocess
import sys

from scapy.all import IP, UDP, TCP, ICMP, Raw  # noqa: E402
from scapy.layers.ipsec import ESP, SecurityAssociation  # noqa: E402
from scapy.layers.isakmp import ISAKMP  # noqa: E402
from scapy.layers.mobileip import MobileIP, MobileIPRRP, MobileIPRRQ, MobileIPTunnelData  # noqa: E402

tool = sys.argv[1]
rng = random.Random(5265)
checked = 0


def run(cmd, lines):
    out = subprocess.run([tool, cmd], input="\n".join(lines) + "\n",
                         capture_output=True, text=True, check=True).stdout.splitlines()
    assert len(out) == len(lines), (cmd, len(out), len(lines))
    return out


def addr():
    return ".".join(str(rng.randrange(1, 255)) for _ in range(4))


def inner_pkt(ttl=None):
    l4 = rng.choice([UDP(sport=rng.randrange(65536), dport=rng.randrange(65536)),
                     TCP(sport=rng.randrange(65536), dport=80, flags="S"), ICMP()])
    return IP(src=addr(), dst=addr(), ttl=rng.randrange(1, 256) if ttl is None else ttl,
              tos=rng.randrange(256), id=rng.randrange(65536),
              flags=rng.choice([0, "DF"])) / l4 / Raw(bytes(rng.randrange(256) for _ in range(rng.randrange(200))))


def ip_checksum_ok(raw):
    q = IP(raw)
    chk = q.chksum
    del q.chksum
    return IP(bytes(q)).chksum == chk


def compare(name, want, got):
    global checked
    bad = [(i, w, g) for i, (w, g) in enumerate(zip(want, got)) if w != g]
    assert not bad, (name, bad[:3])
    checked += len(want)


# ---- IP in IP: scapy -> our decap ----
pkts, want = [], []
for i in range(200):
    inner = inner_pkt(ttl=0 if i % 23 == 0 else None)
    p = IP(src=addr(), dst=addr(), ttl=rng.randrange(1, 256), tos=rng.randrange(256),
           flags=rng.choice([0, "DF"])) / inner
    raw = bytearray(bytes(p))
    q = IP(bytes(raw))
    assert q.proto == 4  # scapy sets protocol 4 for IP / IP
    exp = f"ok {q.src} {q.dst} {q.tos} {q.ttl} {bytes(q[IP].payload).hex()}"
    if i % 23 == 0:
        exp = "err ttl_expired"
    elif i % 7 == 0:
        raw[20 + 10] ^= 0x40  # inner header checksum
        exp = "err bad_inner"
    elif i % 11 == 0:
        raw[10] ^= 0x01  # outer header checksum
        exp = "err bad_checksum"
    elif i % 13 == 0:
        raw = bytearray(bytes(IP(src=q.src, dst=q.dst, flags="MF", proto=4) / Raw(bytes(q[IP].payload)[:16])))
        exp = "err fragment"
    pkts.append(raw.hex())
    want.append(exp)
compare("ipip-decap", want, run("ipip-decap", pkts))

# ---- IP in IP: our encap -> scapy ----
lines, refs = [], []
for i in range(200):
    inner = IP(bytes(inner_pkt()))
    src, dst, ident, ttl, always_df = addr(), addr(), rng.randrange(65536), rng.randrange(1, 256), i % 3 == 0
    lines.append(f"{src} {dst} {ident} {ttl} {int(always_df)} {bytes(inner).hex()}")
    refs.append((inner, src, dst, ident, ttl, always_df))
for out, (inner, src, dst, ident, ttl, always_df) in zip(run("ipip-encap", lines), refs):
    raw = bytes.fromhex(out)
    q = IP(raw)
    assert ip_checksum_ok(raw), "outer checksum differs from scapy's"
    want_df = bool(inner.flags.DF) or always_df  # RFC 2003 3.1
    assert (q.src, q.dst, q.proto, q.ttl, q.id, q.tos, bool(q.flags.DF), q.len, q.frag) == \
        (src, dst, 4, ttl, ident, inner.tos, want_df, 20 + len(inner), 0), q.show(dump=True)
    assert bytes(q.payload) == bytes(inner)
    assert isinstance(q.payload, IP) and q[IP:2].src == inner.src and q[IP:2].ttl == inner.ttl
    checked += 1

# ---- RFC 3519: scapy -> our decap ----
pkts, want = [], []
for i in range(200):
    inner = inner_pkt()
    to_ha = i % 2 == 0
    sport, dport = (rng.randrange(1024, 65536), 434) if to_ha else (434, rng.randrange(1024, 65536))
    udp = UDP(sport=sport, dport=dport) if i % 3 else UDP(sport=sport, dport=dport, chksum=0)
    nexthdr, mtype = 4, 4
    if i % 17 == 5:
        nexthdr = rng.choice([47, 55])
    if i % 19 == 7:
        mtype = 1
    if i % 29 == 3:
        udp.sport, udp.dport = 1000, 2000
    p = IP(src=addr(), dst=addr(), tos=rng.randrange(256)) / udp / MobileIP(type=mtype) / \
        MobileIPTunnelData(nexthdr=nexthdr, res=rng.choice([0, 0, 0xffff])) / inner
    raw = bytearray(bytes(p))
    q = IP(bytes(raw))
    m = MobileIP(bytes(q[UDP].payload))  # scapy binds 434 only when both ports are 434
    if q[UDP].sport != 434 and q[UDP].dport != 434:
        exp = "err bad_port"
    elif m.type != 4:
        exp = "err bad_tunnel_header"
    elif m[MobileIPTunnelData].nexthdr != 4:
        exp = "err bad_next_header"
    else:
        td = m[MobileIPTunnelData]
        exp = f"ok {q.src} {q.dst} {q[UDP].sport} {q[UDP].dport} {bytes(td.payload).hex()}"
        if i % 3 and i % 10 == 1:
            raw[-1] ^= 0x01  # payload byte: UDP checksum (scapy's, non-zero) must fail
            exp = "err bad_checksum"
    pkts.append(raw.hex())
    want.append(exp)
compare("mip-decap", want, run("mip-decap", pkts))

# ---- RFC 3519: our encap -> scapy ----
lines, refs = [], []
for i in range(200):
    inner = IP(bytes(inner_pkt()))
    src, dst = addr(), addr()
    sport, dport = (434, rng.randrange(1024, 65536)) if i % 2 else (rng.randrange(1024, 65536), 434)
    ident, ttl, always_df, csum = rng.randrange(65536), rng.randrange(1, 256), i % 5 == 0, i % 3 == 0
    lines.append(f"{src} {dst} {sport} {dport} {ident} {ttl} {int(always_df)} {int(csum)} {bytes(inner).hex()}")
    refs.append((inner, src, dst, sport, dport, ident, ttl, always_df, csum))
for out, (inner, src, dst, sport, dport, ident, ttl, always_df, csum) in zip(run("mip-encap", lines), refs):
    raw = bytes.fromhex(out)
    q = IP(raw)
    assert ip_checksum_ok(raw)
    assert (q.src, q.dst, q.proto, q.ttl, q.id, q.tos, bool(q.flags.DF), q.len) == \
        (src, dst, 17, ttl, ident, inner.tos, bool(inner.flags.DF) or always_df, 32 + len(inner))
    u = q[UDP]
    assert (u.sport, u.dport, u.len) == (sport, dport, 12 + len(inner))
    if csum:
        chk = u.chksum
        v = IP(raw)
        del v[UDP].chksum
        assert IP(bytes(v))[UDP].chksum == chk != 0, "UDP checksum differs from scapy's"
    else:
        assert u.chksum == 0
    m = MobileIP(bytes(u.payload))
    assert m.type == 4 and m[MobileIPTunnelData].nexthdr == 4 and m[MobileIPTunnelData].res == 0
    assert bytes(m[MobileIPTunnelData].payload) == bytes(inner)
    checked += 1

# ---- UDP/434 classifier ----
payloads, want = [], []
for i in range(60):
    k = i % 4
    if k == 0:
        m = MobileIP(type=1) / MobileIPRRQ(homeaddr=addr(), haaddr=addr(), coaddr=addr(), id=rng.randrange(2**64))
    elif k == 1:
        m = MobileIP(type=3) / MobileIPRRP(code=rng.choice([0, 1, 128]), homeaddr=addr(), haaddr=addr())
    elif k == 2:
        m = MobileIP(type=4) / MobileIPTunnelData(nexthdr=4) / inner_pkt()
    else:
        m = MobileIP(type=rng.choice([0, 2, 5, 255])) / Raw(b"zz")
    payloads.append(bytes(m).hex())
    want.append({1: "rrq", 3: "rrp", 4: "tunnel"}.get(MobileIP(bytes(m)).type, "other"))
compare("mip-classify", want, run("mip-classify", payloads))

# ---- RFC 3948: scapy -> our demux and strip ----
pkts, want, kinds = [], [], []
for i in range(240):
    src, dst, sport = addr(), addr(), rng.choice([4500, rng.randrange(1024, 65536)])
    k = i % 4
    if k == 0:  # ESP, plain fields
        spi = rng.randrange(256, 2**32)
        p = IP(src=src, dst=dst) / UDP(sport=sport, dport=4500) / \
            ESP(spi=spi, seq=rng.randrange(2**32), data=bytes(rng.randrange(256) for _ in range(rng.randrange(8, 120))))
    elif k == 1:  # ESP from scapy's own SA (AES-GCM, NAT-T header)
        sa = SecurityAssociation(ESP, spi=rng.randrange(256, 2**32), crypt_algo="AES-GCM",
                                 crypt_key=bytes(rng.randrange(256) for _ in range(20)),
                                 tunnel_header=IP(src=src, dst=dst),
                                 nat_t_header=UDP(sport=sport, dport=4500))
        p = sa.encrypt(inner_pkt())
        del p[UDP].len  # scapy 2.5.0 bug (see PEERS.md)
        p = IP(bytes(p))
    elif k == 2:  # IKE behind a non-ESP marker
        p = IP(src=src, dst=dst) / UDP(sport=sport, dport=4500) / Raw(b"\0\0\0\0") / \
            ISAKMP(init_cookie=bytes(rng.randrange(256) for _ in range(8)), exch_type=34)
    else:  # NAT-keepalive
        p = IP(src=src, dst=dst) / UDP(sport=sport, dport=4500) / Raw(b"\xff")
    raw = bytes(p)
    q = IP(raw)
    plen = q[UDP].len - 8
    if k == 2:
        assert q[ESP].spi == 0  # scapy reads the marker as an SPI of 0
        exp = f"ok ike 0 {src} {dst} {sport} 4500 28 {plen}"
    elif k == 3:
        exp = f"ok keepalive 0 {src} {dst} {sport} 4500 28 {plen}"
    else:
        exp = f"ok esp {q[ESP].spi} {src} {dst} {q[UDP].sport} {q[UDP].dport} 28 {plen}"
    pkts.append(raw.hex())
    want.append(exp)
    kinds.append((k, q))
compare("natt-demux", want, run("natt-demux", pkts))

for out, (k, q) in zip(run("natt-decap", pkts), kinds):
    if k >= 2:
        assert out == ("err ike_marker" if k == 2 else "err nat_keepalive"), out
        continue
    raw = bytes.fromhex(out)
    r = IP(raw)
    assert ip_checksum_ok(raw), "stripped header's checksum differs from scapy's"
    assert (r.proto, r.src, r.dst, r.len, r.ttl, r.id) == (50, q.src, q.dst, q.len - 8, q.ttl, q.id)
    assert r[ESP].spi == q[ESP].spi and r[ESP].seq == q[ESP].seq and bytes(r[ESP]) == bytes(q[ESP])
    checked += 1

# ---- RFC 3948: our encap -> scapy ----
lines, refs = [], []
for i in range(120):
    e = IP(src=addr(), dst=addr(), id=rng.randrange(65536), tos=rng.randrange(256)) / \
        ESP(spi=rng.randrange(256, 2**32), seq=rng.randrange(2**32),
            data=bytes(rng.randrange(256) for _ in range(rng.randrange(8, 300))))
    e = IP(bytes(e))
    sport = rng.randrange(1024, 65536)
    lines.append(f"{sport} 4500 {bytes(e).hex()}")
    refs.append((e, sport))
for out, (e, sport) in zip(run("natt-encap", lines), refs):
    raw = bytes.fromhex(out)
    q = IP(raw)
    assert ip_checksum_ok(raw)
    assert (q.proto, q.len, q.src, q.dst, q.id, q.tos) == (17, e.len + 8, e.src, e.dst, e.id, e.tos)
    assert (q[UDP].sport, q[UDP].dport, q[UDP].len, q[UDP].chksum) == (sport, 4500, e.len - 20 + 8, 0)
    assert q[ESP].spi == e[ESP].spi and q[ESP].seq == e[ESP].seq and bytes(q[ESP]) == bytes(e[ESP])
    checked += 1

print(f"tunnels vs scapy: {checked} packets agree")
