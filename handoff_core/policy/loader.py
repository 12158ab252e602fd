"""Reading a policy file: YAML in, a validated :class:`Policy` out, or a :class:`PolicyError` that points
at the file, line and field of every problem.

A policy usually starts with ``extends: default`` and says only what differs from the built-in default
policy (``handoff_core/policy/default/policy.yaml``, shipped with the package), so a short file never
silently drops the defaults it leaves out. The merge rule, the same at every depth:

* a mapping merges key by key with the mapping it extends;
* any other value (a number, a text, a list, ``null``) replaces the inherited one;
* a key written with a trailing ``+`` (``phrases+: [...]``) appends its list to the inherited list.

``extends`` names ``default`` or another policy file (relative to the extending file), which may itself
extend another; cycles are an error. Without ``extends`` the file stands alone.

PyYAML's composed node tree keeps the position of every key and value; validation errors from pydantic
carry the path of the faulty field; walking the path through the node trees of the layers (the user's file
first, then what it extends) gives the file and line. Duplicate keys, which YAML loaders silently resolve
to the last one, are reported too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from handoff_core.errors import PolicyError, PolicyProblem
from handoff_core.policy.schema import Policy

MAX_POLICY_BYTES = 2 * 1024 * 1024
MAX_EXTENDS_DEPTH = 8
DEFAULT_NAME = "default"
APPEND_SUFFIX = "+"
_FIELD_IN_MESSAGE = re.compile(r"^((?:[a-z_]+\.)+[a-z_]+)\b")


def default_policy_path() -> Path:
    """The built-in default policy file inside the installed package."""
    return Path(str(resources.files("handoff_core.policy") / "default" / "policy.yaml"))


# libyaml's parser when PyYAML was built with it (about ten times faster on the 650-line default policy).
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _PolicyLoader(_SafeLoader):  # type: ignore[valid-type,misc]
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


@dataclass(frozen=True, slots=True)
class _Layer:
    """One policy file of an ``extends`` chain: its name in messages, node tree (for lines) and data."""

    source: str
    node: yaml.Node
    data: dict[str, Any]


def load_policy(path: str | Path) -> Policy:
    """Load and validate the policy at ``path`` (merged over what it ``extends``)."""
    path = Path(path)
    return _validate(_chain(_read_layer(path), path.parent, [_identity(path)]))


def parse_policy(text: str, source: str = "<policy>", base_dir: str | Path | None = None) -> Policy:
    """Validate policy YAML given as text; ``source`` names it in error messages, ``base_dir`` resolves a
    relative ``extends`` path (default: the current folder)."""
    return _validate(_chain(_parse_layer(text, source), Path(base_dir or "."), []))


def effective_policy_data(policy: Policy) -> dict[str, Any]:
    """The policy as plain data with every inherited and default value filled in (``check --show-effective``)."""
    data: dict[str, Any] = policy.model_dump(mode="json")
    return data


def _identity(path: Path) -> str:
    try:
        return str(path.resolve())
    except OSError:
        return str(path)


def _read_layer(path: Path) -> _Layer:
    source = str(path)
    if path.is_dir():
        raise PolicyError(source, [PolicyProblem("", "this is a folder, not a policy file")])
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PolicyError(source, [PolicyProblem("", f"cannot read the file: {exc.strerror or exc}")]) from exc
    if len(raw) > MAX_POLICY_BYTES:
        raise PolicyError(source, [PolicyProblem("", f"file is larger than {MAX_POLICY_BYTES} bytes")])
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise PolicyError(source, [PolicyProblem("", "file is UTF-16; save it as UTF-8")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise PolicyError(source, [PolicyProblem("", "file is not valid UTF-8 text", line)]) from exc
    if "\x00" in text:
        raise PolicyError(source, [PolicyProblem("", "file is binary (it contains NUL bytes), not YAML text")])
    return _parse_layer(text, source)


def _parse_layer(text: str, source: str) -> _Layer:
    loader = _PolicyLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
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
    except yaml.YAMLError as exc:
        raise PolicyError(source, [PolicyProblem("", f"YAML error: {exc}")]) from exc
    finally:
        loader.dispose()
    if node is None:
        raise PolicyError(source, [PolicyProblem("", "the policy file is empty")])
    duplicates = list(_duplicate_keys(node, ()))
    if duplicates:
        raise PolicyError(source, duplicates)
    if not isinstance(data, dict):
        raise PolicyError(source, [PolicyProblem("", "the policy must be a mapping (key: value) at the top", 1)])
    return _Layer(source, node, data)


def _chain(layer: _Layer, base_dir: Path, seen: list[str]) -> list[_Layer]:
    """``layer`` followed by every layer it extends, nearest first."""
    layers = [layer]
    while "extends" in layers[-1].data:
        current = layers[-1]
        target = current.data["extends"]
        key = _key_node(current.node, "extends")
        line = key.start_mark.line + 1 if key is not None else None
        if not isinstance(target, str) or not target.strip():
            raise PolicyError(
                current.source,
                [PolicyProblem("extends", "must name 'default' or a policy file", line)],
            )
        path = default_policy_path() if target == DEFAULT_NAME else base_dir / target
        identity = _identity(path)
        if identity in seen or len(layers) > MAX_EXTENDS_DEPTH:
            raise PolicyError(
                current.source, [PolicyProblem("extends", f"{target!r} leads back to a file already extended", line)]
            )
        seen.append(identity)
        try:
            layers.append(_read_layer(path))
        except PolicyError as exc:
            raise PolicyError(
                current.source,
                [PolicyProblem("extends", f"cannot use {target!r}: {p}", line) for p in exc.problems],
            ) from exc
        base_dir = path.parent
    return layers


def _validate(layers: list[_Layer]) -> Policy:
    merged: dict[str, Any] = {}
    problems: list[PolicyProblem] = []
    for layer in reversed(layers):
        data = {k: v for k, v in layer.data.items() if k != "extends"}
        merged = _merge(merged, data, (), layer, problems)
    if problems:
        raise PolicyError(layers[0].source, problems)
    try:
        return Policy.model_validate(merged)
    except ValidationError as exc:
        raise PolicyError(layers[0].source, [_problem(error, layers) for error in exc.errors()]) from exc


def _merge(
    base: dict[str, Any], over: dict[str, Any], path: tuple[str, ...], layer: _Layer, problems: list[PolicyProblem]
) -> dict[str, Any]:
    result = dict(base)
    for raw_key, value in over.items():
        key = str(raw_key)
        if key.endswith(APPEND_SUFFIX) and len(key) > 1:
            name = key[: -len(APPEND_SUFFIX)]
            inherited = base.get(name, [])
            if name in over:
                problems.append(_merge_problem(layer, (*path, key), f"both {name} and {key} are given; keep one"))
            elif not isinstance(value, list) or not isinstance(inherited, list):
                problems.append(
                    _merge_problem(layer, (*path, key), f"{key} appends a list to a list; {name} is not a list here")
                )
            else:
                result[name] = [*inherited, *value]
        elif isinstance(value, dict) and isinstance(base.get(key), dict):
            result[key] = _merge(base[key], value, (*path, key), layer, problems)
        elif isinstance(value, dict):
            # Normalise nested ``key+`` entries even where nothing is inherited.
            result[key] = _merge({}, value, (*path, key), layer, problems)
        else:
            result[key] = value
    return result


def _merge_problem(layer: _Layer, loc: tuple[str, ...], message: str) -> PolicyProblem:
    node, key = _locate(layer.node, loc)
    mark = (key or node).start_mark
    return PolicyProblem(".".join(loc), message, mark.line + 1, mark.column + 1, layer.source)


def _key_node(root: yaml.Node, name: str) -> yaml.Node | None:
    if isinstance(root, yaml.MappingNode):
        for k, _ in root.value:
            if k.value == name:
                return k  # type: ignore[no-any-return]
    return None


def _problem(error: Any, layers: list[_Layer]) -> PolicyProblem:
    loc = tuple(part for part in error["loc"] if not (isinstance(part, str) and part.startswith("function-")))
    message = str(error["msg"]).removeprefix("Value error, ")
    named = _FIELD_IN_MESSAGE.match(message)
    if named and error["type"] == "value_error":
        # Cross-field rules name the field they are about; point at it rather than at the section.
        loc = tuple(int(p) if p.isdigit() else p for p in named.group(1).split("."))
    field = ".".join(str(p) for p in loc)
    if error["type"] == "extra_forbidden":
        message = "unknown field (check the spelling; unknown keys are not allowed)"
    elif error["type"] == "missing":
        message = "required field is missing"
    elif error["type"] == "bool_type":
        message = f"must be true or false, got {error['input']!r} (yes/no/on/off are not booleans in a policy)"
    # The nearest file that holds the whole path wrote the faulty value; else the user's file, as deep as it goes.
    for layer in layers:
        node, key, complete = _find(layer.node, loc)
        if complete:
            break
    else:
        layer = layers[0]
        node, key, _ = _find(layer.node, loc)
    mark = (key or node).start_mark
    return PolicyProblem(field, message, mark.line + 1, mark.column + 1, None if layer is layers[0] else layer.source)


def _locate(root: yaml.Node, loc: tuple[Any, ...]) -> tuple[yaml.Node, yaml.Node | None]:
    node, key, _ = _find(root, loc)
    return node, key


def _find(root: yaml.Node, loc: tuple[Any, ...]) -> tuple[yaml.Node, yaml.Node | None, bool]:
    """The deepest node along ``loc``, the key node naming it when the last step was a mapping key, and
    whether the whole path was found. ``name+`` keys count as ``name``."""
    node, key_node = root, None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if k.value in {str(part), f"{part}{APPEND_SUFFIX}"}:
                    node, key_node = v, k
                    break
            else:
                return node, key_node, False
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node, key_node = node.value[part], None
        else:
            return node, key_node, False
    if loc and isinstance(loc[-1], str) and key_node is not None:
        return node, key_node, True
    return node, None, True


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
