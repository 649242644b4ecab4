"""Publishes one running session (schema in :mod:`sessions.mqtt`) without ever holding it up.

The runner's listener and the 1-Hz sampler only put messages into a bounded :class:`Outbox`; one
sender task owns the connection: it connects, says "online" (retained, with an "offline/lost" last
will), drains the outbox in order, and on any failure reconnects with exponential backoff (1 s to
30 s, with jitter) for as long as the session runs. A message leaves the outbox only once sent, so
events survive a broker restart (at least once). On exit the last sample, the remaining events
and a retained "offline/done" go out if the broker is there within a few seconds.

With ``accept_markers`` (``run --accept-markers``) the same connection also subscribes to the session's
own marker topic and hands what comes there to a :class:`~sessions.mqtt.markers.MarkerInbox`, which
records good markers through ``runner.add_marker`` (checked, deduplicated, rate-limited).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import time
from collections.abc import Callable
from typing import Any

from sessions.events import EventKind, SessionPhase
from sessions.i18n import tr
from sessions.mqtt import schema
from sessions.mqtt.config import BrokerSettings
from sessions.mqtt.failures import Failure, diagnose
from sessions.mqtt.markers import ACCEPTING, MarkerInbox, marker_topic
from sessions.mqtt.outbox import Outbox

log = logging.getLogger(__name__)

SAMPLE_EVERY_S = 1.0     # metrics per second of session time
SLACK_S = 0.25
WAKE_S = 0.1             # so at most 10 samples per wall second at high --speed
BACKOFF_S = (1.0, 30.0)
PUBLISH_TIMEOUT_S = 5.0
KEEPALIVE_S = 10         # a silently dead link is noticed within ~15 s
LINGER_S = 3.0           # at the end: how long the last messages may take


def latest_rr_ms(runner: Any) -> float | None:
    """The latest RR (raw, as the strap sent it) in ms."""
    return runner.state.rr_ms


class SessionPublisher:
    """Async context manager: entered when the session starts, exited when it ends."""

    def __init__(self, runner: Any, settings: BrokerSettings, *, session_id: str | None = None, lang: str = "en",
                 console: Any = None, ha_discovery: str | None = None, outbox: Outbox | None = None,
                 backoff: tuple[float, float] = BACKOFF_S, clock=time.time, accept_markers: bool = False) -> None:
        self.runner = runner
        self.settings = settings
        self.sid = session_id or schema.new_session_id()
        self.lang = lang
        self.console = console
        self.ha_discovery = ha_discovery
        self.outbox = outbox or Outbox()
        self.backoff = backoff
        self.clock = clock
        prefix = settings.prefix
        self.status_topic = schema.status_topic(prefix, self.sid)
        self.metrics_topic = schema.metrics_topic(prefix, self.sid)
        self.events_topic = schema.events_topic(prefix, self.sid)
        self.marker_topic = marker_topic(prefix, self.sid)
        self.inbox = MarkerInbox(self._add_marker) if accept_markers else None
        self.connected = False
        self.runner.set_addon_status("mqtt", "connecting")
        self.connects = 0
        self.sent = 0
        self.failure: Failure | None = None   # a permanent one: publishing gave up
        self._closing = asyncio.Event()
        self._tasks: list[asyncio.Task] = []
        self._since = clock()
        self._next_sample = 0.0
        self._unsubscribe: Callable[[], None] = lambda: None

    # --- the session side: fast, never raises, never waits -----------------------------------
    def _add_marker(self, label: str, source: str) -> None:
        add = getattr(self.runner, "add_marker", None)
        if add is None:
            raise RuntimeError("this session cannot record markers")
        add(label, source)

    def _public(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Only shipped script and step ids leave the machine; a user's own are free text they chose."""
        if not getattr(self.runner.script, "user", False):
            return payload
        index = self.runner.state.step_index
        alias = schema.script_alias(getattr(self.runner.script, "id", None), self.sid)
        return schema.without_user_ids(payload, alias, index + 1 if isinstance(index, int) else None)

    def on_event(self, kind: EventKind, t: float, data: dict[str, Any]) -> None:
        payload = schema.event_payload(kind, t, data, self.clock())
        if payload is not None:
            self.outbox.put(self.events_topic, schema.encode(self._public(payload)), qos=1)

    def sample(self) -> None:
        payload = schema.metrics_payload(self.runner.state, latest_rr_ms(self.runner), self.clock())
        self.outbox.put(self.metrics_topic, schema.encode(self._public(payload)), qos=0, metric=True)

    async def _sampler(self) -> None:
        state = self.runner.state
        while state.phase is not SessionPhase.DONE and not self._closing.is_set():
            await asyncio.sleep(WAKE_S)
            # The state moves with the strap's notifications (about 1 s apart, jittered), so a
            # quarter-second tolerance keeps one sample per second; skip ahead only when the
            # session runs faster than we wake (--speed).
            if state.phase is not SessionPhase.STARTING and state.t >= self._next_sample - SLACK_S:
                self.sample()
                ahead = self._next_sample + SAMPLE_EVERY_S
                self._next_sample = (ahead if state.t < ahead - SLACK_S
                                     else math.floor(state.t / SAMPLE_EVERY_S) * SAMPLE_EVERY_S + SAMPLE_EVERY_S)

    # --- lifecycle ---------------------------------------------------------------------------
    async def __aenter__(self) -> SessionPublisher:
        self._say("mqtt_publishing", sid=self.sid, where=self.settings.describe())
        if self.inbox is not None:
            self._print(ACCEPTING.get(self.lang, ACCEPTING["en"]))
        self._unsubscribe = self.runner.subscribe(self.on_event)
        self._tasks = [asyncio.create_task(self._sender(), name="mqtt-sender"),
                       asyncio.create_task(self._sampler(), name="mqtt-sampler")]
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self._unsubscribe()
        if self.runner.state.phase is not SessionPhase.STARTING:
            self.sample()  # the final numbers
        self._closing.set()
        self.outbox.ready.set()
        sender, sampler = self._tasks
        sampler.cancel()
        try:
            await asyncio.wait_for(asyncio.shield(sender), LINGER_S)
        except (asyncio.TimeoutError, Exception):  # noqa: BLE001 - never fail the session's end
            pass
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if len(self.outbox) and self.failure is None:
            log.info("MQTT: %d messages not sent at the end (broker away).", len(self.outbox))

    # --- the connection side -----------------------------------------------------------------
    def _client(self):
        import aiomqtt

        s = self.settings
        return aiomqtt.Client(
            s.host, s.port, username=s.username, password=s.password,
            identifier=f"biofeedback-{s.username}-{self.sid}" if s.username else f"biofeedback-{self.sid}",
            will=aiomqtt.Will(self.status_topic, schema.encode(schema.offline_payload("lost")), qos=1, retain=True),
            keepalive=KEEPALIVE_S, timeout=PUBLISH_TIMEOUT_S, tls_context=s.tls_context(),
            logger=logging.getLogger("sessions.mqtt.aiomqtt"),
        )

    async def _sender(self) -> None:
        import aiomqtt

        delay = self.backoff[0]
        outage_said = False
        while True:
            try:
                async with self._client() as client:
                    self._set_link("connected")
                    self.connects += 1
                    delay = self.backoff[0]
                    if self.connects == 1 and not outage_said:
                        self._say("mqtt_connected", where=self.settings.describe())
                    else:
                        self._say("mqtt_reconnected")
                    outage_said = False
                    await client.publish(self.status_topic, schema.encode(
                        self._public(schema.online_payload(getattr(self.runner.script, "id", None), self._since))),
                        qos=1, retain=True)
                    if self.ha_discovery:
                        for topic, config in schema.ha_discovery(self.settings.prefix, self.sid, self.ha_discovery):
                            await client.publish(topic, config, qos=1, retain=True)
                    await self._drain_and_listen(client)
                    await client.publish(self.status_topic, schema.encode(schema.offline_payload("done")),
                                         qos=1, retain=True)
                    self._set_link(None)
                    return
            except aiomqtt.MqttError as err:
                # The wrong scheme for the port (mqtt:// to TLS, mqtts:// to plain) is said, not retried.
                failure = await asyncio.to_thread(diagnose, err, self.settings.host, self.settings.port,
                                                  self.settings.tls)
                self._set_link("failed" if failure.permanent else "retrying")
                if failure.permanent:
                    self.failure = failure
                    self._say("mqtt_gave_up", why=failure.sentence(self.lang, self.settings.username))
                    return
                if self._closing.is_set():
                    return  # one last try was made (or the session ended during an outage)
                wait = delay * random.uniform(0.8, 1.2)
                if not outage_said:
                    self._say("mqtt_retrying", why=failure.sentence(self.lang, self.settings.username), s=wait)
                    outage_said = True
                else:
                    log.info("MQTT: still unreachable (%s); next try in %.0f s.", failure.detail, wait)
                delay = min(delay * 2, self.backoff[1])
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), wait)

    async def _drain_and_listen(self, client: Any) -> None:
        """:meth:`_drain`, and with markers accepted, read the marker topic meanwhile on the same connection."""
        if self.inbox is None:
            await self._drain(client)
            return
        await client.subscribe(self.marker_topic, qos=1)
        reader = asyncio.create_task(self._read_markers(client), name="mqtt-markers")
        try:
            await self._drain(client)
        finally:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)

    async def _read_markers(self, client: Any) -> None:
        """Every message on our marker topic to the inbox (which never raises); a lost link ends it quietly."""
        import aiomqtt

        assert self.inbox is not None
        with contextlib.suppress(aiomqtt.MqttError):
            async for msg in client.messages:
                payload = msg.payload if isinstance(msg.payload, bytes) else str(msg.payload).encode()
                if str(msg.topic) == self.marker_topic:
                    self.inbox.receive(payload, retained=bool(msg.retain))

    async def _drain(self, client: Any) -> None:
        """Send until the session ends and the outbox is empty; raises on a lost connection."""
        box = self.outbox
        while True:
            msg = box.peek()
            if msg is None:
                if self._closing.is_set():
                    return
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(box.ready.wait(), 1.0)
                continue
            await client.publish(msg.topic, msg.payload, qos=msg.qos, retain=msg.retain)
            box.pop(msg)
            self.sent += 1

    def _set_link(self, state: str | None) -> None:
        """Our link to the broker, also shown in the session's status line (``LiveState.mqtt``)."""
        self.connected = state == "connected"
        self.runner.set_addon_status("mqtt", state)

    def _say(self, key: str, **fmt: Any) -> None:
        self._print(tr(self.lang, key, **fmt))

    def _print(self, text: str) -> None:
        log.info("%s", text)
        if self.console is not None:
            try:
                self.console.print(text, style="dim", highlight=False, markup=False)
            except Exception:  # noqa: BLE001 - a view must never break the session
                log.debug("console print failed", exc_info=True)
