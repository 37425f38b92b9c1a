"""Building a Config: from config.yaml, from dotted overrides, from a checkpoint's flat mapping.

`config_from_dict` is the one door: it rejects unknown keys (naming the closest valid one), lets
each section check its own fields (hackmatrix.options) and then checks the keys together.
`Config.explicit` records the dotted keys the user chose (see `load_config`) so that
`auto_scale_for_batch_size` changes only the others.
"""

import dataclasses
import difflib

import yaml

from hackmatrix.core.config.derived import check_consistency
from hackmatrix.core.config.file import UniqueKeyLoader, read_config_file, yaml_problem
from hackmatrix.core.config.sections import SECTIONS, SINKS, Config
from hackmatrix.errors import ConfigError
from hackmatrix.options import shown

# The config file's section that describes a sweep; training ignores it.
SWEEP_SECTION = "sweep"


def all_keys() -> list:
    """Return every valid dotted key of the configuration."""
    keys = [f"{s}.{f.name}" for s, (_, cls) in SECTIONS.items() for f in dataclasses.fields(cls)]
    return keys + ["sinks"]


def _printable(key) -> str:
    """A user's key as one printable line (control characters escaped)."""
    text = str(key)
    return text if text.isprintable() else repr(text)[1:-1]


def _unknown(key, valid):
    close = difflib.get_close_matches(str(key), valid, n=1, cutoff=0.5)
    hint = f"; did you mean '{close[0]}'?" if close else f"; valid keys: {', '.join(valid)}"
    return ConfigError(f"unknown config key '{_printable(key)}'{hint}")


def _sinks(value) -> tuple:
    """Return the sinks entry as a tuple of names and {name: options} mappings."""
    value = [value] if isinstance(value, str | dict) else value
    sinks = SINKS.parse(value, "config key 'sinks'")
    return tuple(dict(s) if isinstance(s, dict) else s for s in sinks)


def flatten(mapping: dict, valid: list) -> dict:
    """Return {dotted key: value} of a nested config mapping, rejecting unknown keys."""
    if not isinstance(mapping, dict):
        raise ConfigError(f"a config must be a mapping of sections, got {type(mapping).__name__}")
    flat = {}

    def walk(prefix, body):
        if body is None:
            return
        if not isinstance(body, dict):
            raise ConfigError(f"config section '{_printable(prefix)}' must be a mapping, got "
                              f"{shown(body)}")
        for name, value in body.items():
            key = f"{prefix}.{name}"
            if prefix in SECTIONS:
                if key not in valid:
                    raise _unknown(key, valid)
                flat[key] = value
            elif any(s.startswith(key + ".") or s == key for s in SECTIONS):
                walk(key, value)
            else:
                raise _unknown(key, valid)

    for section, body in mapping.items():
        if section == SWEEP_SECTION:
            continue  # read by `hackmatrix sweep` (hackmatrix.sweep.spec), not part of a run
        if section == "sinks":
            flat["sinks"] = body
        elif any(s == section or s.startswith(f"{section}.") for s in SECTIONS):
            walk(str(section), body)
        else:
            raise _unknown(str(section), valid)
    return flat


def config_from_dict(flat: dict, explicit=frozenset()) -> Config:
    """Build and validate a Config from {dotted key: value} (missing keys take the defaults)."""
    valid = all_keys()
    for key in flat:
        if key not in valid:
            raise _unknown(key, valid)
    defaults = Config()
    sections = {}
    for section, (attr, cls) in SECTIONS.items():
        given = {f.name: flat[f"{section}.{f.name}"] for f in dataclasses.fields(cls)
                 if f"{section}.{f.name}" in flat}
        # The section parses and checks its own fields (Checked.__post_init__).
        sections[attr] = dataclasses.replace(getattr(defaults, attr), **given)
    sinks = _sinks(flat["sinks"]) if "sinks" in flat else defaults.sinks
    config = Config(**sections, sinks=sinks, explicit=frozenset(explicit))
    check_consistency(config)
    return config


def parse_override(text: str) -> tuple:
    """Parse 'dotted.key=value' (value read as a YAML scalar or list) into (key, value)."""
    if "=" not in text:
        raise ConfigError(f"override '{_printable(text)}' must look like section.key=value")
    key, raw = text.split("=", 1)
    key = key.strip()
    try:
        value = yaml.load(raw, UniqueKeyLoader) if raw.strip() else None
    except ConfigError as err:
        raise ConfigError(f"override '{_printable(text)}': {err}") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"override '{_printable(text)}': value is not valid YAML "
                          f"({yaml_problem(err)})") from None
    except RecursionError:
        raise ConfigError(f"override '{_printable(text)}': value nests too deeply") from None
    if value is None:
        raise ConfigError(f"override '{_printable(text)}' has no value")
    return key, value


def _plain(value):
    """A config value as YAML writes it (lists, not tuples; copies of mappings)."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return dict(value) if isinstance(value, dict) else value


def to_dict(config: Config) -> dict:
    """Return the resolved config as a plain nested mapping (what config.yaml would say)."""
    out = {}
    for section, (attr, _) in SECTIONS.items():
        body = dataclasses.asdict(getattr(config, attr))
        *parents, last = section.split(".")
        node = out
        for parent in parents:
            node = node.setdefault(parent, {})
        node[last] = {k: _plain(v) for k, v in body.items()}
    out["sinks"] = _plain(config.sinks)
    return out


def flat_dict(config: Config) -> dict:
    """Return the resolved config as {dotted key: value}."""
    flat = {f"{section}.{f.name}": _plain(getattr(getattr(config, attr), f.name))
            for section, (attr, cls) in SECTIONS.items() for f in dataclasses.fields(cls)}
    flat["sinks"] = _plain(config.sinks)
    return flat


def load_config(path=None, overrides=()) -> Config:
    """Load a YAML config (default: the repository's config.yaml) and apply dotted overrides.

    A key counts as set by the user (`Config.explicit`) when an override names it, or when the
    file gives it a value other than the built-in default; auto-scaling leaves those alone.
    """
    valid = all_keys()
    flat = {}
    try:
        if path is not None:
            flat = flatten(read_config_file(path), valid)
        from_file = config_from_dict(flat)
    except ConfigError as err:
        if path is None or str(path) in str(err):
            raise
        raise ConfigError(f"config file '{path}': {err}") from None
    defaults = flat_dict(Config())
    explicit = {k for k, v in flat_dict(from_file).items() if v != defaults[k]}
    for text in overrides:
        key, value = parse_override(text)
        if key not in valid:
            raise _unknown(key, valid)
        flat[key] = value
        explicit.add(key)
    return config_from_dict(flat, explicit)


def replace(config: Config, **dotted) -> Config:
    """Return a copy with dotted keys (given as section__name=value) replaced and re-validated."""
    flat = flat_dict(config)
    for name, value in dotted.items():
        flat[name.replace("__", ".")] = value
    new = config_from_dict(flat, config.explicit)
    return dataclasses.replace(new, autoscaled=config.autoscaled)
