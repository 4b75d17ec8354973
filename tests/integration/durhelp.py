"""durhelp -- helpers for the durability and import/export tests.

- DataDaemon: twinnetd on a loopback port 0 with a data directory that
  outlives the process, so a test can kill -9 it and start it again on the
  same --data; optional preexec (resource limits).
- journal_records(): the record framing of store.h read back in Python
  (offset, header, payload length), to cut or damage files at exact places.
- dump(): every node and pair of a server (node.list and pair.list pages).
- cli(): run the twinnet CLI.

Every wait is bounded; everything binds 127.0.0.1.
"""

import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import zlib

from tnharness import RawClient, cli_path, daemon_path, source_dir  # noqa: F401  (re-exported)

HDR = 16
MAGIC = b"TNR1"




class DataDaemon:
    """twinnetd on a data directory. start() may be called again after
    kill9() or stop(): the directory stays until cleanup()."""

    def __init__(self, data_dir=None, args=(), empty=True, preexec_fn=None):
        self.work = tempfile.mkdtemp(prefix="tndur-")
        self.data = data_dir or os.path.join(self.work, "data")
        self.args = list(args)
        self.empty = empty
        self.preexec_fn = preexec_fn
        self.proc = None
        self.port = None
        self.starts = 0
        self.log_path = None

    def command(self, port_file):
        cmd = [daemon_path(), "--listen", "127.0.0.1:0", "--port-file", port_file,
               "--data", self.data]
        if self.empty:
            cmd.append("--empty")
        return cmd + self.args

    def start(self, timeout=60.0, expect_fail=False):
        """Start; returns self. With expect_fail, wait for the exit and
        return (exit code, log) instead."""
        self.starts += 1
        port_file = os.path.join(self.work, "port%d" % self.starts)
        self.log_path = os.path.join(self.work, "log%d" % self.starts)
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.command(port_file), stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=log, preexec_fn=self.preexec_fn)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rc = self.proc.poll()
            if rc is not None:
                if expect_fail:
                    self.proc = None
                    return rc, self.log()
                raise RuntimeError("twinnetd exited with %s at start: %s" % (rc, self.log()))
            try:
                with open(port_file) as f:
                    text = f.read().strip()
                if text:
                    port = int(text)
                    with socket.create_connection(("127.0.0.1", port), timeout=2):
                        pass
                    self.port = port
                    if expect_fail:
                        raise AssertionError("twinnetd started although it should not have")
                    return self
            except (OSError, ValueError):
                pass
            time.sleep(0.01)
        self.proc.kill()
        self.proc.wait(timeout=10)
        raise RuntimeError("twinnetd did not start within %.0f s: %s" % (timeout, self.log()))

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except (OSError, TypeError):
            return ""

    @property
    def pid(self):
        return self.proc.pid

    def client(self, timeout=60.0):
        return RawClient(self.port, timeout=timeout)

    def kill9(self):
        if self.proc is not None:
            try:
                self.proc.send_signal(signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=20)
            self.proc = None

    def stop(self, timeout=30.0):
        """SIGTERM; asserts a clean exit 0."""
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            raise AssertionError("twinnetd did not stop within %.0f s" % timeout)
        self.proc = None
        if rc != 0:
            raise AssertionError("twinnetd exited with %s: %s" % (rc, self.log()[-3000:]))

    def cleanup(self):
        if self.proc is not None:
            self.kill9()
        shutil.rmtree(self.work, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.data, name)


def journal_records(path):
    """[(offset, payload_length)] of the records in a store file, checking
    the framing as store.c does (header CRC and payload CRC)."""
    with open(path, "rb") as f:
        data = f.read()
    out = []
    off = 0
    while off + HDR <= len(data):
        magic, plen, pcrc, hcrc = struct.unpack_from("<4sIII", data, off)
        if magic != MAGIC or zlib.crc32(data[off:off + 12]) & 0xffffffff != hcrc:
            raise AssertionError("%s: bad header at %d" % (path, off))
        payload = data[off + HDR:off + HDR + plen]
        if len(payload) != plen or zlib.crc32(payload) & 0xffffffff != pcrc:
            raise AssertionError("%s: bad record at %d" % (path, off))
        out.append((off, plen))
        off += HDR + plen
    if off != len(data):
        raise AssertionError("%s: %d stray bytes at the end" % (path, len(data) - off))
    return out


def page_all(client, method, key_limit, params=None, timeout=120.0):
    items = []
    offset = 0
    while True:
        p = dict(params or {}, limit=key_limit, offset=offset)
        res = client.call(method, p, timeout=timeout)
        got = res["items"]
        items.extend(got)
        offset += len(got)
        if not got or offset >= res["total"]:
            return items


def dump(client):
    """(epoch, {id: node}, {(a, b) sorted: pair}) of the whole graph, with
    the epoch checked unchanged around the reads."""
    for _ in range(5):
        e0 = client.call("server.info")["epoch"]
        nodes = {n["id"]: n for n in page_all(client, "node.list", 10000)}
        pairs = {}
        for p in page_all(client, "pair.list", 10000):
            pairs[tuple(sorted((p["a"], p["b"])))] = p
        if client.call("server.info")["epoch"] == e0:
            return e0, nodes, pairs
    raise AssertionError("the graph kept changing while it was read")


def cli(port, *args, timeout=300, stdin=None):
    """Run the CLI; CompletedProcess with text stdout/stderr."""
    cmd = [cli_path(), "--port", str(port)] + [str(a) for a in args]
    return subprocess.run(cmd, stdin=subprocess.DEVNULL if stdin is None else stdin,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                          encoding="utf-8", errors="replace")


def fsize_limit(limit_bytes):
    """A preexec_fn: RLIMIT_FSIZE = limit, SIGXFSZ ignored (so a write past
    the limit fails with EFBIG instead of killing the process)."""
    def pre():
        import resource
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))
    return pre
