# SPDX-License-Identifier: BSD-3-Clause
"""Hosts for the end-to-end tests: processes in a namespace with their
output in a file, ICMP echo and UDP from a namespace's kernel, and whole
Ethernet frames on a namespace's interface (scapy builds and parses)."""
import os
import select
import socket
import struct
import time

from scapy.all import Ether


class Daemon:
    """A process in a namespace with its output in a file."""

    def __init__(self, topo, ns, cmd, log_path):
        self.name = cmd[0]
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.proc = topo.popen(ns, cmd, self.log)

    def output(self):
        with open(self.log_path) as f:
            return f.read()

    def wait_for(self, text, timeout):
        end = time.time() + timeout
        while time.time() < end:
            if text in self.output():
                return True
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        return text in self.output()

    def alive(self):
        return self.proc.poll() is None

    def stop(self, sig, timeout=20):
        """Signal it, wait (bounded); its return code, None if it had to be killed."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except Exception:
                self.proc.kill()
                self.proc.wait()
                self.log.close()
                return None
        self.log.close()
        return self.proc.returncode


def inet_csum(b):
    if len(b) % 2:
        b += b"\0"
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while t >> 16:
        t = (t & 0xffff) + (t >> 16)
    return ~t & 0xffff


def ping(topo, ns, dst, count=1, wait=1.0):
    """ICMP echo (RFC 792) from namespace ns's kernel, which resolves the
    next hop by ARP: (all answered, a line per request)."""
    with topo.enter(ns):
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    lines, ok = [], True
    ident = os.getpid() & 0xffff
    for seq in range(1, count + 1):
        data = b"mipvpn e2e %d" % seq
        msg = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + data
        msg = msg[:2] + struct.pack("!H", inet_csum(msg)) + msg[4:]
        t0 = time.time()
        s.sendto(msg, (dst, 0))

        def reply(d, a):
            icmp = d[(d[0] & 15) * 4:]
            return a[0] == dst and icmp[:1] == b"\0" and icmp[4:8] == msg[4:8] and icmp[8:] == data
        got = recv_until(s, wait, reply)
        ok = ok and got is not None
        lines.append("%s seq %d: %s" % (dst, seq, "%.1f ms" % ((time.time() - t0) * 1e3) if got else "no reply"))
    s.close()
    return ok, "\n".join(lines)


def udp_socket(topo, ns, addr, port):
    with topo.enter(ns):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port))
    return s


def recv_until(s, timeout, want):
    """Datagrams from socket s until want(data, addr) holds; (data, addr) or None."""
    end = time.time() + timeout
    while True:
        left = end - time.time()
        if left <= 0 or not select.select([s], [], [], left)[0]:
            return None
        data, addr = s.recvfrom(65535)
        if want(data, addr):
            return data, addr


class Wire:
    """A packet socket on a namespace's interface: whole frames in and out
    (the frames this socket sends itself are not received)."""

    def __init__(self, topo, ns, ifname):
        with topo.enter(ns):
            self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
            self.s.bind((ifname, 0))

    def send(self, frame):
        self.s.send(bytes(frame))

    def recv(self, want, timeout):
        """The first frame (scapy Ether) for which want() holds, or None."""
        end = time.time() + timeout
        while True:
            left = end - time.time()
            if left <= 0 or not select.select([self.s], [], [], left)[0]:
                return None
            data, addr = self.s.recvfrom(65535)
            if addr[2] == socket.PACKET_OUTGOING:
                continue
            p = Ether(data)
            if want(p):
                return p

    def close(self):
        self.s.close()
