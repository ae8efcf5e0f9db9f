"""``ecom token --role ROLE --sub ID [--ttl SECONDS]``: mint a bearer token for development.

It signs with the same key the server verifies with: ``ECOM_JWT_SECRET`` when set, else the
development secret in ``<ECOM_DATA_DIR>/jwt_secret`` (created on first use, mode 0600). With an
asymmetric ``ECOM_JWT_ALGORITHM`` pass the private key with ``--private-key FILE``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from uuid import UUID

from api.authentication import ROLES, AuthConfig, mint
from composition.settings import Settings


def _token(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    if args.role == "customer":
        try:
            args.sub = str(UUID(args.sub))
        except ValueError:
            print("ecom token: a customer's --sub is their customer id (a UUID)", file=sys.stderr)
            return 2
    try:
        config = AuthConfig.from_settings(settings)
        key = Path(args.private_key).read_text() if args.private_key else None
        token = mint(config, args.sub, args.role, ttl_s=args.ttl, signing_key=key)
    except (ValueError, OSError) as exc:
        print(f"ecom token: {exc}", file=sys.stderr)
        return 2
    print(token)
    return 0


def _ttl(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 366 * 86400:
        raise argparse.ArgumentTypeError("must be between 1 second and a year")
    return value


def register(subparsers) -> None:
    token = subparsers.add_parser(
        "token", help="mint a development bearer token (Authorization: Bearer ...)"
    )
    token.add_argument("--role", required=True, choices=ROLES)
    token.add_argument("--sub", required=True, help="subject; a customer's is their customer id")
    token.add_argument("--ttl", type=_ttl, default=3600, help="lifetime in seconds (default 3600)")
    token.add_argument("--private-key", help="PEM file, for RS256/ES256/EdDSA configurations")
    token.set_defaults(func=_token)
