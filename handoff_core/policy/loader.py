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

Phrase lists may name lexicon files instead of listing phrases inline (``phrases: [{lexicon: refund}]``,
see :mod:`handoff_core.policy.lexicons`); ``lexicons: [folder]`` in any file of the chain adds a folder,
relative to that file, searched before the folders of the files it extends. References are resolved per
file before the merge, and every phrase keeps its file and line, so duplicates and conflicting tiers can
be reported as ``FILE:LINE`` by :func:`inspect_policy`.

PyYAML's composed node tree keeps the position of every key and value; validation errors from pydantic
carry the path of the faulty field; walking the path through the node trees of the layers (the user's file
first, then what it extends) gives the file and line. Duplicate keys, which YAML loaders silently resolve
to the last one, are reported too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from handoff_core.errors import PolicyError, PolicyProblem
from handoff_core.policy.lexicons import (
    LexiconFinding,
    LexiconLibrary,
    LexiconProblem,
    LexiconUse,
    Origin,
    Sourced,
    lexicon_findings,
    origin_of,
    phrase_lists,
    plain,
)
from handoff_core.policy.schema import Policy

MAX_POLICY_BYTES = 2 * 1024 * 1024
MAX_EXTENDS_DEPTH = 8
DEFAULT_NAME = "default"
#: Keys read by the loader itself, never merged into the policy.
LOADER_KEYS = ("extends", "lexicons")
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
    #: The folder relative paths in this file (``extends``, ``lexicons``) start from.
    base_dir: Path = Path(".")


@dataclass(frozen=True, slots=True)
class LoadedPolicy:
    """A policy with what ``handoff check`` reports about its phrase lists."""

    policy: Policy
    #: Duplicate phrases within one list, anger cues in two tiers; each with the FILE:LINE it was written at.
    findings: tuple[LexiconFinding, ...]
    #: Every ``{lexicon: NAME}`` reference and the files it read.
    uses: tuple[LexiconUse, ...]
    #: The lexicon folders searched, nearest first.
    folders: tuple[str, ...]
    #: Every list of phrases by dotted field path, with where each item was written (same order as the policy).
    origins: Mapping[str, tuple[Origin | None, ...]] = dataclass_field(default_factory=dict)

    def where(self, field_path: str, text: str) -> Origin | None:
        """Where ``text`` was written in the list at ``field_path`` (None when not known)."""
        items = _lookup_list(self.policy, field_path)
        for item, origin in zip(items, self.origins.get(field_path, ()), strict=False):
            if item == text:
                return origin
        return None


def load_policy(path: str | Path) -> Policy:
    """Load and validate the policy at ``path`` (merged over what it ``extends``)."""
    return inspect_policy(path, findings=False).policy


def inspect_policy(path: str | Path, findings: bool = True) -> LoadedPolicy:
    """Load the policy at ``path`` and say where its phrases come from and which are written twice."""
    path = Path(path)
    return _validate(_chain(_read_layer(path), path.parent, [_identity(path)]), findings)


def parse_policy(text: str, source: str = "<policy>", base_dir: str | Path | None = None) -> Policy:
    """Validate policy YAML given as text; ``source`` names it in error messages, ``base_dir`` resolves a
    relative ``extends`` or ``lexicons`` path (default: the current folder)."""
    return inspect_policy_text(text, source, base_dir, findings=False).policy


def inspect_policy_text(
    text: str, source: str = "<policy>", base_dir: str | Path | None = None, findings: bool = True
) -> LoadedPolicy:
    """:func:`inspect_policy` for policy YAML given as text."""
    base = Path(base_dir or ".")
    return _validate(_chain(_parse_layer(text, source, base), base, []), findings)


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
    return _parse_layer(text, source, path.parent)


def _parse_layer(text: str, source: str, base_dir: Path) -> _Layer:
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
    return _Layer(source, node, data, base_dir)


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


def _validate(layers: list[_Layer], findings: bool = True) -> LoadedPolicy:
    problems: list[PolicyProblem] = []
    library = LexiconLibrary(_lexicon_folders(layers, problems))
    if problems:
        raise PolicyError(layers[0].source, problems)
    merged: dict[str, Any] = {}
    for layer in reversed(layers):
        origin = None if layer is layers[0] else layer.source
        data = {k: v for k, v in layer.data.items() if k not in LOADER_KEYS}
        node = _without_keys(layer.node, LOADER_KEYS)
        data = _sourced(node, data, (), layer.source, origin, library, problems)
        merged = _merge(merged, data, (), layer, problems)
    if problems:
        raise PolicyError(layers[0].source, problems)
    try:
        policy = Policy.model_validate(plain(merged))
    except ValidationError as exc:
        raise PolicyError(layers[0].source, [_problem(error, layers) for error in exc.errors()]) from exc
    return LoadedPolicy(
        policy,
        tuple(lexicon_findings(merged)) if findings else (),
        tuple(library.uses),
        tuple(str(f) for f in library.folders),
        {path: tuple(origin_of(p) for p in items) for path, items in phrase_lists(merged)} if findings else {},
    )


def _lookup_list(policy: Policy, field_path: str) -> Sequence[Any]:
    """The list at a dotted path of the policy (``triggers.sentiment.cues.1.phrases``), or nothing."""
    node: Any = policy
    for part in field_path.split("."):
        if isinstance(node, BaseModel):
            node = getattr(node, part, None)
        elif isinstance(node, Mapping):
            node = node.get(part)
        elif isinstance(node, Sequence) and not isinstance(node, str) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return ()
    return node if isinstance(node, Sequence) and not isinstance(node, str) else ()


def _lexicon_folders(layers: list[_Layer], problems: list[PolicyProblem]) -> list[Path]:
    """The ``lexicons:`` folders of every layer, nearest file first, each relative to its own file."""
    folders: list[Path] = []
    for layer in layers:
        value = layer.data.get("lexicons")
        if value is None:
            continue
        names = [value] if isinstance(value, str) else value
        key = _key_node(layer.node, "lexicons")
        line = key.start_mark.line + 1 if key is not None else None
        origin = None if layer is layers[0] else layer.source
        if not isinstance(names, list) or not all(isinstance(n, str) and n.strip() for n in names):
            message = "must list lexicon folders (relative to this file)"
            problems.append(PolicyProblem("lexicons", message, line, None, origin))
            continue
        for name in names:
            folder = layer.base_dir / name
            if not folder.is_dir():
                message = f"{name!r} is not a folder (looked at {folder})"
                problems.append(PolicyProblem("lexicons", message, line, None, origin))
            else:
                folders.append(folder)
    return folders


def _without_keys(node: yaml.Node, keys: tuple[str, ...]) -> yaml.Node:
    if not isinstance(node, yaml.MappingNode):
        return node
    kept = [(k, v) for k, v in node.value if k.value not in keys]
    return yaml.MappingNode(node.tag, kept, node.start_mark, node.end_mark)


def _is_reference(value: Any) -> bool:
    return isinstance(value, dict) and "lexicon" in value


def _sourced(
    node: yaml.Node | None,
    data: Any,
    path: tuple[str, ...],
    source: str,
    origin: str | None,
    library: LexiconLibrary,
    problems: list[PolicyProblem],
) -> Any:
    """``data`` with every phrase in a list marked with its file and line, and every lexicon reference
    (``{lexicon: NAME}`` as a list item, or in place of a whole list) replaced by the lexicon's phrases."""

    def line_of(n: yaml.Node | None) -> int | None:
        return n.start_mark.line + 1 if n is not None else None

    def resolve(reference: dict[str, Any], n: yaml.Node | None, field: tuple[str, ...]) -> list[Sourced]:
        try:
            return library.resolve(reference, Origin(source, line_of(n)), ".".join(field))
        except LexiconProblem as exc:
            where = exc.origin
            problems.append(
                PolicyProblem(
                    ".".join(field),
                    exc.message,
                    where.line if where is not None else line_of(n),
                    None if where is not None or n is None else n.start_mark.column + 1,
                    where.file if where is not None else origin,
                )
            )
            return []

    if _is_reference(data):
        return resolve(data, node, path)
    if isinstance(data, dict):
        pairs = node.value if isinstance(node, yaml.MappingNode) and len(node.value) == len(data) else None
        out: dict[Any, Any] = {}
        for i, (key, value) in enumerate(data.items()):
            child = pairs[i][1] if pairs is not None else None
            out[key] = _sourced(child, value, (*path, str(key)), source, origin, library, problems)
        return out
    if isinstance(data, list):
        items = node.value if isinstance(node, yaml.SequenceNode) and len(node.value) == len(data) else None
        result: list[Any] = []
        for i, value in enumerate(data):
            child = items[i] if items is not None else None
            if isinstance(value, str):
                result.append(Sourced(value, Origin(source, line_of(child if child is not None else node))))
            elif _is_reference(value):
                result.extend(resolve(value, child if child is not None else node, path))
            else:
                result.append(_sourced(child, value, (*path, str(i)), source, origin, library, problems))
        return result
    return data


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
