"""Health checks: thresholds, once-only transition messages, the summary and the stall detector."""

import math

import pytest

from hackmatrix.errors import ConfigError
from hackmatrix.metrics import HealthConfig, HealthMonitor


def ppo(kl=0.01, clip=0.1, entropy=2.0):
    return {"train/approx_kl": kl, "train/clip_frac": clip, "train/entropy": entropy}


def test_defaults_and_validation():
    config = HealthConfig()
    assert (config.approx_kl_max, config.clip_frac_max, config.entropy_min) == (0.06, 0.30, 1.0)
    assert (config.stall_window, config.stop_when_unhealthy) == (20, False)
    with pytest.raises(ConfigError, match="stall_window"):
        HealthConfig(stall_window=1)
    with pytest.raises(ConfigError, match="approx_kl_max"):
        HealthConfig(approx_kl_max="high")
    with pytest.raises(ConfigError, match="stop_when_unhealthy"):
        HealthConfig(stop_when_unhealthy=1)
    with pytest.raises(ConfigError, match="stop_patience"):
        HealthConfig(stop_patience=0)


def test_bounds_are_strict_and_values_published():
    monitor = HealthMonitor()
    health, messages = monitor.update(1, ppo(kl=0.06, clip=0.29, entropy=1.0))
    assert health == {"health/approx_kl_ok": 0.0, "health/clip_frac_ok": 1.0,
                      "health/entropy_ok": 0.0, "health/all_ok": 0.0}
    assert len(messages) == 2
    health, _ = monitor.update(2, ppo())
    assert health["health/all_ok"] == 1.0
    assert "health/stall_ok" not in health


def test_warns_once_when_failing_and_once_when_recovering():
    monitor = HealthMonitor()
    kls = [0.01, 0.08, 0.09, 0.10, 0.02, 0.03, 0.07]
    messages = []
    for step, kl in enumerate(kls, start=1):
        messages += monitor.update(step, ppo(kl=kl))[1]
    assert messages == [
        "health check approx_kl failing at update 2: approx_kl = 0.08 (healthy when < 0.06)",
        "health check approx_kl recovered at update 5: approx_kl = 0.02 (healthy when < 0.06)",
        "health check approx_kl failing at update 7: approx_kl = 0.07 (healthy when < 0.06)",
    ]
    summary = monitor.summary()
    assert summary["approx_kl"] == {"updates": 7, "healthy_fraction": 3 / 7, "worst": 0.10,
                                    "first_failed_update": 2}
    assert summary["entropy"] == {"updates": 7, "healthy_fraction": 1.0, "worst": 2.0,
                                  "first_failed_update": None}
    assert summary["stall"]["updates"] == 0
    text = monitor.format_summary()
    assert "approx_kl" in text and "first failed at update 2" in text
    assert "stall      not evaluated" in text


def test_nan_fails_and_is_the_worst_value():
    monitor = HealthMonitor()
    monitor.update(1, ppo(entropy=0.5))
    health, messages = monitor.update(2, ppo(entropy=math.nan))
    assert health["health/entropy_ok"] == 0.0
    assert messages == []  # still failing: no second warning
    assert math.isnan(monitor.summary()["entropy"]["worst"])


def episodes(length, ret):
    return {"episode/length_mean": length, "episode/return_mean": ret}


def test_stall_detector_length_rising_while_return_flat():
    monitor = HealthMonitor(HealthConfig(stall_window=4))
    # Updates without finished episodes do not enter the window.
    assert monitor.update(1, {})[0] == {}
    results = [monitor.update(s, episodes(length, ret))
               for s, (length, ret) in enumerate([(10, 1.0), (10, 1.0), (12, 1.01), (12, 1.01)],
                                                 start=2)]
    assert [h for h, _ in results[:3]] == [{}, {}, {}]
    health, messages = results[3]
    assert health == {"health/stall_ok": 0.0, "health/all_ok": 0.0}
    assert messages == [("health check stall failing at update 5: stall = 0.2 "
                         "(healthy when <= 0.1)")]
    assert monitor.summary()["stall"]["worst"] == pytest.approx(0.2)


def test_stall_detector_quiet_when_return_moves_or_length_flat():
    rising_return = HealthMonitor(HealthConfig(stall_window=4))
    for step, (length, ret) in enumerate([(10, 1.0), (10, 1.0), (12, 2.0), (12, 2.0)], start=1):
        health, _ = rising_return.update(step, episodes(length, ret))
    assert health == {"health/stall_ok": 1.0, "health/all_ok": 1.0}
    flat_length = HealthMonitor(HealthConfig(stall_window=4))
    for step, (length, ret) in enumerate([(10, 1.0), (10, 1.0), (10.5, 1.0), (10.5, 1.0)],
                                         start=1):
        health, _ = flat_length.update(step, episodes(length, ret))
    assert health["health/stall_ok"] == 1.0


def test_patience_counts_consecutive_failures():
    monitor = HealthMonitor(HealthConfig(stop_patience=2))
    monitor.update(1, ppo(clip=0.5))
    assert not monitor.unhealthy_for_patience
    monitor.update(2, ppo())
    monitor.update(3, ppo(clip=0.5))
    assert not monitor.unhealthy_for_patience
    monitor.update(4, ppo(clip=0.5))
    assert monitor.unhealthy_for_patience
