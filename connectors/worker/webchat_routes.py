"""``POST /v1/webchat/messages`` and ``POST /v1/webchat/conversations``: decide synchronously.

One turn: authenticate, parse (unknown fields -> 422), then under a per-conversation lock: replay the
stored answer if this message was seen before, otherwise decide, and store the conversation, the answer
and the planned actions in one transaction *before* answering. The outbox then sends the actions. The
same message id twice gives the same answer and one effect.

The endpoints are served as the Zendesk acknowledgement is: as bare ASGI handlers the app calls ahead of
its middleware stack (:data:`fast_routes`), with plain Starlette routes (:data:`routes`) behind the stack
for any other way in; both read the raw body themselves (the signature covers the bytes) and answer
the same. :data:`router` describes them in OpenAPI.

Under overload (the expected wait for a decision slot over ``DECISION_MAX_WAIT_SECONDS``) a message is
answered 503 ``overloaded`` + ``Retry-After`` before its body is read, and nothing is stored: posting the
same message again later is safe.

The routes use one :class:`Webchat` service (``app.state.webchat``, built at start-up with only what a
turn needs: its access settings, the conversation and turn stores, the decision path, metrics and the
outbox's wake-up), never the worker's other parts.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from fastapi import APIRouter, Request
from pydantic import BaseModel, SecretStr, ValidationError
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from connectors.metrics import Metrics
from connectors.redaction import known_values, scrub_decision
from connectors.store import ConversationRecord, ConversationStore, TurnStore
from connectors.webchat.auth import AuthError, verify_webchat
from connectors.webchat.schemas import WebchatMessageIn, WebchatReply
from connectors.worker.handoffs import Handoffs, to_send
from connectors.worker.http import (
    ApiError,
    asgi_headers,
    check_json_type,
    parse_json,
    read_body,
    receive_body,
    render_json,
    serve_raw,
    validation_message,
)
from connectors.worker.offload import StoreCalls
from connectors.worker.pool import DecisionOverload, DecisionTimeout
from connectors.worker.processes import DecisionLost
from handoff_core import Action, Context, Conversation, ConversationState, Customer, Message

#: Describes the endpoints in OpenAPI only; :data:`routes` serve them (see the end of this module).
router = APIRouter(prefix="/v1/webchat", tags=["web chat"])
CHANNEL = "webchat"
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "malformed JSON"},
    401: {"description": "missing or wrong secret or signature"},
    403: {"description": "context.ticket_id names a ticket this conversation did not create"},
    413: {"description": "body larger than MAX_BODY_BYTES"},
    415: {"description": "not application/json"},
    422: {"description": "invalid or unknown fields (the message names them)"},
    503: {
        "description": "overloaded (the wait for a decision would exceed DECISION_MAX_WAIT_SECONDS), the decision"
        " did not finish within DECISION_BUDGET_SECONDS, or its decision process died (decision_lost); nothing"
        " was stored, post it again after Retry-After"
    },
}


class WebchatStore(ConversationStore, TurnStore, Protocol):
    """What a turn uses of the store: the conversation, its lock, and the stored answers."""


@dataclass(frozen=True)
class WebchatAccess:
    """Who may call and how much (settings read once at start-up)."""

    max_body_bytes: int
    secret: SecretStr | None
    #: No Zendesk and no Slack: calls without a secret are accepted (never on a network host; see settings).
    local_mode: bool
    #: ``WEBCHAT_FOREIGN_TICKETS``: a conversation may name a ticket it did not create.
    foreign_tickets: bool = False


@dataclass(frozen=True)
class Webchat:
    """Everything a web-chat turn uses, and nothing else."""

    access: WebchatAccess
    store: WebchatStore
    handoffs: Handoffs
    calls: StoreCalls
    metrics: Metrics
    outbox_wakeup: asyncio.Event


def _service(request: Request) -> Webchat:
    web: Webchat = request.app.state.webchat
    return web


def _body_schema(name: str) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
        }
    }


def _authenticate(access: WebchatAccess, headers: Mapping[str, str], body: bytes) -> None:
    secret = access.secret
    if secret is None:
        if not access.local_mode:
            raise ApiError(401, "not_configured", "WEBCHAT_SECRET is not set; web-chat calls are refused")
    else:
        try:
            verify_webchat(secret.get_secret_value(), headers, body, now=time.time())
        except AuthError as exc:
            raise ApiError(401, exc.code, str(exc)) from exc
    check_json_type(headers.get("content-type"))


def _check_id(conversation_id: str) -> None:
    if conversation_id.startswith("zendesk:"):
        raise ApiError(422, "invalid_request", "conversation_id must not start with 'zendesk:'")


def _check_ticket(access: WebchatAccess, conversation: Conversation, previous: ConversationRecord | None) -> None:
    """Web chat may only touch the ticket it created for this conversation (its ``external_id`` mapping).

    ``context.ticket_id`` comes from the web-chat caller, who is not the ticket's owner: without this
    check anyone holding the web-chat secret could tag, re-route and annotate any customer's ticket.
    ``WEBCHAT_FOREIGN_TICKETS=true`` allows it for integrations that really link chats to tickets.
    """
    ticket = conversation.context.ticket_id
    if ticket is None or access.foreign_tickets:
        return
    if previous is None or previous.ticket_id != ticket:
        raise ApiError(
            403,
            "foreign_ticket",
            f"ticket {ticket[:40]!r} was not created by this web-chat conversation; leave context.ticket_id"
            " out (a ticket is created on handoff) or set WEBCHAT_FOREIGN_TICKETS=true",
        )


async def _turn(
    web: Webchat,
    conversation: Conversation,
    key: str,
    message_id: str | None,
    build: Callable[[ConversationRecord | None], Conversation] | None = None,
) -> tuple[dict[str, Any], bool]:
    """Decide once per key; ``build`` makes the conversation from what is stored (message endpoint)."""
    store, calls = web.store, web.calls
    async with store.conversation_lock(conversation.id):
        replay = await calls(store.reply_get, key)
        if replay is not None:
            return replay, True
        previous = await calls(store.conversation_get, conversation.id)
        if build is not None:
            conversation = build(previous)
        _check_ticket(web.access, conversation, previous)
        outcome = await web.handoffs.decide(conversation, previous, may_shed=True, answer=True)
        state = outcome.record.state
        # The answer quotes the customer; it leaves (and is stored) through the redaction edge (made by the
        # decision process when there is one: pure work, off the event loop).
        shown = outcome.answer
        if shown is None:
            shown = scrub_decision(outcome.decision, known_values(conversation)).model_dump(mode="json")
        reply = {
            **shown,
            "conversation_id": conversation.id,
            "decision_id": outcome.decision_id,
            "message_id": message_id,
            "stay_silent": state.handed_off or outcome.decision.action is Action.HANDOFF,
        }
        stored = await calls(store.save_turn, outcome.record, key, reply, outcome.actions)
        if to_send(outcome.actions):
            web.outbox_wakeup.set()
        return stored, stored is not reply


def _outcome_for(exc: ApiError) -> str:
    return {401: "unauthorized", 403: "unauthorized", 413: "too_large", 503: "error"}.get(exc.status, "bad_request")


M = TypeVar("M", bound=BaseModel)


def _validated(model: type[M], body: bytes) -> M:
    try:
        return model.model_validate(parse_json(body))
    except ValidationError as exc:
        raise ApiError(422, "invalid_request", validation_message(exc.errors())) from exc


@dataclass(frozen=True)
class _TurnInput:
    """What an endpoint makes of a request body: the conversation, its dedupe key and how to build it."""

    seed: Conversation
    key: str
    message_id: str | None
    build: Callable[[ConversationRecord | None], Conversation] | None = None


async def _answer(
    web: Webchat,
    headers: Mapping[str, str],
    body: Callable[[], Awaitable[bytes]],
    prepare: Callable[[bytes], _TurnInput],
) -> bytes:
    """The part both endpoints and both ways in share: shed or read, authenticate, prepare, decide once, count
    the outcome. The answer's JSON, or :class:`ApiError`."""
    outcome = "error"
    try:
        try:
            # Under overload the request is turned away before its body is even read: a refusal must cost
            # far less than the decision it avoids, or refusing would itself fill the core. (Nothing about
            # the caller is revealed by a 503; an unauthenticated one gets its 401 once there is room.)
            web.handoffs.admit()
            raw = await body()
            _authenticate(web.access, headers, raw)
            turn = prepare(raw)
            _check_id(turn.seed.id)
            reply, duplicate = await _turn(web, turn.seed, turn.key, turn.message_id, turn.build)
        except (DecisionTimeout, DecisionLost) as exc:
            raise ApiError(
                503,
                "decision_lost" if isinstance(exc, DecisionLost) else "decision_timeout",
                f"{exc}; nothing was stored, post the same message again",
                headers={"Retry-After": "1"},
            ) from exc
        except DecisionOverload as exc:
            outcome = "overloaded"
            raise ApiError(
                503,
                "overloaded",
                f"too many decisions in progress ({exc}); nothing was stored, post the same message again",
                headers={"Retry-After": "1"},
            ) from exc
        outcome = "duplicate" if duplicate else "accepted"
        return render_json(reply)
    except ApiError as exc:
        if outcome != "overloaded":
            outcome = _outcome_for(exc)
        raise
    finally:
        web.metrics.webhook("webchat", outcome)


async def _route(request: Request, prepare: Callable[[bytes], _TurnInput]) -> Response:
    """An endpoint as a Starlette route: reached only when :func:`serve` is not (e.g. under a root path)."""
    web = _service(request)
    answer = await _answer(web, request.headers, lambda: read_body(request, web.access.max_body_bytes), prepare)
    return Response(answer, media_type="application/json")


def serve(prepare: Callable[[bytes], _TurnInput]) -> Callable[[Webchat, Scope, Receive, Send], Awaitable[None]]:
    """An endpoint as a bare ASGI handler, called by the app before its middleware stack (as the Zendesk
    acknowledgement is, and for the same reason: ``docs/performance.md``). Same answers as :func:`_route`."""

    async def handle(web: Webchat, scope: Scope, receive: Receive, send: Send) -> None:
        headers = asgi_headers(scope)

        async def body() -> bytes:
            raw = await receive_body(receive, headers, web.access.max_body_bytes)
            if raw is None:
                raise ApiError(400, "client_disconnected", "the client closed the connection before the body")
            return raw

        async def answer() -> tuple[int, bytes]:
            return 200, await _answer(web, headers, body, prepare)

        await serve_raw(send, answer)

    return handle


#: The defaults of a conversation's fields, built once: ``model_construct`` calls a field's default factory
#: per object, and pydantic inspects the factory's signature each time (parsing and building a 2 KB
#: message's turn: 62 -> 23 us). The models are frozen, so every conversation may share these.
_NO_CUSTOMER = Customer()
_NO_CONTEXT = Context()
_NEW_STATE = ConversationState()


def _message_turn(body: bytes) -> _TurnInput:
    msg = _validated(WebchatMessageIn, body)
    # WebchatMessageIn has just checked every field with the core models' own constraints: build the
    # core objects without validating the same values a second time (on a 2 KB message that is most of
    # the request's non-decision work).
    message = Message.model_construct(
        role=msg.role,
        text=msg.text,
        created_at=msg.created_at,
        confidence=msg.confidence,
        fallback=msg.fallback,
        id=msg.message_id,
    )

    def build(previous: ConversationRecord | None) -> Conversation:
        before = previous.conversation if previous is not None else None
        messages = (*(before.messages if before else ()), message)[-2_000:]
        return Conversation.model_construct(
            id=msg.conversation_id,
            channel=CHANNEL,
            customer=msg.customer or (before.customer if before else _NO_CUSTOMER),
            context=msg.context or (before.context if before else _NO_CONTEXT),
            language=msg.language or (before.language if before else None),
            messages=messages,
            state=_NEW_STATE,  # the stored state is joined in by Handoffs.decide (handoff_core.state.carry)
        )

    seed = Conversation.model_construct(
        id=msg.conversation_id,
        channel=CHANNEL,
        customer=_NO_CUSTOMER,
        context=_NO_CONTEXT,
        language=None,
        messages=(message,),
        state=_NEW_STATE,
    )
    return _TurnInput(seed, f"msg:{msg.conversation_id}:{msg.message_id}", msg.message_id, build)


def _conversation_turn(body: bytes) -> _TurnInput:
    conversation = _validated(Conversation, body)
    digest = hashlib.sha256(conversation.model_dump_json().encode()).hexdigest()
    return _TurnInput(conversation, f"conv:{conversation.id}:{digest}", conversation.messages[-1].id)


@router.post(
    "/messages",
    summary="Post one message; get the decision",
    response_model=WebchatReply,
    responses=_ERRORS,
    openapi_extra=_body_schema("WebchatMessageIn"),
)
async def post_message(request: Request) -> Response:
    """Store the message, decide on the whole conversation so far, and answer with the decision."""
    return await _route(request, _message_turn)


@router.post(
    "/conversations",
    summary="Post a whole conversation (the simulator's input shape); get the decision",
    response_model=WebchatReply,
    responses=_ERRORS,
    openapi_extra=_body_schema("Conversation"),
)
async def post_conversation(request: Request) -> Response:
    """Replace the stored transcript with this one and decide. The same body twice gives the same answer."""
    return await _route(request, _conversation_turn)


MESSAGES = "/v1/webchat/messages"
CONVERSATIONS = "/v1/webchat/conversations"
#: The routes behind the middleware stack (plain Starlette routes; errors go through the app's handlers).
routes = [
    Route(MESSAGES, post_message, methods=["POST"]),
    Route(CONVERSATIONS, post_conversation, methods=["POST"]),
]
#: The same endpoints as bare ASGI handlers, which the app calls first (:class:`connectors.worker.app.WorkerApp`).
fast_routes = {MESSAGES: serve(_message_turn), CONVERSATIONS: serve(_conversation_turn)}
