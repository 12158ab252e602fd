"""Reading a policy file: YAML in, a validated :class:`Policy` out, or a :class:`PolicyError` that points
at the field and the line of every problem.

PyYAML's composed node tree keeps the position of every key and value; validation errors from pydantic
carry the path of the faulty field; walking the path through the node tree gives the line. Duplicate keys,
which YAML loaders silently resolve to the last one, are reported too.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from handoff_core.errors import PolicyError, PolicyProblem
from handoff_core.policy.schema import Policy

MAX_POLICY_BYTES = 2 * 1024 * 1024
_FIELD_IN_MESSAGE = re.compile(r"^((?:[a-z_]+\.)+[a-z_]+)\b")


class _PolicyLoader(yaml.SafeLoader):
    """YAML 1.2 booleans: only ``true``/``false``. YAML 1.1 also reads ``yes``, ``no``, ``on``, ``off`` as
    booleans, which silently turns the phrase ``no`` in a phrase list into ``False``."""


_PolicyLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_PolicyLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def load_policy(path: str | Path) -> Policy:
    """Load and validate the policy at ``path``."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PolicyError(
            str(path), [PolicyProblem("", f"cannot read the file: {exc.strerror or exc}")]
        ) from exc
    if len(raw) > MAX_POLICY_BYTES:
        raise PolicyError(str(path), [PolicyProblem("", f"file is larger than {MAX_POLICY_BYTES} bytes")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyError(str(path), [PolicyProblem("", "file is not valid UTF-8")]) from exc
    return parse_policy(text, source=str(path))


def parse_policy(text: str, source: str = "<policy>") -> Policy:
    """Validate policy YAML given as text; ``source`` names it in error messages."""
    try:
        node = yaml.compose(text, Loader=_PolicyLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise PolicyError(
            source,
            [
                PolicyProblem(
                    "",
                    f"YAML syntax error: {exc.problem or exc}",
                    line=mark.line + 1 if mark else None,
                    column=mark.column + 1 if mark else None,
                )
            ],
        ) from exc
    if node is None:
        raise PolicyError(source, [PolicyProblem("", "the policy file is empty")])
    duplicates = list(_duplicate_keys(node, ()))
    if duplicates:
        raise PolicyError(source, duplicates)
    data = yaml.load(text, Loader=_PolicyLoader)  # noqa: S506 - a SafeLoader subclass
    if not isinstance(data, dict):
        raise PolicyError(
            source, [PolicyProblem("", "the policy must be a mapping (key: value) at the top", 1)]
        )
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(source, [_problem(error, node) for error in exc.errors()]) from exc


def _problem(error: Any, root: yaml.Node) -> PolicyProblem:
    loc = tuple(part for part in error["loc"] if not (isinstance(part, str) and part.startswith("function-")))
    message = str(error["msg"]).removeprefix("Value error, ")
    named = _FIELD_IN_MESSAGE.match(message)
    if named and error["type"] == "value_error":
        # Cross-field rules name the field they are about; point at it rather than at the section.
        loc = tuple(int(p) if p.isdigit() else p for p in named.group(1).split("."))
    field = ".".join(str(p) for p in loc)
    node, found_key = _locate(root, loc)
    if error["type"] == "extra_forbidden":
        message = "unknown field (check the spelling; unknown keys are not allowed)"
    elif error["type"] == "missing":
        message = "required field is missing"
    line = (found_key or node).start_mark.line + 1
    column = (found_key or node).start_mark.column + 1
    return PolicyProblem(field, message, line, column)


def _locate(root: yaml.Node, loc: tuple[Any, ...]) -> tuple[yaml.Node, yaml.Node | None]:
    """The deepest node along ``loc``, and the key node naming it when the last step was a mapping key."""
    node, key_node = root, None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if k.value == str(part):
                    node, key_node = v, k
                    break
            else:
                return node, key_node
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node, key_node = node.value[part], None
        else:
            return node, key_node
    if loc and isinstance(loc[-1], str) and key_node is not None:
        return node, key_node
    return node, None


def _duplicate_keys(node: yaml.Node, path: tuple[str, ...]) -> Any:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for k, v in node.value:
            key = str(k.value)
            if key in seen:
                yield PolicyProblem(
                    ".".join((*path, key)),
                    "duplicate key: YAML would silently keep only the last one",
                    k.start_mark.line + 1,
                    k.start_mark.column + 1,
                )
            seen.add(key)
            yield from _duplicate_keys(v, (*path, key))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from _duplicate_keys(item, (*path, str(i)))
