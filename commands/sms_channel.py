"""SMS through an HTTP provider, or the local sandbox.

``HttpSms`` POSTs ``{to, text, encoding, segments}`` (the number in E.164) to ``ECOM_SMS_URL``
with an ``Idempotency-Key`` header, the notification's key: a provider keeps one message per
key, so a send whose answer was lost is sent again under it safely. ``SandboxSms`` records
each message as a JSON file in a folder (``./.data/sms`` by default), named after the key, so
a repeat under a key writes nothing new."""

from __future__ import annotations

import hashlib
import json
import os
import urllib.error
import urllib.request
from pathlib import Path

from domain.notification.sms_segments import segments


def _payload(to: str, text: str) -> dict:
    seg = segments(text)
    return {"to": to, "text": text, "encoding": seg.encoding, "segments": seg.segments}


class HttpSms:
    def __init__(self, url: str, timeout_s: float = 10.0):
        self.url, self.timeout_s = url, timeout_s

    def send(self, key: str, to: str, text: str) -> None:
        request = urllib.request.Request(
            self.url,
            data=json.dumps(_payload(to, text)).encode(),
            headers={"Content-Type": "application/json", "Idempotency-Key": key},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s):  # noqa: S310
                pass
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"the SMS provider answered {exc.code}") from None


class SandboxSms:
    def __init__(self, folder: Path):
        self.folder = folder

    def send(self, key: str, to: str, text: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{hashlib.sha256(key.encode()).hexdigest()}.json"
        if path.exists():
            return
        temp = path.with_suffix(f".{os.getpid()}.tmp")
        temp.write_text(json.dumps({"key": key, **_payload(to, text)}))
        os.replace(temp, path)
