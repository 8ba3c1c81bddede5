#!/usr/bin/python3
"""IPv4 codec against scapy: scapy's headers (with options, random fields,
corrupted checksums) parse to the same fields; our built headers are
accepted by scapy with a correct checksum."""
import random
import subprocess
import sys

from scapy.all import IP, IPOption_NOP, IPOption_RR, Raw, UDP  # noqa: E402

tool = sys.argv[1]
rng = random.Random(4093)


def run(cmd, lines):
    out = subprocess.run([tool, cmd], input="\n".join(lines) + "\n",
                         capture_output=True, text=True, check=True).stdout
    return out.splitlines()


def addr():
    return ".".join(str(rng.randrange(256)) for _ in range(4))


pkts, want = [], []
for i in range(300):
    opts = [] if i % 3 else [IPOption_NOP()] * rng.randrange(1, 4) + [IPOption_RR(length=7)]
    p = IP(src=addr(), dst=addr(), ttl=rng.randrange(256), tos=rng.randrange(256),
           id=rng.randrange(65536), flags="DF" if i % 2 else 0, options=opts) / UDP() / Raw(b"x" * rng.randrange(64))
    raw = bytearray(bytes(p))
    corrupt = i % 7 == 0
    if corrupt:
        raw[10] ^= 0x01
    pkts.append(raw.hex())
    q = IP(bytes(p))
    want.append("err bad_checksum" if corrupt else
                f"ok {q.ihl * 4} {q.len} {q.proto} {q.ttl} {q.tos} {1 if q.flags.DF else 0} {q.src} {q.dst}")

got = run("ipv4-parse", pkts)
bad = [(w, g) for w, g in zip(want, got) if w != g]
assert len(got) == len(want), (len(got), len(want))
assert not bad, bad[:5]

lines, refs = [], []
for i in range(300):
    src, dst, proto, ttl, tos, ident, df, plen = addr(), addr(), rng.randrange(256), rng.randrange(256), \
        rng.randrange(256), rng.randrange(65536), i % 2, rng.randrange(1400)
    lines.append(f"{src} {dst} {proto} {ttl} {tos} {ident} {df} {plen}")
    refs.append((src, dst, proto, ttl, tos, ident, df, plen))
for hexhdr, (src, dst, proto, ttl, tos, ident, df, plen) in zip(run("ipv4-build", lines), refs):
    q = IP(bytes.fromhex(hexhdr) + b"\0" * plen)
    chk = q.chksum
    del q.chksum
    assert IP(bytes(q)).chksum == chk, "checksum differs from scapy's"
    assert (q.src, q.dst, q.proto, q.ttl, q.tos, q.id, bool(q.flags.DF), q.len) == \
        (src, dst, proto, ttl, tos, ident, bool(df), 20 + plen), hexhdr
print("ipv4 vs scapy: 600 packets agree")
