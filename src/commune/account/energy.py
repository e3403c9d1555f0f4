"""Energy and carbon of a request, measured where the work runs, modelled where it cannot be.

Local work (retrieval, embedding, local generation) is *estimated* as the CPU time the
process spent on it (measured) times a configured power per busy core (not measured).
Where the operator enables it and the machine exposes it, RAPL's package energy counter is
read instead; the package also powers other processes and this process's other requests,
so a request is given its share only (its CPU time against the machine's over its wall
time): *measured, shared*.

Remote generation is *modelled* by the ``ecologits`` package (its methodology, pinned in
pyproject.toml), from the model's parameters (total and active), the output tokens, the
hosting's electricity mix and EcoLogits' reference hardware, with its embodied impacts and
its ranges. Every figure says which method produced it, and its version.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from commune.errors import CommuneError, ConfigError

if TYPE_CHECKING:
    from commune.config import ModelSettings

RAPL = Path("/sys/class/powercap/intel-rapl:0/energy_uj")
PROC_STAT = Path("/proc/stat")

# Where the hosting's jurisdiction is a country (ISO 3166-1 alpha-2, as the charter names
# it), the electricity mix EcoLogits keeps for it (alpha-3); elsewhere, the world's mix.
_ZONES = {
    "AT": "AUT", "BE": "BEL", "CH": "CHE", "DE": "DEU", "DK": "DNK", "ES": "ESP",
    "FI": "FIN", "FR": "FRA", "GB": "GBR", "IE": "IRL", "IT": "ITA", "LU": "LUX",
    "NL": "NLD", "NO": "NOR", "PL": "POL", "PT": "PRT", "SE": "SWE", "US": "USA",
}  # fmt: skip
WORLD = "WOR"


class EcoLogitsMissing(CommuneError):
    """Remote generation cannot be modelled: the ``ecologits`` package is not importable."""


@dataclass(frozen=True)
class Energy:
    wh: float | None
    gco2e: float | None
    estimated: bool
    method: str
    # The range a model gives (EcoLogits' min and max), where the figure is modelled.
    wh_min: float | None = None
    wh_max: float | None = None
    embodied_gco2e: float | None = None  # the hardware's manufacture, this request's share

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "wh": self.wh,
            "gco2e": self.gco2e,
            "measured": not self.estimated,
            "method": self.method,
        }
        if self.wh_min is not None and self.wh_max is not None:
            out["wh_range"] = [self.wh_min, self.wh_max]
        if self.embodied_gco2e is not None:
            out["embodied_gco2e"] = self.embodied_gco2e
        return out


def _read_rapl() -> int | None:
    try:
        return int(RAPL.read_text())
    except (OSError, ValueError):
        return None


def _machine_cpu_s() -> float | None:
    """Seconds every core of the machine spent busy since boot (/proc/stat), or None."""
    import os

    try:
        fields = PROC_STAT.read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return None
    if not fields or fields[0] != "cpu":
        return None
    try:
        ticks = [int(v) for v in fields[1:]]
    except ValueError:
        return None
    # user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
    busy = sum(ticks[:8]) - sum(ticks[3:5])
    return busy / os.sysconf("SC_CLK_TCK")


class _InFlight:
    """The requests metered at once in this process: they share its CPU time."""

    lock = threading.Lock()
    running = 0
    started = 0


def _leave(done: list[bool]) -> None:
    with _InFlight.lock:
        if not done[0]:
            _InFlight.running -= 1
            done[0] = True


class Meter:
    """Measure the energy of the work done between start and stop in this process."""

    _done: list[bool]  # whether it has left the requests running (_leave)

    def __init__(
        self, watts_per_core: float, use_rapl: bool = False, resumed: bool = False
    ) -> None:
        """``resumed``: the same work going on after its previous meter stopped (an
        ingestion's, between two of its ledger rows): running again, not a new request
        started; counted as a new one, each document added would divide the CPU time of an
        answer running meanwhile once more."""
        import weakref

        self.watts_per_core = watts_per_core
        self.use_rapl = use_rapl and _read_rapl() is not None
        self.cpu0 = time.process_time()
        self.started = time.perf_counter()
        self.rapl0 = _read_rapl() if self.use_rapl else None
        self.machine0 = _machine_cpu_s() if self.use_rapl else None
        with _InFlight.lock:
            _InFlight.running += 1
            if not resumed:
                _InFlight.started += 1
            self._running0 = _InFlight.running  # this one and those already running
            self._started0 = _InFlight.started
        self._done = [False]
        self._reading: tuple[float, float, str, bool] | None = None
        self.ended: float | None = None  # perf_counter() when it stopped
        # A meter dropped without stop nor discard leaves the count all the same, when the
        # collector takes it: until then the process's other requests share their CPU time
        # with it, so every failure path discards its meter at once.
        weakref.finalize(self, _leave, self._done)

    def discard(self) -> None:
        """Leave the requests at work without a reading: the work failed before its row.
        A stopped meter is unchanged (its reading already left them)."""
        _leave(self._done)

    def _overlapping(self) -> int:
        """How many requests ran in this process during this one, itself included."""
        with _InFlight.lock:
            return self._running0 + _InFlight.started - self._started0

    def stop(self) -> tuple[float, float, str, bool]:
        """(CPU seconds, Wh, method, estimated).

        Only a meter's reading is *measured*. CPU time is measured, but the watts per core
        are a configured constant, so CPU time x watts is an estimate and says so.

        Stopped again, it gives its first reading: an upload stops its meter before its
        documents are added, and writes its row once they are (ingest/upload.py)."""
        if self._reading is None:
            self._reading = self._read()
            self.ended = time.perf_counter()
        return self._reading

    def _read(self) -> tuple[float, float, str, bool]:
        peers = self._overlapping()
        _leave(self._done)
        process_cpu = max(0.0, time.process_time() - self.cpu0)
        # The process's CPU time, split evenly among the requests that ran in it meanwhile
        # (one at a time: all of it).
        cpu = process_cpu / peers
        if self.rapl0 is not None:
            now = _read_rapl()
            machine = _machine_cpu_s()
            if (
                now is not None
                and now >= self.rapl0
                and machine is not None
                and self.machine0 is not None
            ):
                busy = machine - self.machine0
                # The package powered the whole machine: this request's share is its CPU
                # time against the machine's busy time over its wall time.
                share = min(1.0, cpu / busy) if busy > 0 else 0.0
                wh = (now - self.rapl0) / 3.6e9 * share
                method = (
                    f"RAPL package energy x this request's share of the machine's CPU time "
                    f"({share:.0%}) (measured, shared)"
                )
                return cpu, wh, method, False
        wh = cpu * self.watts_per_core / 3600
        method = f"CPU time x {self.watts_per_core:g} W per core, a configured figure (estimated)"
        return cpu, wh, method, True


def carbon(wh: float | None, grid_gco2e_per_kwh: float) -> float | None:
    return None if wh is None else wh / 1000 * grid_gco2e_per_kwh


# -- remote generation, modelled by EcoLogits -------------------------------------------------


@dataclass(frozen=True)
class Modelled:
    """A remote generation's impacts as EcoLogits models them (its ranges kept)."""

    wh_min: float
    wh_max: float
    gco2e_min: float  # usage (the electricity) and embodied (the hardware) together
    gco2e_max: float
    embodied_gco2e: float
    zone: str
    method: str

    @property
    def wh(self) -> float:
        return (self.wh_min + self.wh_max) / 2

    @property
    def gco2e(self) -> float:
        return (self.gco2e_min + self.gco2e_max) / 2


@lru_cache(maxsize=1)
def ecologits_version() -> str:
    """The installed ``ecologits``' version; a missing package says how to install it."""
    try:
        from importlib.metadata import PackageNotFoundError, version

        import ecologits.impacts.llm  # noqa: F401  (the module the estimate needs)

        return version("ecologits")
    except (ImportError, PackageNotFoundError):
        raise EcoLogitsMissing(
            "remote generation cannot be estimated: the ecologits package is not installed",
            "install it: pip install 'ecologits>=0.11.3,<0.12' (a dependency of commune: "
            "reinstalling commune brings it back)",
        ) from None


def zone_for(jurisdiction: str | None, configured: str | None) -> str:
    """The electricity mix of the hosting: configured, else its country's, else the world's."""
    if configured:
        return configured
    return _ZONES.get((jurisdiction or "").upper(), WORLD)


def _value(v: Any) -> tuple[float, float]:
    """EcoLogits' value or RangeValue, as (min, max)."""
    if hasattr(v, "min") and hasattr(v, "max"):
        return float(v.min), float(v.max)
    return float(v), float(v)


def modelled_generation(
    name: str,
    active_params_b: float,
    total_params_b: float,
    output_tokens: int,
    zone: str,
    pue: float | tuple[float, float] = 1.2,
    quantization_bits: int = 16,
    gpu_memory_gb: float = 80.0,
) -> Modelled:
    """Energy and carbon of ``output_tokens`` written by a model served elsewhere.

    EcoLogits counts only the tokens a model writes: reading the prompt is left out of its
    methodology, and so of this figure."""
    version = ecologits_version()
    from ecologits.electricity_mix_repository import electricity_mixes
    from ecologits.impacts.llm import compute_llm_impacts
    from ecologits.utils.range_value import RangeValue

    mix = electricity_mixes.find_electricity_mix(zone=zone)
    if mix is None:
        raise ConfigError(
            f"models.{name}.electricity_zone: EcoLogits has no electricity mix for {zone!r}",
            "give an ISO 3166-1 alpha-3 code (FRA, DEU, SWE…) or WOR for the world's mix",
        )
    impacts = compute_llm_impacts(
        model_active_parameter_count=active_params_b,
        model_total_parameter_count=total_params_b,
        output_token_count=output_tokens,
        if_electricity_mix_adpe=mix.adpe,
        if_electricity_mix_pe=mix.pe,
        if_electricity_mix_gwp=mix.gwp,
        if_electricity_mix_wue=mix.wue,
        datacenter_pue=RangeValue(min=pue[0], max=pue[1]) if isinstance(pue, tuple) else pue,
        datacenter_wue=0.0,  # water is not reported here
        model_quantization_bits=quantization_bits,
        gpu_memory=gpu_memory_gb,
    )
    kwh = _value(impacts.energy.value)
    kg = _value(impacts.gwp.value)  # usage + embodied
    embodied = _value(impacts.embodied.gwp.value)
    pue_text = f"{pue[0]:g}-{pue[1]:g}" if isinstance(pue, tuple) else f"{pue:g}"
    return Modelled(
        wh_min=kwh[0] * 1000,
        wh_max=kwh[1] * 1000,
        gco2e_min=kg[0] * 1000,
        gco2e_max=kg[1] * 1000,
        embodied_gco2e=(embodied[0] + embodied[1]) / 2 * 1000,
        zone=zone,
        method=(
            f"ecologits {version}, modelled: {name} ({active_params_b:g}B active, "
            f"{total_params_b:g}B total, {quantization_bits}-bit), {output_tokens} output "
            f"tokens, {zone} electricity mix, PUE {pue_text}, {gpu_memory_gb:g} GB GPUs in "
            "EcoLogits' reference server, embodied impacts included"
        ),
    )


def configured_for(
    name: str, wh_per_1k_tokens: float, output_tokens: int, grid_gco2e_per_kwh: float
) -> Modelled:
    """A remote generation at the operator's configured figure (measured on its server):
    its tokens times that figure, the carbon at this cooperative's grid intensity, no
    embodied share (the figure says nothing of the hardware)."""
    wh = wh_per_1k_tokens * output_tokens / 1000
    g = wh / 1000 * grid_gco2e_per_kwh
    method = (
        f"{name}: {output_tokens} output tokens × {wh_per_1k_tokens:g} Wh per 1,000, a "
        f"configured figure (models.{name}.wh_per_1k_tokens)"
    )
    return Modelled(wh, wh, g, g, 0.0, "configured", method)


def modelled_for(name: str, spec: ModelSettings, output_tokens: int) -> Modelled | None:
    """A configured endpoint's generation, modelled; None where its parameters are not
    configured (nothing to model it from)."""
    if not (spec.active_params_b and spec.total_params_b):
        return None
    return modelled_generation(
        name,
        spec.active_params_b,
        spec.total_params_b,
        output_tokens,
        zone_for(spec.jurisdiction, spec.electricity_zone),
        spec.datacenter_pue,
        spec.quantization_bits,
        spec.gpu_memory_gb,
    )
