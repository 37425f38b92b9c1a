"""The Markdown summary written beside the charts of `hackmatrix report`."""

import math

from hackmatrix.env.constants import REWARD_KEYS

EPISODE_KEYS = (("episode/return_mean", "return", max), ("episode/length_mean", "length", None),
                ("episode/final_stage_mean", "final stage", max),
                ("episode/win_rate", "win rate", max))
HEALTH_CHECKS = ("approx_kl", "clip_frac", "entropy", "stall")
TOP_COMPONENTS = 6


def _fmt(value) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
        return f"{value:.3e}"
    return f"{value:.4g}"


def _duration(seconds: float) -> str:
    seconds = round(float(seconds))
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m{seconds % 60:02d}s"


def _episode_table(metrics) -> list:
    lines = ["| metric | first | last | best (update) |", "|---|---|---|---|"]
    for key, label, best in EPISODE_KEYS:
        steps, values = metrics.series(key)
        if not len(values):
            lines.append(f"| {label} | - | - | - |")
            continue
        best_text = "-"
        if best is not None:
            i = int(values.argmax())
            best_text = f"{_fmt(values[i])} ({int(steps[i])})"
        lines.append(f"| {label} | {_fmt(values[0])} | {_fmt(values[-1])} | {best_text} |")
    return lines


def _health_table(metrics) -> list:
    h = metrics.health
    limits = {"approx_kl": f"< {h.approx_kl_max:g}", "clip_frac": f"< {h.clip_frac_max:g}",
              "entropy": f"> {h.entropy_min:g}",
              "stall": f"length rise <= {h.stall_length_rise:g} while return is flat"}
    lines = ["| check | healthy when | healthy updates | first failing update |",
             "|---|---|---|---|"]
    for check in HEALTH_CHECKS:
        steps, ok = metrics.series(f"health/{check}_ok")
        if not len(ok):
            lines.append(f"| {check} | {limits[check]} | not evaluated | - |")
            continue
        failing = steps[ok < 0.5]
        first = str(int(failing[0])) if len(failing) else "never"
        lines.append(f"| {check} | {limits[check]} | {int(ok.sum())} of {len(ok)} "
                     f"({ok.mean():.0%}) | {first} |")
    return lines


def _reward_lines(metrics) -> list:
    last = metrics.train[-1]
    parts = [(k, last.get(f"reward/{k}")) for k in REWARD_KEYS]
    parts = sorted([p for p in parts if p[1]], key=lambda p: -abs(p[1]))[:TOP_COMPONENTS]
    if not parts:
        return ["no reward components logged"]
    return [f"- {k}: {_fmt(v)}" for k, v in parts]


def _eval_lines(metrics) -> list:
    if not metrics.evals:
        return []
    row = metrics.evals[-1]
    lines = ["", f"## Latest eval (update {row['step']}, `hackmatrix eval --log-to-sinks`)", "",
             "| | agent | random |", "|---|---|---|"]
    for key in ("win_rate", "final_stage_mean", "return_mean", "length_mean"):
        lines.append(f"| {key} | {_fmt(row.get('eval/' + key))} | "
                     f"{_fmt(row.get('eval/random/' + key))} |")
    return lines


def summary_markdown(metrics, chart_names) -> str:
    """Return the Markdown summary of a run's metrics, linking the chart files."""
    first, last = metrics.train[0], metrics.train[-1]
    info = metrics.info
    _, sps = metrics.series("perf/sps")
    _, update_seconds = metrics.series("perf/update_seconds")
    lines = [
        f"# Run report: {info.get('name', metrics.directory.name)}",
        "",
        f"- run directory: `{metrics.directory}`",
        (f"- run id: {info.get('run_id', '-')}, created {info.get('created', '-')}, git commit "
         f"{info.get('git_commit') or '-'}"),
        (f"- updates logged: {len(metrics.train)} (update {first['step']} to {last['step']}), "
         f"{int(last.get('perf/env_steps') or 0):,} env steps"),
        (f"- throughput: mean {sps.mean():,.0f} env steps/s, last {sps[-1]:,.0f}; "
         f"{_duration(update_seconds.sum())} spent in the logged updates" if len(sps)
         else "- throughput: not logged"),
        "",
        "## Episodes (means over the episodes finished in an update)",
        "",
        *_episode_table(metrics),
        "",
        "## Training health",
        "",
        *_health_table(metrics),
        "",
        f"## Largest reward components at the last update ({last['step']}), per env step",
        "",
        *_reward_lines(metrics),
        *_eval_lines(metrics),
        "",
        "## Charts",
        "",
        *[f"![{name[:-4]}]({name})" for name in chart_names],
        "",
    ]
    return "\n".join(lines)
