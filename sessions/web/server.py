"""The watch page's server: the page, its WebSocket of tile updates, and markers back to a session.

Who may look: the page is served on 127.0.0.1 unless ``--bind`` says otherwise (and then only with
``--allow-network``), under a random key in its path that is printed once at the start (the address
*is* the password: anyone without it gets 404). A request must name this computer in its Host
header while serving on loopback (a web page elsewhere cannot reach the server through a DNS name
that points here) and a WebSocket must come from the page itself (its Origin). Responses forbid
framing, inline script and sending the address on as a referrer.

Markers: the page asks for one over its WebSocket; the server publishes it with the watcher's own
broker user on ``<session topic>/marker`` (:mod:`sessions.mqtt.markers`) and tells the page "sent";
when the session's own event says it recorded a therapist's marker, the page hears "recorded at
mm:ss"; without that within :data:`CONFIRM_S` it hears "not confirmed".
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import secrets
import socket
import time
from collections import deque
from importlib import resources
from typing import Any

from aiohttp import WSMsgType, web

from sessions.errors import UserError
from sessions.formatting import clock
from sessions.mqtt.follow import Following, Update
from sessions.mqtt.markers import LABEL_MAX, TOPIC as MARKER_TOPIC, marker_payload
from sessions.mqtt.schema import Topic, encode
from sessions.mqtt.watcher import Link
from sessions.web.tiles import Curves, marker_recorded, tile, words

log = logging.getLogger(__name__)

PUSH_EVERY_S = 0.25     # tile updates reach the page within a second of the message
REFRESH_EVERY_S = 2.0   # every tile again now and then: "no data" is a matter of time passing
CONFIRM_S = 10.0
MAX_PAGE_MESSAGE = 2048
PAGE_MARKER = "marker"  # the page's request to drop a marker (its own message type, not an event kind)
LOOPBACK = ("127.0.0.1", "::1", "localhost")
STATIC = ("app.js", "style.css")
TYPES = {"app.js": "text/javascript", "style.css": "text/css"}


def _static(name: str) -> str:
    return resources.files("sessions.web").joinpath("static", name).read_text(encoding="utf-8")


class WatchPage:
    def __init__(self, following: Following, link: Link, *, lang: str, token: str | None = None) -> None:
        self.following = following
        self.link = link
        self.lang = lang
        self.words = words(lang)
        self.token = token or secrets.token_urlsafe(18)
        self.curves = Curves()
        self.sockets: dict[web.WebSocketResponse, dict[str, float]] = {}  # socket -> key -> last curve t sent
        self.dirty: set[str] = set()
        self.pending: dict[str, deque[tuple[str, float, str]]] = {}  # key -> (id, sent at, label) awaiting the session
        self.url = ""
        self.port = 0
        self._hosts: set[str] | None = None
        self._runner: web.AppRunner | None = None
        self._pump_task: asyncio.Task[None] | None = None

    # --- from the broker -----------------------------------------------------------------------
    def on_update(self, u: Update) -> None:
        self.dirty.add(u.sid)
        if u.kind is Topic.METRICS:
            self.curves.add(u.sid, u.payload)
        elif u.kind is Topic.EVENTS and marker_recorded(u.payload):
            waiting = self.pending.get(u.sid)
            if waiting:
                marker_id, _, label = waiting.popleft()
                self._to_all({"type": PAGE_MARKER, "key": u.sid, "id": marker_id, "state": "recorded", "label": label,
                              "text": self.words["marker_recorded"].format(clock=clock(u.payload.get("t")))})

    # --- to the pages --------------------------------------------------------------------------
    def _tile_message(self, key: str, sent: dict[str, float]) -> dict[str, Any] | None:
        s = self.following.sessions.get(key)
        if s is None:
            return None
        points = self.curves.since(key, sent.get(key))
        if points:
            sent[key] = points[-1][0]
        return {"type": "tile", "tile": tile(s, self.lang), "points": points}

    def _to_all(self, message: dict[str, Any]) -> None:
        for ws in list(self.sockets):
            self._send(ws, message)

    def _send(self, ws: web.WebSocketResponse, message: dict[str, Any]) -> None:
        if ws.closed:
            self.sockets.pop(ws, None)
            return
        task = asyncio.ensure_future(ws.send_str(json.dumps(message, allow_nan=False)))
        task.add_done_callback(lambda t: t.exception() if not t.cancelled() else None)

    async def _pump(self) -> None:
        last_full = 0.0
        while True:
            await asyncio.sleep(PUSH_EVERY_S)
            now = time.monotonic()
            keys = set(self.dirty)
            if now - last_full >= REFRESH_EVERY_S:
                keys |= set(self.following.sessions)
                last_full = now
            self.dirty.clear()
            for ws, sent in list(self.sockets.items()):
                for key in sorted(keys):
                    message = self._tile_message(key, sent)
                    if message is not None:
                        self._send(ws, message)
            self._expire_markers(now)

    def _expire_markers(self, now: float) -> None:
        for key, waiting in self.pending.items():
            while waiting and now - waiting[0][1] > CONFIRM_S:
                marker_id, _, label = waiting.popleft()
                self._to_all({"type": PAGE_MARKER, "key": key, "id": marker_id, "state": "unconfirmed", "label": label,
                              "text": self.words["marker_unconfirmed"]})

    # --- from the pages ------------------------------------------------------------------------
    async def _marker(self, ws: web.WebSocketResponse, request: dict[str, Any]) -> None:
        key, label = request.get("key"), request.get("label", "")
        if not isinstance(key, str) or not isinstance(label, str):
            return
        s = self.following.sessions.get(key)
        if s is None:
            return
        label = " ".join(label.split())[:LABEL_MAX]
        marker_id = "m-" + secrets.token_hex(6)
        if s.state == "offline":
            self._send(ws, {"type": PAGE_MARKER, "key": key, "id": marker_id, "state": "failed",
                            "text": self.words["marker_ended"]})
            return
        ok = await self.link.publish(f"{s.base}/{MARKER_TOPIC}", encode(marker_payload(label, marker_id)))
        if ok:
            self.pending.setdefault(key, deque(maxlen=50)).append((marker_id, time.monotonic(), label))
        self._to_all({"type": PAGE_MARKER, "key": key, "id": marker_id, "state": "sent" if ok else "failed",
                      "label": label, "text": self.words["marker_sent" if ok else "marker_failed"]})

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        if origin != f"http://{request.host}":
            raise web.HTTPForbidden(text="This page's WebSocket is for the page itself.")
        ws = web.WebSocketResponse(heartbeat=20.0, max_msg_size=MAX_PAGE_MESSAGE)
        await ws.prepare(request)
        sent: dict[str, float] = {}
        tiles = [m for key in sorted(self.following.sessions) if (m := self._tile_message(key, sent)) is not None]
        await ws.send_str(json.dumps({"type": "hello", "words": self.words, "lang": self.lang, "tiles": tiles}))
        self.sockets[ws] = sent
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    request_data = json.loads(msg.data)
                except ValueError:
                    continue
                if isinstance(request_data, dict) and request_data.get("type") == PAGE_MARKER:
                    await self._marker(ws, request_data)
        finally:
            self.sockets.pop(ws, None)
        return ws

    async def _page(self, request: web.Request) -> web.StreamResponse:
        html = (_static("index.html").replace("__LANG__", self.lang).replace("__TITLE__", self.words["title"])
                .replace("__EMPTY__", self.words["empty"]))
        return web.Response(text=html, content_type="text/html")

    async def _asset(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in STATIC:
            raise web.HTTPNotFound()
        return web.Response(text=_static(name), content_type=TYPES[name])

    @web.middleware
    async def _guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if self._hosts is not None and request.host.lower() not in self._hosts:
            raise web.HTTPMisdirectedRequest(text="Open the page by the address the watch program printed.")
        token = request.match_info.get("token", "")
        if not hmac.compare_digest(token.encode(), self.token.encode()):
            raise web.HTTPNotFound()
        response = await handler(request)
        response.headers.update({
            "Content-Security-Policy": (f"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                        f"connect-src ws://{request.host}; frame-ancestors 'none'; base-uri 'none'; "
                                        "form-action 'none'"),
            "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store",
            "X-Frame-Options": "DENY",
        })
        return response

    # --- lifecycle -----------------------------------------------------------------------------
    async def start(self, bind: str, port: int) -> str:
        app = web.Application(middlewares=[self._guard], client_max_size=MAX_PAGE_MESSAGE)
        app.router.add_get("/{token}/", self._page)
        app.router.add_get("/{token}/ws", self._websocket)
        app.router.add_get("/{token}/{name}", self._asset)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, bind, port).start()
        except OSError as err:
            await self._runner.cleanup()
            raise UserError(f"Cannot serve the page on {bind} port {port}: {err.strerror or err}; "
                            "choose another with --port (0 picks a free one).") from None
        self.port = int(self._runner.addresses[0][1])
        host = bind if bind not in ("0.0.0.0", "::", "") else socket.gethostname()
        if bind in LOOPBACK:
            self._hosts = {f"{name}:{self.port}" for name in ("127.0.0.1", "localhost", "[::1]")}
        shown = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{self.port}/{self.token}/"
        self._pump_task = asyncio.create_task(self._pump(), name="watch-page")
        return self.url

    async def stop(self) -> None:
        """The last word of every session reaches the pages (an end that came just now), then they are closed."""
        if self._pump_task is not None:
            self._pump_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump_task
        for ws, sent in list(self.sockets.items()):
            for key in sorted(self.following.sessions):
                message = self._tile_message(key, sent)
                if message is not None and not ws.closed:
                    with contextlib.suppress(Exception):
                        await ws.send_str(json.dumps(message, allow_nan=False))
        for ws in list(self.sockets):
            with contextlib.suppress(Exception):
                await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
