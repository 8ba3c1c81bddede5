#!/usr/bin/python3
"""Our outbound ESP, checked by tshark (Wireshark's ESP dissector, written
by nobody here): every packet we produce must decrypt with esp.icv_good and
carry the original inner packet. GCM and CBC+SHA1 (and the other suites),
with and without RFC 3948 UDP encapsulation."""
import subprocess
import sys

from esp_common import SUITES, TUN_DST, TUN_SRC, Workdir, inner_packets, keys, run_tool, wrpcap, IP

tool = sys.argv[1]
SPI = 0x1001
failures = []

for suite in SUITES:
    for natt in (None, (4500, 4500)):
        key, akey = keys(suite)
        enc, auth = SUITES[suite][4], SUITES[suite][5]
        pkts = inner_packets(40)
        with Workdir() as w:
            wrpcap(w.path("in.pcap"), pkts, linktype=101)
            res = run_tool(tool, "encrypt", suite, SPI, key, akey, w.path("in.pcap"), w.path("esp.pcap"), natt=natt)
            if res["good"] != len(pkts):
                failures.append((suite, natt, "encrypt dropped", res))
                continue
            uat = '"IPv4","%s","%s","0x%08x","%s","0x%s","%s","%s"' % (
                TUN_SRC, TUN_DST, SPI, enc, key.hex(), auth, "0x" + akey.hex() if akey else "")
            cmd = ["tshark", "-r", w.path("esp.pcap"), "-o", "esp.enable_encryption_decode:TRUE",
                   "-o", "esp.enable_authentication_check:TRUE", "-o", "uat:esp_sa:" + uat,
                   "-o", "udp.try_heuristic_first:FALSE",
                   "-T", "fields", "-E", "separator=|", "-e", "esp.spi", "-e", "esp.sequence",
                   "-e", "esp.icv_good", "-e", "ip.src", "-e", "ip.dst", "-e", "ip.len", "-e", "udp.dstport",
                   "-e", "esp.pad_len"]
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                failures.append((suite, natt, "tshark failed", r.stderr[-500:]))
                continue
            lines = [line for line in r.stdout.splitlines() if line]
            if len(lines) != len(pkts):
                failures.append((suite, natt, "tshark saw %d packets" % len(lines)))
                continue
            for i, (line, p) in enumerate(zip(lines, pkts)):
                spi, seq, good, src, dst, iplen, dport, padlen = line.split("|")
                srcs, dsts, lens = src.split(","), dst.split(","), iplen.split(",")
                ok = (int(spi, 0) == SPI and int(seq) == i + 1 and good in ("1", "True")
                      and srcs[0] == TUN_SRC and dsts[0] == TUN_DST
                      and srcs[-1] == p.src and dsts[-1] == p.dst and int(lens[-1]) == p.len
                      and (natt is None or dport.split(",")[0] == "4500"))
                if not ok:
                    failures.append((suite, natt, i, line))
                    break
        print("%-20s natt=%-5s %d packets: tshark icv_good, inner packets intact" % (suite, bool(natt), len(pkts)))

if failures:
    for f in failures:
        print("FAIL", f)
    sys.exit(1)
