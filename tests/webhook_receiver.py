"""A partner's webhook receiver for tests: a real HTTP server on 127.0.0.1 in a thread that
records every request and answers from a script (status, delay), 200 when the script ends."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    path: str = ""


@dataclass
class Receiver:
    script: list[tuple[int, float]] = field(default_factory=list)  # (status, seconds to wait first)
    requests: list[Received] = field(default_factory=list)
    port: int = 0

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                receiver.requests.append(Received({k.lower(): v for k, v in self.headers.items()}, body, self.path))
                status, delay = receiver.script.pop(0) if receiver.script else (200, 0.0)
                time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("content-type", "text/plain")
                    self.end_headers()
                    self.wfile.write(f"answered {status}".encode())
                except OSError:
                    pass  # the sender gave up waiting (a timeout test)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/crm"
