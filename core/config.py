"""Strict configuration loading: every YAML key is known, every value has the expected kind.

A typo must not be silently ignored: `activaton: relu` used to build a SiLU network
and `optimiser: {name: sgd}` used to train with AdamW. A schema here is plain data:

    {"name": str, "lr": NUMBER, "optimizer": {"name": str, "lr": NUMBER}, "colors": Open(list)}

- a dict: a mapping whose keys must be among the dict's keys (each with its own spec);
- a type or a tuple of types: the value must be one of them (a bool is never taken for a number);
- `Open(spec)`: a mapping with any keys (names chosen by the user, e.g. class names), values of `spec`;
- `Either(spec, ...)`: the first spec that fits; `ANY`: anything.

`validate` checks keys and kinds only; ranges and relations between keys stay with the
code that knows them. An unknown key is reported with the file, where it sits and the
closest valid key (difflib), so the message says what to type instead.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import UserError

NUMBER = (int, float)
ANY = object


class ConfigError(UserError, ValueError):
    """A configuration file is missing, unreadable, or holds an unknown key or a value of the wrong kind."""


@dataclass(frozen=True)
class Open:
    """A mapping with keys of the user's choosing (class names, scale names), each value of `value`."""

    value: Any = ANY


class Either:
    """The value fits one of several specs (e.g. `ema: null` or an `ema:` section)."""

    def __init__(self, *specs):
        self.specs = specs


def load_yaml(path: str | Path) -> dict:
    """A YAML file that must hold a mapping; ConfigError (naming the file) for anything else."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise ConfigError(f"config file {path} is not valid YAML: {e}") from e
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read config file {path}: {e}") from e
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping at the top level, got {_kind(data)}")
    return data


def closest_key(key, valid) -> str | None:
    """The valid key a typo most likely meant (`optimiser` → `optimizer`), or None when none is close."""
    key, valid = str(key), [str(v) for v in valid]
    match = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
    if match:
        return match[0]
    # an abbreviation or a spelled-out form (`confidence` for `conf`) is too short a match for difflib
    affixed = [v for v in valid if min(len(v), len(key)) >= 3 and (key.startswith(v) or v.startswith(key))]
    return max(affixed, key=len) if affixed else None


def unknown_key_message(key, valid, source: str, where: str = "") -> str:
    """'<source>: unknown key 'optimiser' (did you mean 'optimizer'?); valid keys: ...'."""
    place = f" in '{where}'" if where else ""
    hint = closest_key(key, valid)
    guess = f" (did you mean '{hint}'?)" if hint else ""
    return f"{source}: unknown key '{key}'{place}{guess}; valid keys{place}: {', '.join(map(str, valid))}"


def check_keys(mapping: dict, valid, source: str, where: str = "") -> None:
    """ConfigError for the first key of `mapping` that is not in `valid`."""
    valid = list(valid)
    for key in mapping:
        if key not in valid:
            raise ConfigError(unknown_key_message(key, valid, source, where))


def validate(data, schema, source: str, where: str = ""):
    """Check `data` against `schema` (see the module docstring); returns `data` unchanged."""
    problem = _problem(data, schema, source, where)
    if problem:
        raise ConfigError(problem)
    return data


def _problem(value, spec, source: str, where: str) -> str | None:
    """Why `value` does not fit `spec`, or None when it does."""
    if spec is ANY:
        return None
    if isinstance(spec, Either):
        problems = [_problem(value, s, source, where) for s in spec.specs]
        if all(problems):
            # an unknown key inside a section is the most useful of the reasons
            return next((p for p in problems if "unknown key" in p), problems[-1])
        return None
    if isinstance(spec, (dict, Open)):
        if not isinstance(value, dict):
            return f"{source}: '{where or 'the file'}' must be a mapping (a section of keys), got {_kind(value)}"
        for key, item in value.items():
            if isinstance(spec, dict) and key not in spec:
                return unknown_key_message(key, list(spec), source, where)
            sub = spec.value if isinstance(spec, Open) else spec[key]
            problem = _problem(item, sub, source, f"{where}.{key}" if where else str(key))
            if problem:
                return problem
        return None
    types = spec if isinstance(spec, tuple) else (spec,)
    if _is_instance(value, types):
        return None
    return f"{source}: '{where}' must be {_names(types)}, got {_kind(value)}"


def _is_instance(value, types: tuple) -> bool:
    if isinstance(value, bool) and bool not in types:
        return False  # YAML's `yes`/`true` is not a number of epochs
    return isinstance(value, types)


def _names(types: tuple) -> str:
    words = {int: "an integer", float: "a number", str: "a string", bool: "true or false", list: "a list",
             dict: "a mapping", type(None): "null"}
    if set(types) >= {int, float}:
        types = tuple(t for t in types if t is not int)
    return " or ".join(words.get(t, t.__name__) for t in types)


def _kind(value) -> str:
    text = repr(value)
    return f"{text if len(text) <= 40 else text[:37] + '...'} ({type(value).__name__})"


def schema_from_example(example: dict, open_paths: tuple[str, ...] = (), where: str = "") -> dict:
    """The schema a file of defaults implies: its keys, and each value's kind (a float allows an int).

    For configs whose defaults file is the reference (configs/runtime.yaml): a key added
    there is known everywhere at once. `open_paths` ("overlay.class_colors") are maps of
    the user's own keys.
    """
    schema = {}
    for key, value in example.items():
        path = f"{where}.{key}" if where else str(key)
        if path in open_paths:
            schema[key] = Open(_leaf_spec(next(iter(value.values()))) if value else ANY)
        elif isinstance(value, dict):
            schema[key] = schema_from_example(value, open_paths, path)
        else:
            schema[key] = _leaf_spec(value)
    return schema


def _leaf_spec(value):
    if value is None:
        return ANY
    if isinstance(value, bool):
        return bool
    if isinstance(value, float):
        return NUMBER
    if isinstance(value, dict):
        return dict
    return type(value)
