#!/usr/bin/env python3
"""server.py CERT KEY BODY: an HTTPS server on 127.0.0.1 (a free port, printed on stdout) for
check_security's TLS cases. POST answers BODY as a text/event-stream (a recorded llama-server
stream); GET answers 404. The certificate in this directory was made for these tests
only (self-signed EC P-256, valid 2000-2099, subjectAltName IP:127.0.0.1 and DNS:localhost);
its key protects nothing."""
import http.server
import ssl
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        self.wfile.write(BODY)

    def do_GET(self):
        self.send_error(404)

    def log_message(self, *args):
        pass


cert, key, body = sys.argv[1:4]
BODY = open(body, "rb").read()
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv = http.server.HTTPServer(("127.0.0.1", 0), Handler)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print(srv.server_address[1], flush=True)
srv.serve_forever()
