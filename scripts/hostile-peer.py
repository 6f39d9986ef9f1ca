#!/usr/bin/env python3
"""The hostile peers of scripts/hostile-rss.sh, and its peak-RSS meter.

  hostile-peer.py serve MODE PORTFILE   a loopback HTTP server; writes its port to PORTFILE
  hostile-peer.py measure CMD...        runs CMD, polls /proc/PID/status VmHWM every 1 ms,
                                        prints "peak_kb=N exit=N wall_s=N"

MODEs (what /v1/completions, /tokenize or any GET answers):
  normal      a 64-token SSE stream, as llama-server sends it (the baseline)
  sse-endless SSE content chunks without end
  sse-ping    SSE comment lines without end (no token, so only timeout_s stops it)
  sse-line    one SSE line of 100 MB, no line break
  tokenize    /tokenize answers 62 MB of token ids (then a normal stream)
  gzip        SSE with Content-Encoding: gzip, 1 GiB inflated (1 MB sent)
  mirror      any GET: bytes without end (a dataset mirror gone wrong)
"""
import http.server
import os
import socketserver
import subprocess
import sys
import time
import zlib

CHUNK = (b'data: {"choices":[{"text":" x","index":0,"finish_reason":null}],'
         b'"model":"m","object":"text_completion"}\n\n')
FINAL = (b'data: {"choices":[{"text":"","index":0,"finish_reason":"length"}],'
         b'"usage":{"completion_tokens":64,"prompt_tokens":16}}\n\ndata: [DONE]\n\n')


def gzip_bomb(inflated):
    """A gzip stream of `inflated` bytes of SSE chunks, built without holding them."""
    co = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = CHUNK * ((1 << 20) // len(CHUNK))
    out, n = [], 0
    while n < inflated:
        out.append(co.compress(block))
        n += len(block)
    out.append(co.flush())
    return b"".join(out)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # bodies end when the connection closes
    mode = "normal"
    bomb = b""

    def log_message(self, *args):
        pass

    def head(self, ctype, extra=()):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()

    def write_for_ever(self, data):
        try:
            while True:
                self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_GET(self):
        if self.mode == "mirror":
            self.head("application/octet-stream")
            self.write_for_ever(b"\0" * 65536)
        else:
            self.send_error(404)

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(n)
        try:
            self.answer()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def answer(self):
        if self.path == "/tokenize" and self.mode == "tokenize":
            self.head("application/json")
            self.wfile.write(b'{"tokens":[')
            piece = b"1," * (1 << 19)
            for _ in range(62 * (1 << 20) // len(piece)):
                self.wfile.write(piece)
            self.wfile.write(b'1]}')
            return
        if self.path != "/v1/completions":
            self.send_error(404)
            return
        if self.mode == "sse-endless":
            self.head("text/event-stream")
            self.write_for_ever(CHUNK)
        elif self.mode == "sse-ping":
            self.head("text/event-stream")
            self.write_for_ever(b": ping\n\n" * 4096)
        elif self.mode == "sse-line":
            self.head("text/event-stream")
            self.wfile.write(b'data: {"choices":[{"text":"')
            piece = b"x" * (1 << 20)
            for _ in range(100):
                self.wfile.write(piece)
            self.wfile.write(b'"}]}\n\n')
        elif self.mode == "gzip":
            self.head("text/event-stream", [("Content-Encoding", "gzip")])
            self.wfile.write(self.bomb)
        else:
            self.head("text/event-stream")
            self.wfile.write(CHUNK * 64 + FINAL)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(mode, portfile):
    Handler.mode = mode
    if mode == "gzip":
        Handler.bomb = gzip_bomb(1 << 30)
    srv = Server(("127.0.0.1", 0), Handler)
    with open(portfile + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(portfile + ".tmp", portfile)
    srv.serve_forever()


def vmhwm_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return None


def measure(cmd):
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while p.poll() is None:
        kb = vmhwm_kb(p.pid)
        if kb is not None and kb > peak:
            peak = kb
        time.sleep(0.001)
    err = p.stderr.read().decode("utf-8", "replace").strip().splitlines()
    print("peak_kb=%d exit=%d wall_s=%.1f" % (peak, p.returncode, time.monotonic() - t0))
    for line in err[-2:]:
        print("  " + line[:300])


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "serve":
        serve(sys.argv[2], sys.argv[3])
    elif len(sys.argv) > 2 and sys.argv[1] == "measure":
        measure(sys.argv[2:])
    else:
        sys.exit(__doc__)
