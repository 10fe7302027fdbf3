"""``--status HOST:PORT``: /status (JSON), /metrics (Prometheus text) and /healthz.

Counts, ages and bytes only: no AE-independent identifier, no UID, no name.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

__all__ = ["StatusServer"]

Snapshot = Callable[[], dict[str, Any]]


class _Collector(Collector):
    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        s = self.snapshot()
        for name in ("received", "deidentified", "quarantined", "refused_full"):
            yield CounterMetricFamily(f"pacsguard_gateway_{name}", f"instances {name}",
                                      value=s[name])
        fwd = CounterMetricFamily("pacsguard_gateway_forwarded", "instances confirmed by a "
                                  "destination", labels=["destination"])
        dead = CounterMetricFamily("pacsguard_gateway_dead_lettered", "instances a destination "
                                   "refused for good", labels=["destination"])
        queued = GaugeMetricFamily("pacsguard_gateway_queued", "instances waiting for a "
                                   "destination", labels=["destination"])
        up = GaugeMetricFamily("pacsguard_gateway_destination_up", "1 if the last attempt "
                               "reached the destination", labels=["destination"])
        for label, d in s["destinations"].items():
            fwd.add_metric([label], d["forwarded"])
            dead.add_metric([label], d["dead_lettered"])
            queued.add_metric([label], d["queued"])
            up.add_metric([label], 1 if d["up"] else 0)
        yield from (fwd, dead, queued, up)
        yield GaugeMetricFamily("pacsguard_gateway_oldest_queued_seconds", "age of the oldest "
                                "queued instance", value=s["oldest_queued_seconds"])
        yield GaugeMetricFamily("pacsguard_gateway_spool_bytes", "bytes in the spool",
                                value=s["spool_bytes"])
        yield GaugeMetricFamily("pacsguard_gateway_awaiting_deid", "received, not yet "
                                "de-identified", value=s["awaiting_deid"])


class StatusServer:
    def __init__(self, host: str, port: int, snapshot: Snapshot,
                 healthy: Callable[[], bool]) -> None:
        registry = CollectorRegistry()
        registry.register(_Collector(snapshot))

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                if path == "/status":
                    body, ctype, code = json.dumps(snapshot(), indent=1).encode(), \
                        "application/json", 200
                elif path == "/metrics":
                    body, ctype, code = generate_latest(registry), \
                        "text/plain; version=0.0.4", 200
                elif path == "/healthz":
                    ok = healthy()
                    body, ctype, code = (b"ok\n" if ok else b"unhealthy\n"), "text/plain", \
                        200 if ok else 503
                else:
                    body, ctype, code = b"not found\n", "text/plain", 404
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="status",
                                        daemon=True)

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
