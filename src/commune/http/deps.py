"""The facade as a FastAPI dependency: a route names ``commune: CommuneDep`` and gets the
app's one :class:`commune.core.Commune`, typed, instead of closing over it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from commune.core import Commune


def get_commune(request: Request) -> Commune:
    commune: Commune = request.app.state.commune  # set once by create_app
    return commune


CommuneDep = Annotated[Commune, Depends(get_commune)]
