#!/usr/bin/env python3
"""An orders service in Python's standard library, behind nginx and the Tollgate gate.

It knows nothing of tokens, keys or Tollgate: the proxy asked the gate before the request got here, and the gate's
answer arrives as headers (X-Auth-Subject, X-Auth-Client-Id, X-Auth-Scope, X-Auth-Session, X-Auth-Actor). The proxy
sets them on every request, so whatever a client sent under those names never arrives.

    python3 app.py --port 8081

Every request is logged to stdout as one JSON line (what the service saw), and answered in JSON.
"""

import argparse
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

IDENTITY = ("X-Auth-Subject", "X-Auth-Client-Id", "X-Auth-Scope", "X-Auth-Session", "X-Auth-Actor")

orders = {}
lock = threading.Lock()


def identity(headers):
    """The gate's identity headers as the service received them (None: the header did not arrive at all)."""
    return {name: headers.get(name) for name in IDENTITY}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "orders/1"

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        seen = identity(self.headers)
        print(json.dumps({"method": self.command, "path": self.path, "identity": seen}), flush=True)
        subject = seen["X-Auth-Subject"] or ""
        path = self.path.split("?", 1)[0]
        if path == "/health":
            return self.answer(200, {"status": "ok", "seen": seen})
        if path.startswith("/orders"):
            with lock:
                if self.command == "POST":
                    item = json.loads(body or b"{}").get("item", "tea")
                    order = {"id": len(orders) + 1, "item": item, "for": subject}
                    orders[order["id"]] = order
                    return self.answer(201, {"order": order, "seen": seen})
                mine = [o for o in orders.values() if o["for"] == subject]
            return self.answer(200, {"orders": mine, "seen": seen})
        return self.answer(200, {"path": path, "seen": seen})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = handle_any

    def log_message(self, format, *args):
        pass  # the JSON line above is the log


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    print(json.dumps({"listening": f"http://{args.host}:{server.server_port}"}), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
