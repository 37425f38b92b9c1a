"""system/* metrics: real psutil readings of this process, device memory where reported."""

import time

import jax
import numpy as np
import psutil

from hackmatrix.metrics.system import (
    CPU_PERCENT,
    DEVICE_IN_USE,
    DEVICE_PEAK,
    HOST_AVAILABLE,
    MIB,
    RSS,
    SystemMonitor,
    device_memory,
)


def test_cpu_backend_samples_process_and_host_memory_only():
    monitor = SystemMonitor()
    sample = monitor.sample()
    # The CPU backend reports no allocator statistics: no device keys rather than zeros.
    assert set(sample) == {CPU_PERCENT, RSS, HOST_AVAILABLE}
    assert all(isinstance(v, float) for v in sample.values())
    assert abs(sample[RSS] - psutil.Process().memory_info().rss / MIB) < 64
    assert 0 < sample[HOST_AVAILABLE] <= psutil.virtual_memory().total / MIB


def test_rss_grows_with_a_large_array_and_cpu_counts_busy_time():
    monitor = SystemMonitor()
    before = monitor.sample()
    block = np.ones(96 * 2 ** 20 // 8)  # 96 MiB, written so that every page is resident
    end = time.process_time() + 0.2
    while time.process_time() < end:  # CPU time, not wall time: the machine is shared
        pass
    after = monitor.sample()
    assert after[RSS] - before[RSS] > 64
    assert after[CPU_PERCENT] > 0
    del block


class _Reporting:
    """A device whose allocator reports its memory, as the GPU and TPU backends do."""

    def __init__(self, in_use, peak):
        self.stats = {"bytes_in_use": in_use, "peak_bytes_in_use": peak, "bytes_limit": 1 << 40}

    def memory_stats(self):
        return self.stats


def test_device_memory_sums_the_devices_that_report():
    assert device_memory(jax.local_devices()) == {}
    devices = [_Reporting(3 * 2 ** 20, 5 * 2 ** 20), *jax.local_devices(),
               _Reporting(2 ** 20, 2 ** 21)]
    assert device_memory(devices) == {"bytes_in_use": 4 * 2 ** 20, "peak_bytes_in_use": 7 * 2 ** 20}
    sample = SystemMonitor(devices).sample()
    assert sample[DEVICE_IN_USE] == 4.0 and sample[DEVICE_PEAK] == 7.0
