"""The launch checklist: what a support lead should have in place before the assistant goes live.

Each item is a pure check over the policy with a concrete fix, so ``handoff check`` can fail a deploy
pipeline with an actionable message instead of a vague warning.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from handoff_core.errors import PolicyError
from handoff_core.hours import WEEKDAY_NAMES
from handoff_core.policy.loader import LoadedPolicy, default_policy_path, load_policy
from handoff_core.policy.schema import Policy


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    name: str
    passed: bool
    detail: str
    fix: str


def _restricted_topics(p: Policy) -> ChecklistItem:
    rt = p.triggers.restricted_topic
    live = [name for name, t in rt.topics.items() if t.enabled and (t.phrases or t.combos or t.examples or t.model)]
    ok = rt.enabled and bool(live)
    return ChecklistItem(
        "restricted topics defined",
        ok,
        f"{len(live)} topic(s) active: {', '.join(live)}" if ok else "no active restricted topic",
        ""
        if ok
        else "add topics under triggers.restricted_topic.topics (refund, account_security, legal, ...) "
        "with phrases, and set triggers.restricted_topic.enabled: true",
    )


def _confidence(p: Policy) -> ChecklistItem:
    lc = p.triggers.low_confidence
    ok = lc.enabled and 0.0 < lc.threshold < 1.0
    return ChecklistItem(
        "confidence thresholds set",
        ok,
        f"assistant confidence below {lc.threshold:.2f} -> {lc.action.value}; "
        f"knowledge coverage checked ({lc.knowledge.encoder} encoder)"
        if ok
        else "low_confidence is off or its threshold is 0 or 1",
        "" if ok else "set triggers.low_confidence.enabled: true and a threshold between 0 and 1 (0.5 is a good start)",
    )


def _sentiment(p: Policy) -> ChecklistItem:
    s = p.triggers.sentiment
    ok = s.enabled and (bool(s.cues) or s.use_lexicon)
    return ChecklistItem(
        "sentiment trigger on",
        ok,
        f"negative below {s.negative_below:+.2f} -> {s.action.value}, angry below {s.angry_below:+.2f} -> "
        f"{s.angry_action.value}"
        if ok
        else "the sentiment trigger is off or has no cues",
        ""
        if ok
        else "set triggers.sentiment.enabled: true and keep its cue lists (angry customers must reach a person)",
    )


def _vip(p: Policy) -> ChecklistItem:
    v = p.triggers.vip
    criteria = bool(v.tags or v.plans or v.organizations or v.min_lifetime_value is not None)
    ok = v.enabled and criteria and bool(v.route.group)
    problems = []
    if not v.enabled:
        problems.append("the vip trigger is off")
    if not criteria:
        problems.append("no VIP criteria (tags, plans, organizations, min_lifetime_value)")
    if not v.route.group:
        problems.append("no route.group for VIP handoffs")
    return ChecklistItem(
        "VIP routing defined",
        ok,
        f"VIPs go to {v.route.group} at {v.route.priority.value if v.route.priority else 'default'} priority"
        if ok
        else "; ".join(problems),
        ""
        if ok
        else "under triggers.vip set enabled: true, at least one of tags/plans/organizations/"
        "min_lifetime_value, and route.group (the Zendesk group that looks after VIPs)",
    )


def _summary(p: Policy) -> ChecklistItem:
    ok = p.summary.enabled
    return ChecklistItem(
        "transcript summary included",
        ok,
        f"summary of at most {p.summary.max_chars} characters on every handoff" if ok else "summaries are off",
        "" if ok else "set summary.enabled: true so agents do not have to read the whole transcript",
    )


def _review(p: Policy) -> ChecklistItem:
    w = p.review.weekly
    ok = w.enabled and bool(w.schedule) and bool(w.slack_channel)
    return ChecklistItem(
        "weekly review configured",
        ok,
        f"weekly review {w.schedule!r} to {w.slack_channel}" if ok else "no weekly handoff-quality review",
        "" if ok else "set review.weekly.enabled: true, schedule (cron, e.g. '0 9 * * MON') and slack_channel",
    )


@lru_cache(maxsize=1)
def _default_data() -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = load_policy(default_policy_path()).model_dump(mode="json")
    except PolicyError:
        return None
    return data


def _lists(data: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], list[Any]]]:
    """Every list in the policy data with its path, skipping sections that are switched off."""
    if isinstance(data, dict):
        if data.get("enabled") is False:
            return
        for key, value in data.items():
            yield from _lists(value, (*path, str(key)))
    elif isinstance(data, list):
        yield path, data


def _lookup(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def _default_lists_kept(p: Policy) -> ChecklistItem:
    """A file written without ``extends: default`` silently empties every list it leaves out (cue lists,
    phrases in other languages, fallback phrases); say which ones."""
    default = _default_data()
    mine = p.model_dump(mode="json")
    lost = (
        []
        if default is None
        else [
            ".".join(path)
            for path, value in _lists(default)
            if value and _lookup(mine, path) == [] and _lookup(mine, (*path[:-1], "enabled")) is not False
        ]
    )
    ok = not lost
    shown = ", ".join(lost[:6]) + (f" and {len(lost) - 6} more" if len(lost) > 6 else "")
    return ChecklistItem(
        "default phrase lists kept",
        ok,
        "every list the default policy fills is filled" if ok else f"empty here but filled in the default: {shown}",
        "" if ok else "start the policy file with `extends: default` so it says only what changes, or fill these lists",
    )


def _business_hours(p: Policy) -> ChecklistItem:
    """Either no route has business hours, or every route has them (its own or the default's)."""
    default = p.defaults.route.schedule
    routes = p.all_routes()
    with_schedule = [path for path, r in routes if r.schedule or default]
    without = [path for path, r in routes if not (r.schedule or default)]
    ok = not with_schedule or not without
    if not with_schedule:
        detail = "no business hours: handoffs do not tell the customer when a person will reply"
    elif ok:
        names = sorted({r.schedule or default or "" for _, r in routes})
        detail = f"every route has business hours ({', '.join(names)})"
    else:
        detail = f"{len(without)} route(s) without a schedule while others have one: {', '.join(without)}"
    return ChecklistItem(
        "business hours on every route",
        ok,
        detail,
        "" if ok else "set schedule: <name> on these routes, or defaults.route.schedule for all of them",
    )


def _sales_route(p: Policy) -> ChecklistItem:
    s = p.triggers.sales_lead
    ok = not s.enabled or bool(s.route.group)
    if not s.enabled:
        detail = "sales_lead is off"
    elif ok:
        where = f", Slack {s.route.slack_channel}" if s.route.slack_channel else ""
        detail = f"leads from {s.threshold}{' ' + s.currency if s.currency else ''} go to {s.route.group}{where}"
    else:
        detail = "sales_lead is on but its route names no group"
    fix = (
        ""
        if ok
        else "define routes.sales (group, priority, tags, slack_channel); set triggers.sales_lead.route: {use: sales}"
    )
    if ok and s.enabled and s.examples.get("lead"):
        # Imported only here: the example matcher loads numpy and the embedding tokenizer.
        from handoff_core.examples import ExampleMatcher

        issues = ExampleMatcher({str(k): v for k, v in s.examples.items()}).issues()
        if issues:
            ok = False
            detail = "sales_lead examples: " + "; ".join(i.detail for i in issues[:3])
            fix = "give triggers.sales_lead.examples more, and more distinct, lead and not_lead messages"
    return ChecklistItem("sales route defined", ok, detail, fix)


def _fallback_texts(p: Policy) -> ChecklistItem:
    """Every customer-facing text the policy can need exists in every language it supports."""
    m = p.messages
    languages = sorted({p.defaults.language, *m.handoff})
    needed: dict[str, dict[str, str]] = {"handoff": m.handoff, "offer_handoff": m.offer_handoff}
    if p.business_hours.schedules:
        needed["out_of_hours"] = m.out_of_hours
        needed["out_of_hours_collect"] = m.out_of_hours_collect
    if p.business_hours.on_call.slack_channel:
        needed["on_call"] = m.on_call
    if p.triggers.sales_lead.enabled and p.triggers.sales_lead.meeting_link:
        needed["sales_meeting"] = m.sales_meeting
    gaps = [f"messages.{key}.{lang}" for key, texts in needed.items() for lang in languages if lang not in texts]
    if p.business_hours.schedules:
        gaps += [f"messages.weekdays.{lang}" for lang in languages if lang not in WEEKDAY_NAMES | m.weekdays]
    ok = not gaps
    return ChecklistItem(
        "fallback texts in every language",
        ok,
        f"{', '.join(needed)} in {', '.join(languages)}" if ok else f"missing: {', '.join(gaps)}",
        "" if ok else "add the missing texts (languages supported: those of messages.handoff)",
    )


CHECKS: tuple[Callable[[Policy], ChecklistItem], ...] = (
    _restricted_topics,
    _confidence,
    _sentiment,
    _vip,
    _summary,
    _review,
    _default_lists_kept,
    _business_hours,
    _sales_route,
    _fallback_texts,
)


def run_checklist(policy: Policy) -> list[ChecklistItem]:
    return [check(policy) for check in CHECKS]


#: An example-defined topic with fewer examples than this decides unreliably (the issue's "a topic with
#: 20 examples and no code"); ``handoff check`` warns.
MIN_TOPIC_EXAMPLES = 20


def example_warnings(
    policy: Policy, loaded: LoadedPolicy | None = None, min_examples: int = MIN_TOPIC_EXAMPLES
) -> list[str]:
    """Warnings about example-defined labels: too few examples, or two labels whose examples overlap.

    Not checklist failures (a topic may rely on phrases or a trained detector as well), but a topic with
    five examples, or two topics sharing an example, decides unreliably, so ``handoff check`` says so.
    The requests for a person are compared with the topics too: an example in both sends the same message
    two ways. With ``loaded`` (from :func:`inspect_policy`) each warning starts with the FILE:LINE of the
    examples concerned.
    """
    from handoff_core.examples import ExampleMatcher

    fields = {
        name: f"triggers.restricted_topic.topics.{name}.examples"
        for name, topic in policy.triggers.restricted_topic.topics.items()
        if topic.enabled and topic.examples
    }
    examples: dict[str, tuple[str, ...]] = {
        name: policy.triggers.restricted_topic.topics[name].examples for name in fields
    }
    human = policy.triggers.human_request
    if human.enabled and human.examples:
        fields["human_request"] = "triggers.human_request.examples"
        examples["human_request"] = human.examples
    if not examples:
        return []
    out = []
    for issue in ExampleMatcher(examples).issues(min_examples=min_examples):
        places: list[str] = []
        if loaded is not None:
            if issue.kind == "overlap" and len(issue.examples) == len(issue.labels) == 2:
                pairs = zip(issue.labels, issue.examples, strict=True)
                spots = [loaded.where(fields[label], text) for label, text in pairs]
            else:
                spots = [loaded.where(fields[issue.labels[0]], examples[issue.labels[0]][0])]
            places = [str(spot) for spot in spots if spot is not None]
        where = f"{places[0]}: " if places else ""
        also = f" (also {', '.join(places[1:])})" if len(places) > 1 else ""
        out.append(f"{where}{' / '.join(fields[label] for label in issue.labels)}: {issue.detail}{also}")
    out.extend(_head_warnings(policy, loaded, {name: examples[name] for name in fields if name != "human_request"}))
    return out


def _head_warnings(policy: Policy, loaded: LoadedPolicy | None, topics: dict[str, tuple[str, ...]]) -> list[str]:
    """Topics the example head cannot tell from ordinary questions at the false rate it aims for.

    The head (handoff_core.example_head) keeps at least half of a topic's own cross-fitted examples; when
    that needs a threshold that also names more than twice its target share of ordinary questions, the
    examples look like ordinary questions, and more specific examples are the fix.
    """
    from handoff_core.example_head import FALSE_RATE, bundled_negatives, fitted_head

    restricted = policy.triggers.restricted_topic
    if restricted.examples_scorer != "head" or not topics:
        return []
    head = fitted_head(topics, [*bundled_negatives(), *restricted.ordinary_examples])
    out = []
    for name, calibration in head.calibration.items():
        if calibration.ordinary_rate > 2 * FALSE_RATE:
            field = f"triggers.restricted_topic.topics.{name}.examples"
            spot = loaded.where(field, topics[name][0]) if loaded is not None else None
            out.append(
                f"{str(spot) + ': ' if spot is not None else ''}{field}: the examples look like ordinary questions: "
                f"to find half of them (cross-fitted) the head also names {calibration.ordinary_rate:.0%} of "
                f"ordinary questions as {name!r}; add examples that say what is specific to the topic"
            )
    return out
