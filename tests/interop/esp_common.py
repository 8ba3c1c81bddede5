"""Shared by the ESP interop tests: suites, keys, running esp_tool."""
import json
import os
import subprocess
import tempfile

from scapy.all import IP, UDP, TCP, ICMP, Raw, wrpcap, rdpcap  # noqa: F401

SUITES = {
    # name: (key bytes incl. salt, auth key bytes, scapy crypt, scapy auth,
    #        tshark encryption, tshark authentication)
    "aes-128-gcm": (20, 0, "AES-GCM", None, "AES-GCM with 16 octet ICV [RFC4106]", "NULL"),
    "aes-256-gcm": (36, 0, "AES-GCM", None, "AES-GCM with 16 octet ICV [RFC4106]", "NULL"),
    "aes-128-cbc-sha1": (16, 20, "AES-CBC", "HMAC-SHA1-96", "AES-CBC [RFC3602]", "HMAC-SHA-1-96 [RFC2404]"),
    "aes-256-cbc-sha1": (32, 20, "AES-CBC", "HMAC-SHA1-96", "AES-CBC [RFC3602]", "HMAC-SHA-1-96 [RFC2404]"),
    "aes-128-cbc-sha256": (16, 32, "AES-CBC", "SHA2-256-128", "AES-CBC [RFC3602]", "HMAC-SHA-256-128 [RFC4868]"),
    "aes-256-cbc-sha256": (32, 32, "AES-CBC", "SHA2-256-128", "AES-CBC [RFC3602]", "HMAC-SHA-256-128 [RFC4868]"),
}

TUN_SRC, TUN_DST = "192.0.2.1", "198.51.100.7"


def keys(suite, seed=1):
    klen, alen = SUITES[suite][:2]
    key = bytes((seed * 31 + 7 * i) & 0xFF for i in range(klen))
    akey = bytes((seed * 17 + 13 * i + 5) & 0xFF for i in range(alen))
    return key, akey


def inner_packets(n, seed=0):
    """A mix of sizes and protocols, as a VPN carries them."""
    out = []
    for i in range(n):
        size = [0, 1, 15, 16, 17, 100, 500, 1372][(i + seed) % 8]
        l4 = [UDP(sport=33000 + i, dport=33434), TCP(sport=34000 + i, dport=34500, flags="PA"), ICMP(id=i, seq=i)][i % 3]
        out.append(IP(src="10.1.0.2", dst="10.2.0.%d" % (i % 250 + 1), id=i, tos=(i * 4) & 0xFC,
                      flags="DF" if i % 2 else 0) / l4 / Raw(bytes((i + j) & 0xFF for j in range(size))))
    return [IP(bytes(p)) for p in out]


def run_tool(tool, mode, suite, spi, key, akey, inp, out, natt=None, esn=False, window=None, burst=None):
    cmd = [tool, mode, "--cipher", suite, "--spi", str(spi), "--key", key.hex(),
           "--src", TUN_SRC, "--dst", TUN_DST, "--in", inp, "--out", out]
    if akey:
        cmd += ["--auth-key", akey.hex()]
    if natt:
        cmd += ["--natt", "%d:%d" % natt]
    if esn:
        cmd.append("--esn")
    if window is not None:
        cmd += ["--window", str(window)]
    if burst is not None:
        cmd += ["--burst", str(burst)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError("esp_tool failed: %s\n%s" % (" ".join(cmd), r.stderr))
    return json.loads(r.stdout)


class Workdir:
    def __enter__(self):
        self.d = tempfile.TemporaryDirectory(prefix="mipvpn-interop-")
        return self

    def __exit__(self, *a):
        self.d.cleanup()

    def path(self, name):
        return os.path.join(self.d.name, name)
