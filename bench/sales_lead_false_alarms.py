"""How often ``sales_lead`` mistakes ordinary support traffic for buying intent, on real public data.

Usage: python bench/sales_lead_false_alarms.py [--examples N]

No public labelled set of sales-intent support messages is available (see ../shared/datasets/
README.md), so this measures only one side: messages that are *not* leads. Every message of three sets
is decided on its own with the default policy, and we count how many get a ``sales_lead`` reason
(buying intent seen) and how many are handed to sales (value at or above the threshold):

- ``bitext_customer_support``: 4,514 generated customer-service requests in 27 intents; the billing
  intents (invoices, payment methods and issues, cancellation fees) are exactly the "existing customer
  asks about their own bill" case;
- ``cfpb_complaints_sample``: 1,532 real consumer complaints about financial products;
- ``hwu64_nlu_evaluation_data``: 11,036 real crowd-written home-assistant requests (everyday language).

The default policy's sales phrases were written before this script was run and were not tuned on it.
"""

from __future__ import annotations

import argparse
import csv
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime

from connectors.training.data import default_datasets
from handoff_core import Action, Conversation, TriggerName
from handoff_core.engine import DecisionEngine
from handoff_core.policy import default_policy_path, load_policy

DATA = default_datasets()
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
BILLING = {"check_invoice", "get_invoice", "payment_issue", "check_payment_methods", "check_cancellation_fee"}


def bitext() -> Iterable[tuple[str, str]]:
    with (DATA / "bitext_customer_support" / "bitext_customer_support_4514.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            yield row["intent"], row["instruction"]


def cfpb() -> Iterable[tuple[str, str]]:
    csv.field_size_limit(10_000_000)
    with (DATA / "cfpb_complaints_sample" / "cfpb_complaints_with_narrative.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            yield row["Product"], row["Consumer complaint narrative"][:20_000]


def hwu64() -> Iterable[tuple[str, str]]:
    with (DATA / "hwu64_nlu_evaluation_data" / "hwu64.tsv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            yield row["label"], row["text"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=5, help="flagged messages to print per set")
    args = parser.parse_args()
    engine = DecisionEngine(load_policy(default_policy_path()))
    for name, rows in (("bitext", bitext()), ("cfpb", cfpb()), ("hwu64", hwu64())):
        total, intent, to_sales = Counter[str](), Counter[str](), Counter[str]()
        examples: list[str] = []
        for label, text in rows:
            if not text.strip():
                continue
            conversation = Conversation.model_validate({"id": "x", "messages": [{"role": "customer", "text": text}]})
            decision = engine.decide(conversation, now=NOW)
            group = "billing" if name == "bitext" and label in BILLING else "other"
            total[group] += 1
            if any(r.trigger is TriggerName.SALES_LEAD for r in decision.reasons):
                intent[group] += 1
                if len(examples) < args.examples:
                    examples.append(f"    [{label}] {text[:140]!r}")
            if decision.lead is not None and decision.lead.qualified and decision.action is Action.HANDOFF:
                to_sales[group] += 1
        for group in sorted(total):
            n = total[group]
            print(
                f"{name:7} {group:8} n={n:6}  buying intent seen {intent[group]:4} ({intent[group] / n:6.2%})"
                f"  handed to sales {to_sales[group]:3} ({to_sales[group] / n:6.2%})"
            )
        print("\n".join(examples))


if __name__ == "__main__":
    main()
