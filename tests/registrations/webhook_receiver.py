"""A real webhook receiver on 127.0.0.1 for the tests: a `http.server` in a thread that checks
every request's Standard Webhooks signature and answers from a script (500, 500, then 200…)."""

import base64
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self, secret, *, answers=(), delay=0.0):
        self.key = base64.b64decode(secret.removeprefix("whsec_"))
        self.answers = list(answers)  # statuses to give first, then 200
        self.delay = delay
        self.received = []  # every request that reached it: (status given, message)
        self.bad_signatures = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.handle(self, body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook?source=lineup"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def verified(self, headers, body):
        msg_id, stamp = headers["webhook-id"], headers["webhook-timestamp"]
        expected = base64.b64encode(
            hmac.new(self.key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
        ).decode()
        given = [s.removeprefix("v1,") for s in headers["webhook-signature"].split()]
        fresh = abs(time.time() - int(stamp)) < 300
        return fresh and any(hmac.compare_digest(expected, s) for s in given)

    def handle(self, request, body):
        if self.delay:
            time.sleep(self.delay)
        with self.lock:
            if not self.verified(request.headers, body):
                self.bad_signatures += 1
                status = 401
            else:
                status = self.answers.pop(0) if self.answers else 200
            self.received.append(
                (status, {"id": request.headers["webhook-id"], **json.loads(body)})
            )
        request.send_response(status)
        request.end_headers()
        request.wfile.write(b'{"ok": true}' if status == 200 else b"receiver says no")

    def delivered(self):
        """The messages it accepted (200), in the order they arrived."""
        with self.lock:
            return [message for status, message in self.received if status == 200]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
