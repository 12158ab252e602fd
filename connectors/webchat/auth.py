"""Authenticate web-chat calls: a bearer secret, or an HMAC signature of the body.

- ``Authorization: Bearer <WEBCHAT_SECRET>``, or
- ``X-Handoff-Timestamp: <unix seconds>`` and ``X-Handoff-Signature: sha256=<hex>`` where the hex is
  HMAC-SHA256(WEBCHAT_SECRET, ``<timestamp>.<raw body>``); older than 5 minutes is refused.

With no ``WEBCHAT_SECRET`` the worker is in local (demo) mode only if no Zendesk or Slack credentials
are set either; then calls are accepted without authentication (the worker binds to 127.0.0.1 by
default). Otherwise a missing secret makes the worker unready and calls are refused.

::

    AuthError(code)      missing_credentials | bad_credentials | stale_signature | not_configured
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

MAX_SKEW_SECONDS = 300


class AuthError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def verify_webchat(secret: str, headers: Mapping[str, str], body: bytes, *, now: float) -> None:
    if not secret.strip():  # settings refuse this at start-up; an empty key must never verify anything
        raise AuthError("not_configured", "WEBCHAT_SECRET is empty; web-chat calls are refused")
    auth = headers.get("authorization", "")
    if auth:
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise AuthError("bad_credentials", "use 'Authorization: Bearer <WEBCHAT_SECRET>'")
        if not hmac.compare_digest(token.strip().encode(), secret.encode()):
            raise AuthError("bad_credentials", "the bearer secret is wrong")
        return
    signature = headers.get("x-handoff-signature", "")
    timestamp = headers.get("x-handoff-timestamp", "")
    if not signature or not timestamp:
        raise AuthError("missing_credentials", "send a bearer secret or X-Handoff-Signature and -Timestamp")
    try:
        ts = int(timestamp)
    except ValueError as exc:
        raise AuthError("bad_credentials", "X-Handoff-Timestamp must be unix seconds") from exc
    if abs(now - ts) > MAX_SKEW_SECONDS:
        raise AuthError("stale_signature", f"the signature is older than {MAX_SKEW_SECONDS} seconds")
    expected = "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.strip().encode("ascii", "replace")):
        raise AuthError("bad_credentials", "the signature does not match the body")
