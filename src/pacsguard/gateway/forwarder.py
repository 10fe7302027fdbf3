"""One forwarder thread per destination: batches from its spool queue, retries with bounded
exponential backoff and jitter, dead-letters what is refused for good.

A destination that cannot be reached is backed off as a whole (the instances keep their
attempts: an archive down for a day dead-letters nothing). An instance the destination
refuses with a transient status is retried up to ``max_attempts`` times; a permanent status
dead-letters it at once. A destination that is down blocks neither receiving nor the others.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass, field

from pacsguard.gateway.spool import Committed, Spool
from pacsguard.io.forward import Destination, Outgoing, Verdict

__all__ = ["Backoff", "ForwardStats", "Forwarder"]

log = logging.getLogger("pacsguard.gateway")


@dataclass(frozen=True)
class Backoff:
    base: float = 1.0
    cap: float = 300.0
    max_attempts: int = 10

    def delay(self, attempt: int) -> float:
        """Full jitter in [d/2, d], d = base * 2^(attempt-1) capped: peers restarting together
        are not hit together."""
        d = min(self.cap, self.base * 2.0 ** max(0, attempt - 1))
        return d * (0.5 + random.random() / 2)


@dataclass
class ForwardStats:
    forwarded: int = 0
    dead_lettered: int = 0
    retries: int = 0
    link_failures: int = 0
    up: bool = True


@dataclass
class Forwarder:
    slug: str
    dest: Destination
    spool: Spool
    backoff: Backoff = field(default_factory=Backoff)
    batch: int = 64
    study_quiet: float = 0.0  #: hold a study until nothing arrived for it this long
    idle_close: float = 5.0  #: release the association after this long with nothing to send
    stats: ForwardStats = field(default_factory=ForwardStats)

    def __post_init__(self) -> None:
        self.wake = threading.Event()
        self.stop = threading.Event()
        self._attempts: dict[str, int] = {}
        self._not_before: dict[str, float] = {}
        self._link_failures = 0
        self._meta: dict[str, Committed] = {}  #: committed metadata never changes: read once
        self._thread = threading.Thread(target=self._loop, name=f"forward-{self.slug}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def flush(self, deadline: float) -> None:
        """Wait (until ``deadline``, monotonic) for what is queued to be sent, unless the
        destination is down: what is left stays in the spool for the next start."""
        self.wake.set()
        while time.monotonic() < deadline and self.stats.up and self._thread.is_alive():
            if not self.spool.pending(self.slug):
                return
            time.sleep(0.05)

    def join(self, timeout: float) -> None:
        self.stop.set()
        self.wake.set()
        self._thread.join(timeout)

    def _due(self) -> list[Outgoing]:
        now = time.time()
        items: list[Outgoing] = []
        last_arrival: dict[str, float] = {}
        metas = []
        pending = self.spool.pending(self.slug)
        for key in pending:
            if self._not_before.get(key, 0) > now:
                continue
            meta = self._meta.get(key) or self.spool.committed(key)
            if meta is None:
                continue  # being committed right now
            self._meta[key] = meta
            metas.append((key, meta))
            if not self.study_quiet and len(metas) >= self.batch:
                break
            last_arrival[meta.study_uid] = max(last_arrival.get(meta.study_uid, 0), meta.arrived)
        if self.study_quiet > 0:
            quiet = {s for s, t in last_arrival.items() if now - t >= self.study_quiet}
            metas = [(k, m) for k, m in metas if m.study_uid in quiet]
            metas.sort(key=lambda km: (km[1].study_uid, km[0]))  # a study in one association
        for key, meta in metas[: self.batch]:
            items.append(Outgoing(key, self.spool.queue(self.slug) / f"{key}.dcm", meta.name,
                                  meta.sop_instance_uid, meta.sop_class_uid,
                                  meta.transfer_syntax, meta.study_uid))
        return items

    def _loop(self) -> None:
        idle_since = time.monotonic()
        while not self.stop.is_set():
            try:
                batch = self._due()
            except OSError as exc:
                log.error("%s: cannot read its queue (%s)", self.dest.label, type(exc).__name__)
                batch = []
            if not batch:
                if time.monotonic() - idle_since > self.idle_close:
                    self.dest.close()
                self.wake.wait(0.5)
                self.wake.clear()
                continue
            idle_since = time.monotonic()
            try:
                self._send(batch)
            except Exception as exc:  # the spool itself failed (disk): never end the thread
                log.error("%s: forwarding failed (%s); retrying", self.dest.label,
                          type(exc).__name__)
                self.stop.wait(self.backoff.delay(1))
        self.dest.close()

    def _send(self, batch: list[Outgoing]) -> None:
        answers = self.dest.send(batch)
        link_down = False
        for item, answer in zip(batch, answers, strict=True):
            if answer.verdict is Verdict.DELIVERED:
                self.spool.confirm(self.slug, item.key)
                self._forget(item.key)
                self.stats.forwarded += 1
                log.info("%s: forwarded %s", self.dest.label, item.sop_instance_uid)
            elif answer.verdict is Verdict.PERMANENT:
                self._dead(item, answer.status, answer.detail)
            elif answer.verdict is Verdict.RETRY:
                known = self._attempts.get(item.key)
                n = (self.spool.attempts(self.slug, item.key) if known is None else known) + 1
                self._attempts[item.key] = n
                self.stats.retries += 1
                if n >= self.backoff.max_attempts:
                    self._dead(item, answer.status, f"{answer.detail}; {n} attempts")
                else:
                    self.spool.record_attempt(self.slug, item.key, n)
                    self._not_before[item.key] = time.time() + self.backoff.delay(n)
            else:
                link_down = True
        if link_down:
            self._link_failures += 1
            self.stats.link_failures += 1
            self.stats.up = False
            delay = self.backoff.delay(self._link_failures)
            log.warning("%s: unreachable; next try in %.1f s", self.dest.label, delay)
            self.stop.wait(delay)
        else:
            self._link_failures = 0
            self.stats.up = True

    def _forget(self, key: str) -> None:
        self._attempts.pop(key, None)
        self._not_before.pop(key, None)
        self._meta.pop(key, None)

    def _dead(self, item: Outgoing, status: int | None, detail: str) -> None:
        self.spool.dead_letter(self.slug, item.key, status, detail)
        self._forget(item.key)
        self.stats.dead_lettered += 1
        log.warning("%s: dead-lettered %s (%s)", self.dest.label, item.sop_instance_uid, detail)
