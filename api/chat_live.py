"""Live chat delivery for ``GET /chats/{id}/stream``: one ``LISTEN`` connection per process
(``ChatWakeups``) on the chats view's channel (``projections.chats.CHANNEL``, notified when the
view commits new messages), fanned out to the open streams of each chat as asyncio events; and
``sse_messages``, the server-sent events of one stream.

No stream polls the database: each waits for its chat's wake-up, then reads the messages after
the last one it sent (one indexed query). Without a wake-up for ``heartbeat_s`` it sends a
comment line, which keeps proxies from closing an idle connection and lets a dead client be
noticed. The connection listens only while streams are open (it closes after ``linger_s``
without one); each (re)connection wakes every stream, so nothing committed while it was not
listening is missed.

Stopping: uvicorn waits for open responses before it shuts down, and an event stream never
ends on its own; so the first stream hooks SIGTERM and SIGINT (in the server's main thread,
keeping uvicorn's own handler), and a stop signal ends every stream at once."""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

import orjson
import psycopg
from psycopg_pool import AsyncConnectionPool

from projections.chats import CHANNEL, PAGE, messages_after_async

log = logging.getLogger(__name__)


class ChatWakeups:
    def __init__(self, url: str, *, linger_s: float = 5.0, poll_s: float = 1.0):
        self.url = url
        self.linger_s = linger_s
        #: How often the listener looks up from its connection (stop, nobody left).
        self.poll_s = poll_s
        self.stopping = asyncio.Event()
        self._waiters: dict[str, set[asyncio.Event]] = {}
        self._task: asyncio.Task | None = None
        self._hooked = False
        #: Reads under way, by (chat, after): the streams of a chat woken together share one.
        self._reads: dict[tuple[str, int], asyncio.Future] = {}

    @asynccontextmanager
    async def watch(self, chat_id: UUID) -> AsyncIterator[asyncio.Event]:
        """An event set whenever ``chat_id`` may have new messages (or the server stops)."""
        woken, key = asyncio.Event(), str(chat_id)
        self._waiters.setdefault(key, set()).add(woken)
        self._start()
        try:
            yield woken
        finally:
            waiting = self._waiters.get(key, set())
            waiting.discard(woken)
            if not waiting:
                self._waiters.pop(key, None)

    async def messages_after(self, pool: AsyncConnectionPool, chat_id: UUID, after: int) -> list:
        """The chat's messages after ``after``: one query for every stream asking the same at
        once (a stream leaving does not cancel it for the others). A stream woken while a
        shared read was under way finds its wake-up still set and reads again."""
        key = (str(chat_id), after)
        read = self._reads.get(key)
        if read is None:
            read = asyncio.ensure_future(messages_after_async(pool, chat_id, after))
            self._reads[key] = read
            read.add_done_callback(lambda _: self._reads.pop(key, None))
        return await asyncio.shield(read)

    def stop(self) -> None:
        """End every stream (the server is stopping)."""
        self.stopping.set()
        self._wake_all()

    def _wake_all(self) -> None:
        for waiting in self._waiters.values():
            for woken in waiting:
                woken.set()

    def _start(self) -> None:
        self._hook_signals()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._listen())

    def _hook_signals(self) -> None:
        if self._hooked or threading.current_thread() is not threading.main_thread():
            return
        self._hooked = True
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous = signal.getsignal(sig)
            if not callable(previous):
                continue  # not under a server that stops gracefully: leave it be

            def handler(signum: int, frame: Any, previous: Any = previous) -> None:
                loop.call_soon_threadsafe(self.stop)
                previous(signum, frame)

            signal.signal(sig, handler)

    async def _listen(self) -> None:
        idle_since: float | None = None
        delay = 0.1
        loop = asyncio.get_running_loop()
        while not self.stopping.is_set():
            try:
                conn = await psycopg.AsyncConnection.connect(self.url, autocommit=True)
                async with conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self._wake_all()
                    delay = 0.1
                    while not self.stopping.is_set():
                        async for note in conn.notifies(timeout=self.poll_s):
                            for woken in self._waiters.get(note.payload, ()):
                                woken.set()
                        if self._waiters:
                            idle_since = None
                        elif idle_since is None:
                            idle_since = loop.time()
                        elif loop.time() - idle_since > self.linger_s:
                            return
            except psycopg.Error:
                log.warning("chat wake-ups: listening failed; retrying", exc_info=True)
                self._wake_all()  # the streams look for themselves meanwhile
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)


def wakeups_of(app: Any) -> ChatWakeups:
    """The app's one ``ChatWakeups`` (made on the first stream)."""
    hub = getattr(app.state, "chat_wakeups", None)
    if hub is None:
        hub = app.state.chat_wakeups = ChatWakeups(app.state.container.url)
    return hub


def _event(row: dict) -> bytes:
    data = {**row, "at": row["at"].isoformat()}
    return b"id: %d\nevent: message\ndata: %s\n\n" % (row["seq"], orjson.dumps(data))


async def sse_messages(
    hub: ChatWakeups,
    pool: AsyncConnectionPool,
    chat_id: UUID,
    after: int,
    heartbeat_s: float,
) -> AsyncIterator[bytes]:
    """The messages after ``after`` as server-sent events (``id`` = sequence number, so a
    client reconnecting with ``Last-Event-ID`` goes on where it stopped), then each new one as
    the view commits it; a comment line every ``heartbeat_s`` of quiet; ends when the server
    stops (a client that goes away cancels it)."""
    yield b"retry: 1000\n\n"
    async with hub.watch(chat_id) as woken:
        while not hub.stopping.is_set():
            woken.clear()  # before reading: a wake-up during the read is kept
            rows = await hub.messages_after(pool, chat_id, after)
            for row in rows:
                yield _event(row)
                after = row["seq"]
            if len(rows) == PAGE:
                continue
            try:
                await asyncio.wait_for(woken.wait(), heartbeat_s)
            except TimeoutError:
                yield b": heartbeat\n\n"
