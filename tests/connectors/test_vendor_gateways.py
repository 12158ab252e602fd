"""The Zendesk and Slack gateways against the real local fakes: reads, writes, error mapping."""

from __future__ import annotations

import pytest

from connectors.errors import PermanentError, TransientError
from connectors.slack.gateway import SlackGateway, build_client
from connectors.zendesk.gateway import ZendeskConfig, ZendeskGateway, ZendeskNotFound
from connectors.zendesk.models import HandoffUpdate, NewTicket
from connectors.zendesk.transcript import to_conversation
from handoff_core import Priority, Role


def _gateway(fake, **kw) -> ZendeskGateway:
    return ZendeskGateway(
        ZendeskConfig(
            subdomain="acme",
            email=fake.email,
            token=kw.pop("token", fake.token),
            ratelimit_budget=kw.pop("budget", 3.0),
            timeout=5,
        )
    )


def _seed(fake):
    org = fake.add_organization(name="Globex", tags=["vip"])
    ann = fake.add_user(name="Ann", email="ann@globex.example", organization_id=org, tags=["premium"])
    agent = fake.add_user(name="Ed", email="ed@acme.example", role="agent")
    tid = fake.add_ticket(
        requester_id=ann,
        subject="s",
        organization_id=org,
        comments=[(ann, "one"), (agent, "two"), (ann, "three"), (ann, "four"), (ann, "five")],
    )
    return tid, ann, agent


@pytest.mark.anyio
async def test_read_ticket_follows_every_page_and_reads_fresh(fake_zendesk):
    """All comments across pages, requester and organization are read; tags come from both, uncached."""
    fake, _ = fake_zendesk
    tid, _, _ = _seed(fake)
    gateway = _gateway(fake)
    snapshot = await gateway.read_ticket(tid)
    assert [c.text for c in snapshot.comments] == ["one", "two", "three", "four", "five"]
    assert len(fake.requests_to("GET", f"/tickets/{tid}/comments.json")) == 3, "page size 2 -> 3 pages"
    conversation = to_conversation(snapshot)
    assert [m.role for m in conversation.messages][:2] == [Role.CUSTOMER, Role.AGENT]
    assert set(conversation.customer.tags) == {"vip", "premium"}
    fake.organizations[snapshot.organization.id]["tags"] = []
    again = await gateway.read_ticket(tid)
    assert again.organization.tags == (), "no cache: the change is seen at once"
    gateway.close()


@pytest.mark.anyio
async def test_handoff_resolves_group_by_name_and_is_idempotent(fake_zendesk):
    """Group names resolve through the paginated groups API; a second apply with the same marker is a no-op."""
    fake, _ = fake_zendesk
    tid, _, _ = _seed(fake)
    for name in ("A", "B", "C", "VIP Support"):
        fake.add_group(name)
    gateway = _gateway(fake)
    update = HandoffUpdate(
        ticket_id=tid,
        tags=("ai_handoff", "handoff_vip"),
        priority=Priority.HIGH,
        group="VIP Support",
        note="[handoff-guard] decision d1\nnote",
        marker="[handoff-guard] decision d1",
    )
    result = await gateway.apply_handoff(update)
    assert fake.tickets[tid]["group_id"] == result["group_id"]
    again = await gateway.apply_handoff(update)
    assert again["already_applied"] is True
    assert len(fake.private_notes(tid)) == 1 and len(fake.requests_to("PUT", f"/tickets/{tid}.json")) == 1
    gateway.close()


@pytest.mark.anyio
async def test_create_ticket_looks_up_external_id_first(fake_zendesk):
    """Creating the same web-chat ticket twice returns the first ticket instead of a duplicate."""
    fake, _ = fake_zendesk
    gateway = _gateway(fake)
    new = NewTicket(
        external_id="handoff-guard:c9",
        subject="s",
        requester_name="Bo",
        requester_email="bo@x.example",
        tags=("ai_handoff",),
        priority=Priority.NORMAL,
        note="transcript",
    )
    first = await gateway.create_ticket(new)
    second = await gateway.create_ticket(new)
    assert first["created"] and not second["created"] and first["ticket_id"] == second["ticket_id"]
    assert len(fake.tickets) == 1
    gateway.close()


@pytest.mark.anyio
async def test_zendesk_errors_are_mapped(fake_zendesk):
    """404 -> not found (permanent), bad token -> permanent, 5xx -> transient, 429 past the budget -> transient."""
    fake, _ = fake_zendesk
    tid, _, _ = _seed(fake)
    with pytest.raises(ZendeskNotFound):
        await _gateway(fake).read_ticket(999_999)
    with pytest.raises(PermanentError):
        await _gateway(fake, token="wrong").read_ticket(tid)
    fake.fail_next(500)
    with pytest.raises(TransientError):
        await _gateway(fake).read_ticket(tid)
    fake.fail_next(429, retry_after=5)
    with pytest.raises(TransientError) as err:
        await _gateway(fake, budget=1.0).read_ticket(tid)
    assert err.value.rate_limited and err.value.retry_after == 5
    fake.down = True
    with pytest.raises(TransientError):
        await _gateway(fake).read_ticket(tid)


@pytest.mark.anyio
async def test_assign_matches_agent_by_email(fake_zendesk):
    """Assignment finds the agent by email; an email with no agent is a permanent error."""
    fake, _ = fake_zendesk
    tid, _, agent = _seed(fake)
    gateway = _gateway(fake)
    await gateway.assign(tid, "ED@acme.example")
    assert fake.tickets[tid]["assignee_id"] == agent
    with pytest.raises(PermanentError):
        await gateway.assign(tid, "ann@globex.example")  # an end user, not an agent
    gateway.close()


@pytest.mark.anyio
async def test_slack_gateway_posts_and_maps_errors(fake_slack):
    """Posting works after a 429 (Retry-After honoured); unknown channel is permanent; down is transient."""
    fake, server = fake_slack
    client = build_client(fake.token, f"{server.url}/api/", retries=1)
    gateway = SlackGateway(client)
    fake.fail_next(429, method="chat.postMessage", retry_after=1)
    posted = await gateway.post("C0ALERTS", "t", [])
    assert posted["channel"] == "C0ALERTS" and len(fake.calls_to("chat.postMessage")) == 2
    with pytest.raises(PermanentError):
        await gateway.post("CNOPE", "t", [])
    fake.down = True
    with pytest.raises(TransientError):
        await gateway.post("C0ALERTS", "t", [])
    fake.down = False
    fake.fail_next(429, times=5, method="chat.postMessage", retry_after=2)
    with pytest.raises(TransientError) as err:
        await SlackGateway(build_client(fake.token, f"{server.url}/api/", retries=0)).post("C0ALERTS", "t", [])
    assert err.value.rate_limited and err.value.retry_after == 2


def test_sessions_of_finished_threads_are_not_kept(fake_zendesk):
    """A call's thread keeps its own requests session; once the thread ends the gateway holds nothing of it
    (anyio's worker threads come and go: a list of every thread's session grew a live worker's memory)."""
    import gc
    import threading
    from functools import partial

    fake, _ = fake_zendesk
    tid, _, _ = _seed(fake)
    gateway = _gateway(fake)
    read = gateway._mapped(partial(gateway._read_ticket, tid))
    for _ in range(20):
        thread = threading.Thread(target=read)
        thread.start()
        thread.join()
    gc.collect()
    assert len(gateway._sessions) == 0
    assert read().ticket.id == tid  # this thread's session stays while the thread lives, and close() closes it
    assert len(gateway._sessions) == 1
    gateway.close()
    assert len(gateway._sessions) == 0
