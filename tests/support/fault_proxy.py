"""A fault-injecting TCP proxy for the sync tests. It is a fake on purpose: it
is the fault injector between a real client and a real server."""

from __future__ import annotations

import random
import socket
import threading
from collections import Counter
from collections.abc import Callable


class FaultProxy:
    """A TCP proxy on 127.0.0.1 that refuses some connections, cuts others
    part-way in either direction, and stalls some answers (seeded, so a run can
    be replayed).

    `on_post(n)` is called when the n-th `POST /v1/batches` passes through,
    after its first bytes went upstream: the place to kill the server
    mid-batch. Past `max_posts` posts, the link goes dead (nothing passes).
    `script` fixes the plans of the first connections, so that each fault
    surely happens; the rest are drawn at random.
    """

    def __init__(
        self,
        upstream_port: int,
        *,
        seed: int,
        refuse: float = 0.1,
        cut_request: float = 0.15,
        cut_response: float = 0.15,
        stall: float = 0.0,
        on_post: Callable[[int], None] | None = None,
        max_posts: int | None = None,
        script: tuple[str, ...] = (),
    ) -> None:
        self.upstream_port = upstream_port
        self.rng = random.Random(seed)
        self.odds = (refuse, cut_request, cut_response, stall)
        self.on_post = on_post
        self.max_posts = max_posts
        self.script = list(script)
        self.posts = 0
        self.faults: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = int(self.listener.getsockname()[1])
        self.enabled = True
        self._spawn(self._accept_loop)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self.listener.close()

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._spawn(self._serve, client)

    def _plan(self) -> tuple[str, int]:
        with self._lock:
            roll = self.rng.random() if self.enabled else 1.0
            plan = self.script.pop(0) if self.script else "pass"
            for name, odds in zip(_PLANS, self.odds, strict=True):
                if plan != "pass":
                    break
                if roll < odds:
                    plan = name
                    break
                roll -= odds
            self.faults[plan] += 1
            return plan, self.rng.randint(1, 40_000)

    def _serve(self, client: socket.socket) -> None:
        plan, at = self._plan()
        if plan == "refuse":
            client.close()
            return
        try:
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port), 5)
        except OSError:  # the server is down (killed, restarting)
            client.close()
            return
        pair = (client, upstream)
        for sock in pair:
            sock.settimeout(0.5)
        # Even a good connection does not last: it is cut after a few batches.
        up_cut = at if plan == "cut_request" else at * 15
        down_cut = {"cut_response": at % 2_000, "stall": -1}.get(plan)
        self._spawn(self._pump, client, upstream, up_cut, pair, True)
        self._pump(upstream, client, down_cut, pair, False)

    def _pump(
        self,
        source: socket.socket,
        sink: socket.socket,
        cut_at: int | None,
        pair: tuple[socket.socket, socket.socket],
        upward: bool,
    ) -> None:
        moved = 0
        try:
            while not self._stop.is_set():
                try:
                    data = source.recv(65536)
                except TimeoutError:
                    continue
                if not data:
                    break
                if upward and b"POST /v1/batches" in data and not self._count_post():
                    break
                if cut_at == -1:
                    continue  # stalled: the answer never arrives (a timeout)
                if cut_at is not None and moved + len(data) >= cut_at:
                    sink.sendall(data[: max(0, cut_at - moved)])
                    break
                sink.sendall(data)
                moved += len(data)
        except OSError:
            pass
        finally:
            for sock in pair:
                _close(sock)

    def _count_post(self) -> bool:
        """Count a batch going up; False when the link should drop it."""
        with self._lock:
            self.posts += 1
            number = self.posts
        if self.max_posts is not None and number > self.max_posts:
            return False
        if self.on_post is not None:
            self._spawn(self.on_post, number)
        return True


_PLANS = ("refuse", "cut_request", "cut_response", "stall")


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
