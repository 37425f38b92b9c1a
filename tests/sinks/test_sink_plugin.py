"""A third-party sink: a tiny package in tests/fixtures, installed editable, chosen in a config file.

The package is installed into the test environment on first use (`pip install -e`, needs the
package index once for its build backend). The run itself happens in a fresh interpreter, as a
user's `hackmatrix train` would: it sees the newly installed package like any other.
"""

import csv
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hackmatrix.errors import ConfigError
from hackmatrix.sinks import available_sinks, validate_sink_specs
from hackmatrix.sinks.jsonl import read_jsonl

PLUGIN = Path(__file__).resolve().parents[1] / "fixtures" / "sink_plugin"

RUN = textwrap.dedent("""
    import sys
    from pathlib import Path

    from hackmatrix.core.config import load_config
    from hackmatrix.metrics import MetricsPipeline
    from hackmatrix.sinks import RunInfo, create_sinks

    config = load_config(sys.argv[1])
    info = RunInfo(name="plugin", run_id="plugin-1", directory=Path(sys.argv[2]))
    with MetricsPipeline(create_sinks(list(config.sinks), info), health=config.health) as pipe:
        for step in (1, 2, 3):
            pipe.publish(step, {"approx_kl": step / 100,
                                "x/flaky": float("nan") if step == 2 else 1.5})
""")


@pytest.fixture(scope="module")
def csv_plugin():
    """Install the fixture package editable unless it already is."""
    if "csv" not in available_sinks():
        result = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "-e", str(PLUGIN)],
            check=False, capture_output=True, text=True, timeout=600,
        )
        assert result.returncode == 0, result.stdout + result.stderr
    return available_sinks()["csv"]


def test_plugin_is_registered_and_listed(csv_plugin):
    assert csv_plugin.value == "hackmatrix_sink_plugin:CsvSink"
    with pytest.raises(ConfigError, match="installed sinks: .*csv"):
        validate_sink_specs([{"type": "cvs"}])


def test_plugin_selected_from_a_config_file(csv_plugin, tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("sinks:\n  - {type: csv, filename: points.csv}\n  - jsonl\n")
    run_dir = tmp_path / "run"
    result = subprocess.run([sys.executable, "-c", RUN, str(config), str(run_dir)],
                            check=False, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "non-finite value(s) at update 2: x/flaky=nan" in result.stderr
    assert "csv: drop" in result.stderr
    with open(run_dir / "points.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    kl = [(int(r["step"]), float(r["value"])) for r in rows if r["name"] == "train/approx_kl"]
    assert kl == [(1, 0.01), (2, 0.02), (3, 0.03)]
    flaky = [(int(r["step"]), float(r["value"])) for r in rows if r["name"] == "x/flaky"]
    assert flaky == [(1, 1.5), (3, 1.5)]  # the plugin's policy drops non-finite values
    assert [row["step"] for row in read_jsonl(run_dir / "metrics.jsonl")] == [1, 2, 3]
