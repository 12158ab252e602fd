"""The only place that calls the Slack Web API: ``slack_sdk``'s ``AsyncWebClient``, errors mapped.

The client retries 429s (waiting ``Retry-After``) and 5xx/connection errors a couple of times itself
(``retry_handlers``); what is left is mapped into the connector tree with ``raise ... from exc``:

::

    ConnectorError
    ├── TransientError       429 (retry_after from the header), 5xx, ratelimited/fatal_error/..., network
    └── PermanentError       invalid_auth, channel_not_found, user_not_found, missing scope, ...
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler as _AsyncConnectionErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

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


def build_client(token: str, base_url: str, *, timeout: int = 10, retries: int = 2) -> AsyncWebClient:
    """An ``AsyncWebClient`` that honours Retry-After on 429 and retries server errors, bounded."""
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=[
            AsyncRateLimitErrorRetryHandler(max_retry_count=retries),
            AsyncServerErrorRetryHandler(max_retry_count=retries),
            _AsyncConnectionErrorRetryHandler(max_retry_count=retries),
        ],
    )


class SlackGateway:
    """Post and update alerts, look up a user's email. One instance per app, sharing bolt's client."""

    #: The outbox lane this gateway's actions travel in (the worker's ``AlertSink`` port).
    lane = "slack"

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def aclose(self) -> None:
        """Close the client's HTTP session (aiohttp), if it opened one."""
        session = getattr(self.client, "session", None)
        if session is not None and not session.closed:
            await session.close()

    async def post(
        self, channel: str, text: str, blocks: Sequence[dict[str, Any]], *, key: str | None = None
    ) -> dict[str, str]:
        """Post a message; ``key`` goes into the message metadata so :meth:`find` can see it was posted."""
        metadata = {"event_type": METADATA_EVENT, "event_payload": {"key": key}} if key is not None else None
        async with _mapped():
            response = await self.client.chat_postMessage(
                channel=channel, text=text, blocks=list(blocks), unfurl_links=False, metadata=metadata
            )
        return {"channel": str(response["channel"]), "ts": str(response["ts"])}

    async def find(self, channel: str, key: str, *, oldest: float, pages: int = 5) -> dict[str, str] | None:
        """The message posted with metadata ``key`` since ``oldest`` (epoch seconds), if there is one.

        Reads ``conversations.history`` with ``include_all_metadata`` (scope ``channels:history``), newest
        first, at most ``pages`` pages: a crash-recovered alert is minutes old, not days.
        """
        cursor: str | None = None
        for _ in range(pages):
            async with _mapped():
                response = await self.client.conversations_history(
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
        async with _mapped():
            await self.client.chat_update(channel=channel, ts=ts, text=text, blocks=list(blocks))

    async def user_email(self, user_id: str) -> str:
        async with _mapped():
            response = await self.client.users_info(user=user_id)
        email = ((response.get("user") or {}).get("profile") or {}).get("email")
        if not email:
            raise PermanentError("the Slack user has no visible email (scope users:read.email?)", vendor="slack")
        return str(email)


@asynccontextmanager
async def _mapped() -> AsyncIterator[None]:
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
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise TransientError(f"Slack unreachable: {type(exc).__name__}", vendor="slack") from exc
    except SlackClientError as exc:
        raise TransientError(f"Slack client error: {type(exc).__name__}", vendor="slack") from exc
