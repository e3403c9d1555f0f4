"""A scripted OpenAI-compatible endpoint on loopback (a fake, named as such).

The real small model cannot be made to produce a given answer, so tests that
need an exact reply (valid citations, invented ones) use this server; it
speaks the real wire protocol (SSE streaming) and records what it received.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class ScriptedEndpoint:
    def __init__(
        self,
        reply: str | Callable[[dict[str, Any]], str],
        raw: str | None = None,
        usage: bool = True,
        status: int = 200,
        cut: bool = False,
        headers: dict[str, str] | None = None,
        tls: tuple[str, str] | None = None,
        delay: float = 0.0,
        whole: bool = False,
    ) -> None:
        self.reply = reply
        self.raw = raw  # sent as is instead of the SSE events: a malformed reply
        self.usage = usage  # False: no token counts, as servers that ignore include_usage
        self.status = status  # an error status: ``raw`` is its body
        # True: the reply's words, then the connection closed, with no finish_reason and no
        # [DONE], as when the server or a proxy between dies midway
        self.cut = cut
        self.headers = headers or {}  # sent besides Content-Type (a redirection's Location)
        self.delay = delay  # seconds of silence before the response: a busy or stuck server
        # True: the reply as one JSON chat.completion (application/json), though a stream was
        # asked for, as an endpoint that does not stream sends it
        self.whole = whole
        self.requests: list[dict[str, Any]] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                endpoint.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body}
                )
                if endpoint.delay:
                    import time

                    time.sleep(endpoint.delay)
                self.send_response(endpoint.status)
                if endpoint.whole:
                    reply = endpoint.reply
                    text = reply if isinstance(reply, str) else reply(body)
                    whole = {
                        "id": "chatcmpl-1",
                        "object": "chat.completion",
                        "model": body.get("model"),
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": text},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": {"prompt_tokens": 100, "completion_tokens": 20},
                    }
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(json.dumps(whole, indent=2).encode())
                    return
                self.send_header("Content-Type", "text/event-stream")
                for name, value in endpoint.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if endpoint.raw is not None:
                    self.wfile.write(endpoint.raw.encode())
                    return
                reply = endpoint.reply if isinstance(endpoint.reply, str) else endpoint.reply(body)
                for word in reply.split(" "):
                    event = {"choices": [{"index": 0, "delta": {"content": word + " "}}]}
                    self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                if endpoint.cut:
                    return
                done: dict[str, Any] = {
                    "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]
                }
                if endpoint.usage:
                    done["usage"] = {"prompt_tokens": 100, "completion_tokens": 20}
                self.wfile.write(f"data: {json.dumps(done)}\n\ndata: [DONE]\n\n".encode())

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        scheme = "http"
        if tls is not None:  # (certificate, key) files: served over HTTPS
            import ssl

            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
