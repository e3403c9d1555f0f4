"""Text generation backends behind one small contract (base.py), registered by backend name
(registry.py: built-ins and plugins of the ``commune.generators`` entry point group alike),
configured in commune.toml."""

from commune.generate.base import Completion, Generator, GeneratorUnavailable

__all__ = ["Completion", "Generator", "GeneratorUnavailable"]
