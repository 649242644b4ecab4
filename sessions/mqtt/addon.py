"""The ``run`` flags for MQTT and the hook that attaches a publisher to a session (see sessions.addons)."""

from __future__ import annotations

import argparse
from typing import Any

from sessions.errors import UserError
from sessions.mqtt.config import SESSION_ID, add_broker_arguments, settings_from_args

_DEPENDENT_FLAGS = ("mqtt_password_file", "mqtt_ca", "mqtt_cert", "mqtt_key", "mqtt_session", "ha_discovery",
                    "accept_markers")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = add_broker_arguments(
        parser, url_help="publish this session live to an MQTT broker: mqtt[s]://[user@]host[:port][/prefix] "
                         "(pseudonymous session id, numbers and step names only; off unless given)")
    group.add_argument("--mqtt-session", metavar="ID",
                       help="publish under this session id (a-z, 0-9, '-'; default: a random one) so that a "
                            "watcher can follow it by name; never use the person's name")
    group.add_argument("--ha-discovery", nargs="?", const="homeassistant", metavar="PREFIX",
                       help="also announce Home Assistant sensors (heart rate, calm, step) by MQTT discovery "
                            "(discovery prefix, default homeassistant)")
    group.add_argument("--accept-markers", action="store_true",
                       help="let the therapist following this session drop markers into its record (from `watch "
                            "--web`; only this session's own marker topic, checked and rate-limited; off unless given)")


def attach(runner: Any, args: argparse.Namespace, lang: str, console: Any):
    if not getattr(args, "mqtt", None):
        given = [f"--{name.replace('_', '-')}" for name in _DEPENDENT_FLAGS if getattr(args, name, None)]
        if given:
            raise UserError(f"{given[0]} only applies with --mqtt URL; add --mqtt or drop {given[0]}.")
        return None
    if args.mqtt_session is not None and not SESSION_ID.match(args.mqtt_session):
        raise UserError("--mqtt-session takes 1-32 characters: lower-case letters, digits and '-' (never a name).")
    settings = settings_from_args(args)
    from sessions.mqtt.publisher import SessionPublisher

    return SessionPublisher(runner, settings, session_id=args.mqtt_session, lang=lang, console=console,
                            ha_discovery=args.ha_discovery, accept_markers=args.accept_markers)
