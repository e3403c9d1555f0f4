"""Governance: who may do what, and why. Every decision carries its reason."""

from commune.govern.policy import Decision

__all__ = ["Decision"]
