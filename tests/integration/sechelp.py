"""sechelp -- helpers for the access-control, limits and audit tests
(test_auth.py, test_limits.py, test_audit.py).

Builds on tnharness (which it does not change):
- token files: fresh random tokens for the roles read, write and admin,
  written with mode 600 in a private temporary directory;
- SecDaemon: tnharness.Daemon plus an optional preexec_fn (to start
  twinnetd under a low RLIMIT_NOFILE) and a chosen listen address;
- run_refused(): start twinnetd with arguments that must make it refuse to
  start; returns the exit code and what it printed;
- authed(): a RawClient already authenticated with a role's token;
- probe(): a separate authenticated client's ping and one reference query;
- /proc readers: fd count, VmRSS, CPU seconds, listening addresses.

Everything binds loopback only; every wait is bounded.
"""

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time

import tnharness as h

ROLES = ("read", "write", "admin")
ORDER = {"read": 0, "write": 1, "admin": 2}
CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---- tokens ----

class Tokens:
    """Three fresh tokens (one per role) in a mode-600 file of a private
    temporary directory. names[role] is the token's name in the file."""

    def __init__(self, extra_lines=()):
        self.dir = tempfile.mkdtemp(prefix="tnsec-")
        self.token = {r: "%s-%s" % (r, secrets.token_hex(16)) for r in ROLES}
        self.names = {"read": "dash-reader", "write": "desk-editor", "admin": "ops-admin"}
        lines = ["# twinnet test tokens: role name token"]
        lines += ["%s %s %s" % (r, self.names[r], self.token[r]) for r in ROLES]
        lines += list(extra_lines)
        self.path = write_file(self.dir, "tokens", "\n".join(lines) + "\n", 0o600)

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def write_file(directory, name, text, mode):
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


# ---- daemons ----

die_with_parent = h._die_with_parent   # one definition, in tnharness


class SecDaemon(h.Daemon):
    """tnharness.Daemon, named for the security tests (a preexec_fn for
    resource limits and a listen address are tnharness options)."""


def run_refused(args, timeout=10.0):
    """Start twinnetd with args (which should make it refuse to start).
    Returns (exit code, output). If it starts listening instead, it is
    stopped and the exit code is reported as None."""
    tmp = tempfile.mkdtemp(prefix="tnsec-r-")
    port_file = os.path.join(tmp, "port")
    cmd = [h.daemon_path(), "--port-file", port_file] + list(args)
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, preexec_fn=die_with_parent)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and proc.poll() is None:
            if os.path.exists(port_file) and os.path.getsize(port_file) > 0:
                break
            time.sleep(0.02)
        if proc.poll() is None:
            proc.kill()
            out = proc.communicate(timeout=10)[0]
            return None, out.decode("utf-8", "replace")
        out = proc.communicate(timeout=10)[0]
        return proc.returncode, out.decode("utf-8", "replace")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)


# ---- clients ----

def authed(daemon, tokens, role, timeout=30.0):
    """A RawClient authenticated with the role's token (checked)."""
    c = daemon.client(timeout=timeout)
    err, res = c.request("auth", {"token": tokens.token[role]})
    if err is not None or res != {"role": role}:
        c.close()
        raise AssertionError("auth as %s failed: %r %r" % (role, err, res))
    return c


def probe(daemon, tokens=None, role="read", timeout=10.0):
    """A separate client (authenticated when tokens are given) gets its pong
    and a correct graph.stats; the daemon is alive. Returns None when all is
    well, else a string saying what failed."""
    if not daemon.alive():
        return "twinnetd is not running (exit %r)" % (daemon.proc.poll(),)
    try:
        with daemon.client(timeout=timeout) as c:
            if tokens is not None:
                err, res = c.request("auth", {"token": tokens.token[role]})
                if err is not None:
                    return "auth failed: %r" % (err,)
            err, res = c.request("server.ping")
            if err is not None or res != "pong":
                return "ping: %r %r" % (err, res)
            err, st = c.request("graph.stats")
            if err is not None:
                return "graph.stats: %r" % (err,)
            if not isinstance(st, dict) or "epoch" not in st or "nodes" not in st:
                return "graph.stats: unexpected %r" % (st,)
    except (OSError, ConnectionError, TimeoutError) as e:
        return "probe failed: %r" % (e,)
    return None


def read_until_closed(sock, timeout, bufsize=65536):
    """Read from a raw socket until EOF/reset or timeout. Returns (bytes,
    closed, seconds waited)."""
    t0 = time.monotonic()
    deadline = t0 + timeout
    data = bytearray()
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return bytes(data), False, time.monotonic() - t0
        sock.settimeout(left)
        try:
            chunk = sock.recv(bufsize)
        except socket.timeout:
            return bytes(data), False, time.monotonic() - t0
        except (ConnectionResetError, BrokenPipeError):
            return bytes(data), True, time.monotonic() - t0
        if not chunk:
            return bytes(data), True, time.monotonic() - t0
        data += chunk


def unpack_all(data):
    """Every msgpack object in data (a complete prefix)."""
    import msgpack
    u = msgpack.Unpacker(raw=False, strict_map_key=False)
    u.feed(data)
    return list(u)


def error_frames(data):
    """The error codes of the responses in data, in order."""
    out = []
    for m in unpack_all(data):
        if isinstance(m, list) and len(m) == 4 and m[0] == 1 and isinstance(m[2], dict):
            out.append(m[2].get("code"))
    return out


# ---- /proc ----

def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def rss_kb(pid):
    return h.proc_mem(pid)[0]


def cpu_seconds(pid):
    """utime + stime of the whole process (all threads), in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        text = f.read()
    fields = text[text.rindex(")") + 2:].split()
    # fields[0] is field 3 (state); utime is field 14, stime field 15.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def socket_inodes(pid):
    out = set()
    d = "/proc/%d/fd" % pid
    for name in os.listdir(d):
        try:
            link = os.readlink(os.path.join(d, name))
        except OSError:
            continue
        if link.startswith("socket:["):
            out.add(link[8:-1])
    return out


def _hex_addr(text, v6):
    addr, port = text.split(":")
    raw = bytes.fromhex(addr)
    if v6:
        # Four host-order 32-bit words.
        b = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
        host = socket.inet_ntop(socket.AF_INET6, b)
    else:
        host = socket.inet_ntop(socket.AF_INET, raw[::-1])
    return host, int(port, 16)


def listening_addrs(pid):
    """[(host, port)] of the TCP sockets pid listens on (/proc/net/tcp, tcp6)."""
    inodes = socket_inodes(pid)
    out = []
    for fname, v6 in (("/proc/net/tcp", False), ("/proc/net/tcp6", True)):
        try:
            with open(fname) as f:
                lines = f.readlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if len(parts) < 10 or parts[3] != "0A":      # 0A = LISTEN
                continue
            if parts[9] in inodes:
                out.append(_hex_addr(parts[1], v6))
    return out


def wait_until(pred, timeout, step=0.02):
    """Poll pred() until it is true or timeout passes; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(step)


def percentile(values, q):
    if not values:
        return float("nan")
    s = sorted(values)
    k = min(len(s) - 1, max(0, int(round(q * (len(s) - 1)))))
    return s[k]
