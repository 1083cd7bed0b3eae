"""A local HTTP receiver standing in for a DingTalk robot or any webhook: records every POST."""
from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Receiver(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server API
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.posts.append({"path": self.path, "headers": dict(self.headers), "body": json.loads(body or b"null")})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"errcode": 0, "errmsg": "ok"}')

    def log_message(self, *args):
        pass


@contextmanager
def receiver():
    """A running receiver: ``.url`` to post to, ``.posts`` what it got."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    server.posts = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}/robot/send?access_token=test"
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
