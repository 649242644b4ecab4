"""``biofeedback therapist broker-config``: a mosquitto setup for following clients live (see :mod:`sessions.mqtt.broker_config`).

Kept out of ``therapist.py`` (the passphrase and unlocks, done on the client's computer): this one
runs wherever the broker is set up and touches no health data.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sessions.errors import UserError
from sessions.mqtt.broker_config import write
from sessions.mqtt.config import valid_prefix


def add_parser(actions: argparse._SubParsersAction) -> None:
    p = actions.add_parser(
        "broker-config",
        help="write a mosquitto setup (config, password file, ACL) so each client's sessions are readable only "
             "by their therapist",
        description="Writes mosquitto.conf, passwd (hashes), acl, credentials/<user>.pw (each person's password, "
                    "0600: hand it over, then delete it) and README.txt (the exact run and watch commands) into "
                    "the folder. Run it again with another therapist or more clients: passwords already made are kept. "
                    "Client codes are pseudonyms (K7), never names: they become broker user names and topics.",
    )
    p.add_argument("--therapist", required=True, metavar="USER", help="the therapist's broker user name")
    p.add_argument("--client", dest="clients", action="append", default=[], metavar="CODE",
                   help="a client this therapist follows (repeat for several)")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="DIR", help="the folder to write (0700)")
    p.add_argument("--prefix", help="topic prefix (default biofeedback; each client publishes under PREFIX/CODE)")
    p.add_argument("--host", help="the broker's host name as the apps reach it (for the commands in README.txt)")
    p.add_argument("--port", type=int, help="the listener's port (default 8883)")
    p.add_argument("--bind", metavar="ADDR", help="listen on this address only (default: all)")
    p.add_argument("--cafile", help="TLS: the CA file the broker's config names (default DIR/tls/ca.pem)")
    p.add_argument("--certfile", help="TLS: the broker's certificate (default DIR/tls/server.pem)")
    p.add_argument("--keyfile", help="TLS: the broker's key (default DIR/tls/server.key)")
    p.add_argument("--no-tls", action="store_true",
                   help="a plain listener, only for a broker on this computer (bind 127.0.0.1)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.prefix is not None and not valid_prefix(args.prefix):
        raise UserError(f"The topic prefix {args.prefix!r} may only hold letters, digits, '-', '_', '.' and '/'.")
    if args.port is not None and not 0 < args.port < 65536:
        raise UserError("--port takes a number from 1 to 65535.")
    if args.no_tls and args.bind not in ("127.0.0.1", "::1", "localhost"):
        raise UserError("--no-tls sends health data in clear: only with --bind 127.0.0.1 (a broker on this computer).")
    if not args.clients:
        raise UserError("Name at least one client the therapist follows: --client CODE.")
    setup, fresh = write(args.output, args.therapist, args.clients, prefix=args.prefix, host=args.host, port=args.port,
                         bind=args.bind, tls=False if args.no_tls else None, cafile=args.cafile,
                         certfile=args.certfile, keyfile=args.keyfile)
    folder = args.output.resolve()
    print(f"Wrote the broker setup to {folder}: {therapist_line(setup, args.therapist)}")
    if fresh:
        print(f"New passwords in {folder / 'credentials'}/ for: {', '.join(fresh)} (hand each over, then delete it).")
    print(f"Start the broker with: mosquitto -c {folder / 'mosquitto.conf'}; the commands for each person are in "
          f"{folder / 'README.txt'}.")
    return 0


def therapist_line(setup, therapist: str) -> str:
    return f"therapist {therapist} follows {', '.join(setup.therapists[therapist])}."
