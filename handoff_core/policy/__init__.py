"""The escalation policy: schema (:mod:`.schema`) and loading with precise errors (:mod:`.loader`)."""

from handoff_core.policy.loader import load_policy, parse_policy
from handoff_core.policy.schema import (
    CollectField,
    Policy,
    RouteConfig,
    TopicConfig,
    TriggerConfig,
)

__all__ = [
    "CollectField",
    "Policy",
    "RouteConfig",
    "TopicConfig",
    "TriggerConfig",
    "load_policy",
    "parse_policy",
]
