"""Read a YAML config into plain values, remembering the line of every key and item.

dag-factory reads YAML with ``os.path.expandvars`` over the text (``$VAR`` and ``${VAR}`` from
the environment) and then builds ``__type__`` objects; we do the same, and keep a table from key
path (``("orders", "tasks", "load", "dependencies", 0)``) to the 1-based line it was written on,
so that every error can point at its line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

Key = tuple[Any, ...]

try:
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # PyYAML built without libyaml
    _Loader = yaml.SafeLoader


class YamlFileError(Exception):
    """The file is not YAML dag-factory can read; ``line`` is where the reader stopped."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass
class Document:
    """A YAML file's value and the line of each key path in it (worked out when first asked:
    only a config with a mistake needs them)."""

    path: str
    data: Any
    text: str = ""
    _lines: dict[Key, int] | None = field(default=None, repr=False)

    @property
    def lines(self) -> dict[Key, int]:
        if self._lines is None:
            self._lines = {}
            node = yaml.compose(self.text, Loader=_Loader)
            if node is not None:
                _walk(node, (), self._lines)
        return self._lines

    def line(self, key: Key) -> int | None:
        """The line of ``key``, else of its nearest written parent."""
        while key:
            found = self.lines.get(key)
            if found is not None:
                return found
            key = key[:-1]
        return None


def _walk(node: yaml.Node, key: Key, lines: dict[Key, int]) -> None:
    lines[key] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                child = (*key, key_node.value)
                _walk(value_node, child, lines)
                lines[child] = key_node.start_mark.line + 1  # the key's line, where a reader looks
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*key, index), lines)


def read(path: str | Path) -> Document:
    """Read ``path`` (environment variables expanded). Raises YamlFileError."""
    text = os.path.expandvars(Path(path).read_text(encoding="utf-8"))
    try:
        data = yaml.load(text, Loader=_Loader)  # a safe loader: no Python objects from the text
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or str(exc)
        raise YamlFileError(f"not valid YAML: {problem}", mark.line + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise YamlFileError(f"not valid YAML: {exc}", None) from None
    return Document(str(path), data, text)
