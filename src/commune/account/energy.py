"""Energy and carbon of a request, measured where the work runs, estimated where it cannot be.

Local work (retrieval, embedding, local generation) is *estimated* as the CPU
time the process spent on it (measured) times a configured power per busy core
(not measured); where the operator enables it and the machine exposes it, RAPL's
package energy counter is read instead, and only then is the figure *measured*.
Remote generation is estimated with EcoLogits' methodology (v0.4 coefficients):
energy per output token grows linearly with the model's active parameters,
plus the server's share during generation, times the data centre's PUE.
Every figure says which method produced it.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

RAPL = Path("/sys/class/powercap/intel-rapl:0/energy_uj")

# EcoLogits v0.4 (ecologits/impacts/llm.py), per output token:
GPU_WH_PER_TOKEN_ALPHA = 8.91e-5  # Wh per billion active parameters
GPU_WH_PER_TOKEN_BETA = 1.43e-3  # Wh
LATENCY_S_PER_TOKEN_ALPHA = 8.02e-4  # s per billion active parameters
LATENCY_S_PER_TOKEN_BETA = 2.23e-2  # s
GPU_MEMORY_GB = 80.0  # an A100 80GB as the reference GPU
SERVER_GPUS = 8
SERVER_POWER_W = 1000.0  # the server without its GPUs
DATACENTER_PUE = 1.2


@dataclass(frozen=True)
class Energy:
    wh: float | None
    gco2e: float | None
    estimated: bool
    method: str

    def to_json(self) -> dict[str, object]:
        return {
            "wh": self.wh,
            "gco2e": self.gco2e,
            "measured": not self.estimated,
            "method": self.method,
        }


def _read_rapl() -> int | None:
    try:
        return int(RAPL.read_text())
    except (OSError, ValueError):
        return None


class Meter:
    """Measure the energy of the work done between start and stop in this process."""

    def __init__(self, watts_per_core: float, use_rapl: bool = False) -> None:
        self.watts_per_core = watts_per_core
        self.use_rapl = use_rapl and _read_rapl() is not None
        self.cpu0 = time.process_time()
        self.started = time.perf_counter()
        self.rapl0 = _read_rapl() if self.use_rapl else None

    def stop(self) -> tuple[float, float, str, bool]:
        """(CPU seconds, Wh, method, estimated).

        Only a meter's reading is *measured*. CPU time is measured, but the watts per core
        are a configured constant, so CPU time x watts is an estimate and says so."""
        cpu = max(0.0, time.process_time() - self.cpu0)
        if self.rapl0 is not None:
            now = _read_rapl()
            if now is not None and now >= self.rapl0:
                return cpu, (now - self.rapl0) / 3.6e9, "RAPL package energy (measured)", False
        wh = cpu * self.watts_per_core / 3600
        method = f"CPU time x {self.watts_per_core:g} W per core, a configured figure (estimated)"
        return cpu, wh, method, True


def ecologits_wh(
    active_params_b: float, total_params_b: float, output_tokens: int, quantization_bits: int = 16
) -> float:
    """Energy of a remote generation, per EcoLogits' methodology (Wh)."""
    gpus = max(1, math.ceil(1.2 * total_params_b * quantization_bits / 8 / GPU_MEMORY_GB))
    gpu_wh = output_tokens * (GPU_WH_PER_TOKEN_ALPHA * active_params_b + GPU_WH_PER_TOKEN_BETA)
    latency_s = output_tokens * (
        LATENCY_S_PER_TOKEN_ALPHA * active_params_b + LATENCY_S_PER_TOKEN_BETA
    )
    server_wh = latency_s / 3600 * SERVER_POWER_W * gpus / SERVER_GPUS
    return DATACENTER_PUE * (server_wh + gpus * gpu_wh)


def carbon(wh: float | None, grid_gco2e_per_kwh: float) -> float | None:
    return None if wh is None else wh / 1000 * grid_gco2e_per_kwh
