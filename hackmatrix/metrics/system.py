"""System metrics (`system/*`): process CPU and memory, host memory, device memory where reported,
and the seconds spent compiling the training chunk (the same value at every update of a session).

Sampled on the host with psutil and the JAX runtime's allocator statistics; nothing here touches
a device array, so a sample never waits for queued device work (no sync on the training path).
Every call costs a few system calls, so a sample per published chunk is negligible.
"""

import jax
import psutil

MIB = float(2 ** 20)
CPU_PERCENT = "system/cpu_percent"
RSS = "system/rss_mib"
HOST_AVAILABLE = "system/host_available_mib"
DEVICE_IN_USE = "system/device_memory_mib"
DEVICE_PEAK = "system/device_memory_peak_mib"
COMPILE = "system/compile_seconds"


def device_memory(devices) -> dict:
    """Return the summed bytes in use and peak bytes of the devices whose backend reports them.

    The CPU backend reports nothing (memory_stats() is None), so the dict is empty there;
    GPU and TPU allocators report `bytes_in_use` and `peak_bytes_in_use`.
    """
    in_use = peak = None
    for device in devices:
        try:
            stats = device.memory_stats()
        except (NotImplementedError, RuntimeError):  # some backends do not implement it
            stats = None
        if not stats or "bytes_in_use" not in stats:
            continue
        in_use = (in_use or 0) + stats["bytes_in_use"]
        peak = (peak or 0) + stats.get("peak_bytes_in_use", stats["bytes_in_use"])
    if in_use is None:
        return {}
    return {"bytes_in_use": in_use, "peak_bytes_in_use": peak}


class SystemMonitor:
    """Samples the `system/*` metrics of this process and its local devices."""

    def __init__(self, devices=None):
        self._process = psutil.Process()
        self._devices = list(jax.local_devices() if devices is None else devices)
        # psutil's CPU % is measured between two calls: this first call starts the interval.
        self._process.cpu_percent(interval=None)
        # Seconds this process spent compiling the training chunk; set by the loop once known.
        self.compile_seconds: float | None = None

    def sample(self) -> dict[str, float]:
        """Return the metrics now: CPU % since the last sample (100 = one core), memory in MiB."""
        out = {
            CPU_PERCENT: float(self._process.cpu_percent(interval=None)),
            RSS: self._process.memory_info().rss / MIB,
            HOST_AVAILABLE: psutil.virtual_memory().available / MIB,
        }
        device = device_memory(self._devices)
        if device:
            out[DEVICE_IN_USE] = device["bytes_in_use"] / MIB
            out[DEVICE_PEAK] = device["peak_bytes_in_use"] / MIB
        if self.compile_seconds is not None:
            out[COMPILE] = float(self.compile_seconds)
        return out
