"""Text generation backends behind one small contract, configured in commune.toml."""

from commune.generate.base import Completion, Generator, GeneratorUnavailable

__all__ = ["Completion", "Generator", "GeneratorUnavailable"]
