"""PNG charts of a run's metrics (matplotlib, no display needed): one function per chart file.

Figures are built without pyplot (plain `Figure` objects rendered by Agg), so no display or
backend choice is involved. Every chart has the PPO update on its x-axis and draws only the updates where a metric was
logged (e.g. `episode/*` exists only for updates in which an episode finished).
"""

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from hackmatrix.env.constants import PROGRAM_NAMES, REWARD_KEYS

DPI = 110
UNHEALTHY = "#d62728"
MAX_PROGRAM_LINES = 8


def _figure(rows=1, cols=1, figsize=(9, 4), **options):
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(rows, cols, **options)


def _save(fig, path) -> None:
    for ax in fig.axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # updates are whole numbers
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)


def _no_data(ax, what: str) -> None:
    ax.text(0.5, 0.5, f"no {what} logged", ha="center", va="center", transform=ax.transAxes,
            color="grey")


def _line(ax, metrics, key: str, title: str, **style) -> bool:
    steps, values = metrics.series(key)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("update")
    if not len(steps):
        _no_data(ax, key)
        return False
    ax.plot(steps, values, marker="." if len(steps) < 30 else None, **style)
    return True


def _common_steps(metrics, keys) -> tuple:
    """Steps where every key was logged, and a (len(keys), steps) array of their values."""
    rows = [r for r in metrics.train if all(r.get(k) is not None for k in keys)]
    steps = np.asarray([r["step"] for r in rows])
    values = np.asarray([[r[k] for r in rows] for k in keys], np.float64).reshape(len(keys), -1)
    return steps, np.nan_to_num(values)


def reward_chart(metrics, path) -> None:
    """Stacked areas of the 15 reward components per update: gains up, penalties down."""
    keys = [f"reward/{k}" for k in REWARD_KEYS]
    steps, values = _common_steps(metrics, keys)
    fig, ax = _figure(figsize=(11, 5.5))
    ax.set_title("reward breakdown per update (mean per env step, by component)")
    ax.set_xlabel("update")
    if len(steps):
        colours = matplotlib.colormaps["tab20"](np.linspace(0, 1, len(keys)))
        # A stacked area needs one sign per stack: gains stack upwards, penalties downwards.
        ax.stackplot(steps, np.clip(values, 0, None), colors=colours, labels=REWARD_KEYS,
                     alpha=0.85)
        ax.stackplot(steps, np.clip(values, None, 0), colors=colours, alpha=0.85)
        total_steps, total = metrics.series("train/mean_reward")
        ax.plot(total_steps, total, color="black", linewidth=1.5, label="total (mean reward)")
        ax.axhline(0, color="black", linewidth=0.5)
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8)
    else:
        _no_data(ax, "reward components")
    _save(fig, path)


def action_chart(metrics, path) -> None:
    """Shares of moves, siphons and programs (stacked), and of the most used programs."""
    fig, (top, bottom) = _figure(2, 1, figsize=(11, 7), sharex=True)
    keys = ["actions/move_frac", "actions/siphon_frac", "actions/program_frac"]
    steps, values = _common_steps(metrics, keys)
    top.set_title("action shares per update", fontsize=10)
    if len(steps):
        top.stackplot(steps, values, labels=["move / attack", "siphon", "program"], alpha=0.85)
        top.set_ylim(0, 1)
        top.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8)
    else:
        _no_data(top, "action shares")
    bottom.set_title("share of each program (the most used)", fontsize=10)
    bottom.set_xlabel("update")
    used = []
    for name in PROGRAM_NAMES:
        s, v = metrics.series(f"actions/program/{name}")
        if len(v) and v.max() > 0:
            used.append((v.mean(), name, s, v))
    for _, name, s, v in sorted(used, key=lambda u: -u[0])[:MAX_PROGRAM_LINES]:
        bottom.plot(s, v, label=name)
    if used:
        bottom.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8)
    else:
        _no_data(bottom, "program use")
    _save(fig, path)


def episode_chart(metrics, path) -> None:
    """Episode return, length, final stage and win rate of the episodes finished per update."""
    fig, axes = _figure(2, 2, figsize=(11, 7))
    _line(axes[0, 0], metrics, "episode/return_mean", "episode return (mean)")
    _line(axes[0, 1], metrics, "episode/length_mean", "episode length (mean steps)",
          color="tab:orange")
    _line(axes[1, 0], metrics, "episode/final_stage_mean", "final stage (mean)",
          color="tab:green")
    _line(axes[1, 1], metrics, "episode/win_rate", "win rate", color="tab:red")
    _save(fig, path)


def health_chart(metrics, path) -> None:
    """PPO statistics; the region outside each health threshold is shaded red."""
    h = metrics.health
    fig, axes = _figure(2, 3, figsize=(13, 7))
    bounded = [("train/approx_kl", "approx KL", h.approx_kl_max, "above"),
               ("train/clip_frac", "clip fraction", h.clip_frac_max, "above"),
               ("train/entropy", "entropy (nats, valid actions)", h.entropy_min, "below")]
    for ax, (key, title, limit, bad) in zip(axes[0], bounded, strict=True):
        if _line(ax, metrics, key, f"{title}: unhealthy {bad} {limit:g}"):
            ax.axhline(limit, color=UNHEALTHY, linestyle="--", linewidth=1)
            low, high = ax.get_ylim()
            low, high = min(low, limit), max(high, limit * 1.05)
            if bad == "above":
                high = max(high, limit * 1.25)
                ax.axhspan(limit, high, color=UNHEALTHY, alpha=0.12)
            else:
                low = min(low, limit * 0.75)
                ax.axhspan(low, limit, color=UNHEALTHY, alpha=0.12)
            ax.set_ylim(low, high)
    _line(axes[1, 0], metrics, "train/value_loss", "value loss", color="tab:purple")
    _line(axes[1, 1], metrics, "train/grad_norm", "gradient norm (before clipping)",
          color="tab:brown")
    _line(axes[1, 2], metrics, "train/learning_rate", "learning rate", color="tab:gray")
    _save(fig, path)


def throughput_chart(metrics, path) -> None:
    """Env steps per second of each update."""
    fig, ax = _figure(figsize=(9, 4))
    if _line(ax, metrics, "perf/sps", "throughput (env steps per second)"):
        _, sps = metrics.series("perf/sps")
        ax.axhline(float(np.mean(sps)), color="black", linestyle=":", linewidth=1,
                   label=f"mean {np.mean(sps):,.0f}")
        ax.legend(fontsize=8)
    _save(fig, path)


CHARTS = {
    "rewards.png": reward_chart,
    "actions.png": action_chart,
    "episodes.png": episode_chart,
    "health.png": health_chart,
    "throughput.png": throughput_chart,
}


def write_charts(metrics, out_dir) -> list:
    """Write every chart into out_dir; return the file paths."""
    paths = []
    for name, chart in CHARTS.items():
        path = out_dir / name
        chart(metrics, path)
        paths.append(path)
    return paths
