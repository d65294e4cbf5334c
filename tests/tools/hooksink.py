#!/usr/bin/python3
"""A webhook receiver for the notification tests.

    hooksink.py PORT DIR [--fail N]

Each POST is kept as DIR/NNNN.json (the body) and DIR/NNNN.headers (its
headers as a JSON object, names in lower case, and its path as ":path"),
numbered in arrival order. With --fail N the first N requests are answered 503 (and not
kept), as by a receiver that is down for a while.
"""
import http.server
import json
import os
import sys


class Sink(http.server.BaseHTTPRequestHandler):
    seen = 0
    kept = 0

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Sink.seen += 1
        if Sink.seen <= FAIL:
            self.send_response(503)
            self.end_headers()
            return
        Sink.kept += 1
        stem = os.path.join(DIR, "%04d" % Sink.kept)
        with open(stem + ".tmp", "wb") as f:
            f.write(body)
        with open(stem + ".headers", "w") as f:
            h = {k.lower(): v for k, v in self.headers.items()}
            h[":path"] = self.path
            json.dump(h, f)
        os.rename(stem + ".tmp", stem + ".json")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"ok": true}')

    def do_GET(self):
        """Grafana's health, for the readiness check."""
        self.send_response(200 if self.path == "/api/health" else 404)
        self.end_headers()

    def log_message(self, fmt, *args):
        pass


PORT, DIR = int(sys.argv[1]), sys.argv[2]
FAIL = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[3] == "--fail" else 0
os.makedirs(DIR, exist_ok=True)
http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Sink).serve_forever()
