"""The only place that calls the Slack Web API: ``slack_sdk``'s ``WebClient`` in worker threads, errors mapped.

Why the synchronous client: ``slack_sdk``'s ``AsyncWebClient`` needs ``aiohttp``, and with it (and
slack-bolt's ``AsyncApp``) a live worker carried about 11 MB more resident memory than with the
standard-library ``urllib`` client, for a handful of calls a minute (docs/volume.md, "Worker memory").
Each call runs in a thread (``anyio.to_thread``), never on the event loop; the client keeps no
connection between calls, so there is nothing to close and nothing shared between threads but its
settings.

The client retries 429s (waiting ``Retry-After``) and 5xx/connection errors a couple of times itself
(``retry_handlers``); what is left is mapped into the connector tree with ``raise ... from exc``:

::

    ConnectorError
    ├── TransientError       429 (retry_after from the header), 5xx, ratelimited/fatal_error/..., network
    └── PermanentError       invalid_auth, channel_not_found, user_not_found, missing scope, ...
"""

from __future__ import annotations

import http.client
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any

import anyio.to_thread
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.web import SlackResponse, WebClient

from connectors.errors import PermanentError, TransientError

#: ``event_type`` of the metadata our alerts carry (the outbox key inside lets a retry find its alert).
METADATA_EVENT = "handoff_guard_alert"

TRANSIENT_SLACK_ERRORS = frozenset(
    {
        "ratelimited",
        "fatal_error",
        "internal_error",
        "service_unavailable",
        "request_timeout",
        "team_added_to_org",
    }
)


def build_client(token: str, base_url: str, *, timeout: int = 10, retries: int = 2) -> WebClient:
    """A ``WebClient`` that honours Retry-After on 429 and retries server and connection errors, bounded."""
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=[
            RateLimitErrorRetryHandler(max_retry_count=retries),
            ServerErrorRetryHandler(max_retry_count=retries),
            ConnectionErrorRetryHandler(max_retry_count=retries),
        ],
    )


class SlackGateway:
    """Post and update alerts, look up a user's email. One instance per app, sharing bolt's client."""

    #: The outbox lane this gateway's actions travel in (the worker's ``AlertSink`` port).
    lane = "slack"

    def __init__(self, client: WebClient) -> None:
        self.client = client

    async def aclose(self) -> None:
        """Nothing to close: the ``urllib`` client opens a connection per call (kept for the port)."""

    async def _call(self, method: Callable[..., SlackResponse], **kwargs: Any) -> SlackResponse:
        """``method(**kwargs)`` of the client in a worker thread (it blocks, retries and sleeps), errors mapped."""
        with _mapped():
            return await anyio.to_thread.run_sync(partial(method, **kwargs))

    async def post(
        self, channel: str, text: str, blocks: Sequence[dict[str, Any]], *, key: str | None = None
    ) -> dict[str, str]:
        """Post a message; ``key`` goes into the message metadata so :meth:`find` can see it was posted."""
        metadata = {"event_type": METADATA_EVENT, "event_payload": {"key": key}} if key is not None else None
        response = await self._call(
            self.client.chat_postMessage,
            channel=channel,
            text=text,
            blocks=list(blocks),
            unfurl_links=False,
            metadata=metadata,
        )
        return {"channel": str(response["channel"]), "ts": str(response["ts"])}

    async def find(self, channel: str, key: str, *, oldest: float, pages: int = 5) -> dict[str, str] | None:
        """The message posted with metadata ``key`` since ``oldest`` (epoch seconds), if there is one.

        Reads ``conversations.history`` with ``include_all_metadata`` (scope ``channels:history``), newest
        first, at most ``pages`` pages: a crash-recovered alert is minutes old, not days.
        """
        cursor: str | None = None
        for _ in range(pages):
            response = await self._call(
                self.client.conversations_history,
                channel=channel,
                oldest=f"{max(oldest, 0.0):.6f}",
                include_all_metadata=True,
                limit=200,
                cursor=cursor,
            )
            for message in response.get("messages") or []:
                meta = message.get("metadata") or {}
                if meta.get("event_type") == METADATA_EVENT and (meta.get("event_payload") or {}).get("key") == key:
                    return {"channel": channel, "ts": str(message["ts"])}
            cursor = ((response.get("response_metadata") or {}).get("next_cursor")) or None
            if not cursor:
                return None
        return None

    async def update(self, channel: str, ts: str, text: str, blocks: Sequence[dict[str, Any]]) -> None:
        await self._call(self.client.chat_update, channel=channel, ts=ts, text=text, blocks=list(blocks))

    async def user_email(self, user_id: str) -> str:
        response = await self._call(self.client.users_info, user=user_id)
        email = ((response.get("user") or {}).get("profile") or {}).get("email")
        if not email:
            raise PermanentError("the Slack user has no visible email (scope users:read.email?)", vendor="slack")
        return str(email)


@contextmanager
def _mapped() -> Iterator[None]:
    try:
        yield
    except SlackApiError as exc:
        response = exc.response
        status = getattr(response, "status_code", 0) or 0
        error = ""
        try:
            error = str(response.get("error", "")) if response is not None else ""
        except (AttributeError, TypeError):
            error = ""
        if status == 429:
            header = (getattr(response, "headers", None) or {}).get("retry-after") or (
                getattr(response, "headers", None) or {}
            ).get("Retry-After")
            retry_after = float(header) if header and str(header).isdigit() else None
            raise TransientError(
                "Slack answered 429", vendor="slack", retry_after=retry_after, rate_limited=True
            ) from exc
        if status >= 500 or error in TRANSIENT_SLACK_ERRORS:
            raise TransientError(f"Slack failed ({status} {error})".strip(), vendor="slack") from exc
        raise PermanentError(f"Slack refused the call: {error or status}", vendor="slack") from exc
    except (OSError, http.client.HTTPException) as exc:  # URLError, timeouts, resets: what urllib raises
        raise TransientError(f"Slack unreachable: {type(exc).__name__}", vendor="slack") from exc
    except SlackClientError as exc:
        raise TransientError(f"Slack client error: {type(exc).__name__}", vendor="slack") from exc
