"""Finding sinks through the entry-point group `hackmatrix.sinks`, validating specs, creating sinks.

A spec is one item of config.yaml's `sinks:` list: a mapping `{type: <name>, <option>: <value>...}`
(a bare string "<name>" is short for `{type: <name>}`). Each sink type may appear once, because its
resume state in `sinks_state.json` is kept under the type name.
"""

import contextlib
from collections.abc import Mapping, Sequence
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from hackmatrix.errors import ConfigError, SinkError
from hackmatrix.sinks.base import RunInfo, Sink

GROUP = "hackmatrix.sinks"


def available_sinks() -> dict[str, EntryPoint]:
    """The installed sinks: name -> entry point of the `hackmatrix.sinks` group."""
    return {ep.name: ep for ep in sorted(entry_points(group=GROUP), key=lambda ep: ep.name)}


def load_sink_class(name: str) -> type[Sink]:
    """Import the class registered as `name`; SinkError/ConfigError say what went wrong."""
    installed = available_sinks()
    if name not in installed:
        raise ConfigError(
            f"unknown sink type {name!r}; installed sinks: {', '.join(installed) or '(none)'} "
            f"(a third-party sink registers itself under the entry-point group '{GROUP}')"
        )
    entry = installed[name]
    try:
        cls = entry.load()
    except ImportError as err:
        raise SinkError(
            f"sink {name!r} ({entry.value}) could not be imported: {err}; reinstall the package "
            "that provides it"
        ) from err
    if not (isinstance(cls, type) and issubclass(cls, Sink)):
        raise SinkError(f"sink {name!r} ({entry.value}) is not a subclass of hackmatrix.sinks.Sink")
    return cls


def _normalize(spec: Any, index: int) -> tuple[str, dict[str, Any]]:
    """Split one spec into its type name and its options."""
    if isinstance(spec, str):
        spec = {"type": spec}
    if not isinstance(spec, Mapping):
        raise ConfigError(
            f"sinks[{index}] must be a mapping like {{type: console}}, got {spec!r}"
        )
    options = dict(spec)
    name = options.pop("type", None)
    if not isinstance(name, str) or not name:
        raise ConfigError(
            f"sinks[{index}] needs a 'type' naming the sink; installed sinks: "
            f"{', '.join(available_sinks())}"
        )
    return name, options


def validate_sink_specs(specs: Sequence[Any]) -> list[dict[str, Any]]:
    """Check every spec without opening anything; return them with all options filled in."""
    if isinstance(specs, (str, Mapping)) or not isinstance(specs, Sequence):
        raise ConfigError(f"sinks must be a list of sink specs, got {specs!r}")
    resolved = []
    seen = set()
    for index, spec in enumerate(specs):
        name, options = _normalize(spec, index)
        if name in seen:
            raise ConfigError(f"sink {name!r} is listed twice in sinks; list each type once")
        seen.add(name)
        cls = load_sink_class(name)
        cls.check_requirements()
        resolved.append({"type": name, **cls.validate_options(options)})
    return resolved


def create_sinks(specs: Sequence[Any], run_info: RunInfo) -> list[Sink]:
    """Validate the specs and open one sink per spec; on a failure close those already opened."""
    opened: list[Sink] = []
    for spec in validate_sink_specs(specs):
        options = dict(spec)
        name = options.pop("type")
        try:
            sink = load_sink_class(name)(run_info, **options)
        except Exception as err:
            for other in opened:
                # The open error below is the one to report; a second error closing is noise.
                with contextlib.suppress(Exception):
                    other.close("failed")
            if isinstance(err, (ConfigError, SinkError)):
                raise
            raise SinkError(f"sink {name!r} failed to open: {type(err).__name__}: {err}") from err
        sink.name = name
        opened.append(sink)
    return opened
