"""The receiving side: subscribe to sessions and feed a :class:`Following`, reconnecting with backoff.

A broker that is down or restarting is waited for; a wrong password or certificate raises
:class:`sessions.errors.UserError` with one sentence (nothing to wait for).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
import time
from collections.abc import Callable
from typing import Any

from sessions.errors import UserError
from sessions.mqtt.config import BrokerSettings
from sessions.mqtt.failures import diagnose
from sessions.mqtt.follow import Following, Update

log = logging.getLogger(__name__)


class _AsDebug(logging.Filter):
    """paho logs a lost socket as an error; we say why in one sentence (:mod:`failures`), so its line is detail."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.DEBUG:
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger().isEnabledFor(logging.DEBUG)


CLIENT_LOG = logging.getLogger("sessions.mqtt.aiomqtt.watch")
CLIENT_LOG.addFilter(_AsDebug())


class Link:
    """The watcher's connection while it is up, for the few messages a watcher sends (a therapist's markers).

    Sent with the watcher's own broker user, so the broker's ACL decides who may write where."""

    def __init__(self) -> None:
        self.client: Any = None

    @property
    def up(self) -> bool:
        return self.client is not None

    async def publish(self, topic: str, payload: bytes) -> bool:
        """QoS 1, not retained; False when there is no connection or it failed (never raises)."""
        import aiomqtt

        client = self.client
        if client is None:
            return False
        try:
            await client.publish(topic, payload, qos=1, retain=False)
        except aiomqtt.MqttError as err:
            log.info("A marker could not be sent: %s", err)
            return False
        return True


async def follow(settings: BrokerSettings, following: Following, on_update: Callable[[Update], None], *,
                 sid: str | None = None, lang: str = "en", say: Callable[[str], None] = lambda text: None,
                 until: Callable[[], bool] = lambda: False, backoff: tuple[float, float] = (1.0, 30.0),
                 link: Link | None = None) -> None:
    """Runs until ``until()`` is true (checked at every message and every second) or cancelled."""
    import aiomqtt

    from sessions.i18n import tr

    delay = backoff[0]
    said_outage = False
    while not until():
        try:
            async with aiomqtt.Client(settings.host, settings.port, username=settings.username,
                                      password=settings.password, tls_context=settings.tls_context(),
                                      identifier=f"biofeedback-watch-{secrets.token_hex(3)}", keepalive=10,
                                      timeout=5, logger=CLIENT_LOG) as client:
                if said_outage:
                    say(tr(lang, "mqtt_reconnected"))
                said_outage = False
                delay = backoff[0]
                for topic in following.topics(sid):
                    await client.subscribe(topic, qos=1)
                if link is not None:
                    link.client = client
                try:
                    await _receive(client, following, on_update, until)
                finally:
                    if link is not None:
                        link.client = None
                return
        except aiomqtt.MqttError as err:
            failure = await asyncio.to_thread(diagnose, err, settings.host, settings.port, settings.tls)
            why = failure.sentence(lang, settings.username)
            if failure.permanent:
                raise UserError(why[0].upper() + why[1:] + ".") from None
            if not said_outage:
                say(f"MQTT: {why}; {tr(lang, 'mqtt_retry_watch')}")
                said_outage = True
            wait = delay * random.uniform(0.8, 1.2)
            delay = min(delay * 2, backoff[1])
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and not until():
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.sleep(min(0.5, deadline - time.monotonic()))


async def _receive(client: Any, following: Following, on_update: Callable[[Update], None],
                   until: Callable[[], bool]) -> None:
    messages = aiter(client.messages)
    while not until():
        try:
            msg = await asyncio.wait_for(anext(messages), 1.0)
        except asyncio.TimeoutError:
            continue
        update = following.handle(str(msg.topic), msg.payload if isinstance(msg.payload, bytes)
                                  else str(msg.payload).encode(), time.time())
        if update is not None:
            _deliver(on_update, update)


def _deliver(on_update: Callable[[Update], None], update: Update) -> None:
    """A view that fails on one message must not end the following: logged, and the next one comes."""
    try:
        on_update(update)
    except Exception:  # noqa: BLE001 - any view bug; the message was already validated
        log.exception("Could not show a message of session %s; following goes on.", update.sid)
