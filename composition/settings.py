"""Settings read from the environment, once, by the composition root."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from domain.reported_time import CLOCK_SKEW


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None
    data_dir: Path = Path(".data")
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1  # uvicorn worker processes for ``ecom serve``
    pool_size: int = 8
    lock_timeout_s: int = 5
    tax_rate: Decimal = Decimal("0")
    shipping_flat: Decimal = Decimal("0")
    free_shipping_over: Decimal | None = None
    reservation_ttl_s: int = 7200
    payment_timeout_s: float = 2.0
    projection_batch: int = 1000
    follower_attempts: int = 3  # tries of a failing event before a follower parks it
    follower_backoff_s: float = 0.2  # first delay between those tries (doubling)
    run_projections: bool = True
    run_processes: bool = True
    #: ``ecom serve`` runs the process managers in a child process of their own (``ecom
    #: processes run``), beside the views in the supervising process; off: in its threads
    managers_apart: bool = True
    kafka_bootstrap: str | None = None
    kafka_topic_prefix: str = ""
    kafka_partitions: int = 6
    kafka_replication_factor: int = 1
    # security (api/authentication.py, api/rate_limit.py); no secret → a dev secret in data_dir
    jwt_secret: str | None = None
    jwt_algorithm: str = "HS256"
    jwt_public_key: str | None = None  # PEM text or a path to a PEM file (RS256, ES256, EdDSA)
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_leeway_s: int = 30
    open_docs: bool = True
    open_metrics: bool = False
    rate_per_principal: float = 50.0  # tokens per second, 0 disables
    burst_per_principal: int = 100
    rate_per_client: float = 200.0
    burst_per_client: int = 400
    request_timeout_s: float = 30.0
    #: ``POST /orders`` waits while the saga or a view of every order trails by more than this
    #: many seconds (``api/admission.py``; 0: never; unset: ``admission.DEFAULT_MAX_LAG_S``
    #: where this deployment runs the process managers, ``ecom serve`` included, else never),
    #: and answers 503 ``overloaded`` after waiting ``admission_wait_s``; a saga or view that
    #: has not moved for ``admission_stall_s`` is not waited on
    admission_max_lag_s: float | None = None
    admission_wait_s: float = 5.0
    admission_stall_s: float = 10.0
    #: The analysts' login role's password (eventstore/read_access.py); unset: none is set
    analyst_password: str | None = None
    # how far ahead of our clock a reported business time may lie (domain/reported_time.py)
    clock_skew_s: float = CLOCK_SKEW.total_seconds()
    #: Seconds of quiet after which a live chat stream sends a heartbeat (api/chat_live.py)
    chat_heartbeat_s: float = 15.0
    #: Notifications: the SMTP server (``smtp://host:port``; unset, ``ecom serve`` starts one
    #: delivering to ``<data dir>/mail``), the Maildir it delivers to when it is ours to look
    #: in, the SMS provider's URL (unset: the sandbox in ``<data dir>/sms``), the sender
    #: address, and the public URL unsubscribe links start with.
    smtp_url: str | None = None
    mail_dir: Path | None = None
    sms_url: str | None = None
    mail_from: str = "shop@localhost"
    public_url: str | None = None
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        e = os.environ if env is None else env
        free = e.get("ECOM_FREE_SHIPPING_OVER")
        return cls(
            database_url=e.get("ECOM_DATABASE_URL") or None,
            data_dir=Path(e.get("ECOM_DATA_DIR", ".data")),
            host=e.get("ECOM_HOST", "127.0.0.1"),
            port=int(e.get("ECOM_PORT", "8000")),
            workers=int(e.get("ECOM_WORKERS", "1")),
            pool_size=int(e.get("ECOM_POOL_SIZE", "8")),
            lock_timeout_s=int(e.get("ECOM_LOCK_TIMEOUT_S", "5")),
            tax_rate=Decimal(e.get("ECOM_TAX_RATE", "0")),
            shipping_flat=Decimal(e.get("ECOM_SHIPPING_FLAT", "0")),
            free_shipping_over=Decimal(free) if free else None,
            reservation_ttl_s=int(e.get("ECOM_RESERVATION_TTL_S", "7200")),
            payment_timeout_s=float(e.get("ECOM_PAYMENT_TIMEOUT_S", "2.0")),
            projection_batch=int(e.get("ECOM_PROJECTION_BATCH", "1000")),
            follower_attempts=int(e.get("ECOM_FOLLOWER_ATTEMPTS", "3")),
            follower_backoff_s=float(e.get("ECOM_FOLLOWER_BACKOFF_S", "0.2")),
            run_projections=e.get("ECOM_RUN_PROJECTIONS", "1") not in ("0", "false", "no"),
            run_processes=e.get("ECOM_RUN_PROCESSES", "1") not in ("0", "false", "no"),
            managers_apart=e.get("ECOM_MANAGERS_APART", "1") not in ("0", "false", "no"),
            kafka_bootstrap=e.get("ECOM_KAFKA_BOOTSTRAP_SERVERS") or None,
            kafka_topic_prefix=e.get("ECOM_KAFKA_TOPIC_PREFIX", ""),
            kafka_partitions=int(e.get("ECOM_KAFKA_PARTITIONS", "6")),
            kafka_replication_factor=int(e.get("ECOM_KAFKA_REPLICATION_FACTOR", "1")),
            jwt_secret=e.get("ECOM_JWT_SECRET") or None,
            jwt_algorithm=e.get("ECOM_JWT_ALGORITHM", "HS256"),
            jwt_public_key=e.get("ECOM_JWT_PUBLIC_KEY") or None,
            jwt_issuer=e.get("ECOM_JWT_ISSUER") or None,
            jwt_audience=e.get("ECOM_JWT_AUDIENCE") or None,
            jwt_leeway_s=int(e.get("ECOM_JWT_LEEWAY_S", "30")),
            open_docs=e.get("ECOM_OPEN_DOCS", "1") not in ("0", "false", "no"),
            open_metrics=e.get("ECOM_OPEN_METRICS", "0") not in ("0", "false", "no"),
            rate_per_principal=float(e.get("ECOM_RATE_PER_PRINCIPAL", "50")),
            burst_per_principal=int(e.get("ECOM_BURST_PER_PRINCIPAL", "100")),
            rate_per_client=float(e.get("ECOM_RATE_PER_CLIENT", "200")),
            burst_per_client=int(e.get("ECOM_BURST_PER_CLIENT", "400")),
            request_timeout_s=float(e.get("ECOM_REQUEST_TIMEOUT_S", "30")),
            admission_max_lag_s=(
                float(e["ECOM_ADMISSION_MAX_LAG_S"]) if e.get("ECOM_ADMISSION_MAX_LAG_S") else None
            ),
            admission_wait_s=float(e.get("ECOM_ADMISSION_WAIT_S", "5")),
            admission_stall_s=float(e.get("ECOM_ADMISSION_STALL_S", "10")),
            analyst_password=e.get("ECOM_ANALYST_PASSWORD") or None,
            clock_skew_s=float(e.get("ECOM_CLOCK_SKEW_S", CLOCK_SKEW.total_seconds())),
            chat_heartbeat_s=float(e.get("ECOM_CHAT_HEARTBEAT_S", "15")),
            smtp_url=e.get("ECOM_SMTP_URL") or None,
            mail_dir=Path(e["ECOM_MAIL_DIR"]) if e.get("ECOM_MAIL_DIR") else None,
            sms_url=e.get("ECOM_SMS_URL") or None,
            mail_from=e.get("ECOM_MAIL_FROM", "shop@localhost"),
            public_url=e.get("ECOM_PUBLIC_URL") or None,
        )
