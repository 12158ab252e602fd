"""The escalation policy: schema (:mod:`.schema`), the built-in default (``default/policy.yaml``) and loading
with ``extends`` layering and precise errors (:mod:`.loader`)."""

from handoff_core.policy.loader import default_policy_path, effective_policy_data, load_policy, parse_policy
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
    "default_policy_path",
    "effective_policy_data",
    "load_policy",
    "parse_policy",
]
