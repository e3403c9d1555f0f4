"""Whether the client of one request is still there, for an answer that a model writes.

A client that left midway (a closed tab, a script's time-out, Ctrl-C) still cost the whole
generation: the model wrote for nobody, on the member's quota and the home's energy. The
ASGI server says ``http.disconnect`` when the connection closes; :class:`Departure` waits
for it beside the work and the answer reads it between the model's tokens
(AskRequest.gone), which stops the model there."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.responses import Response
from starlette.types import Receive


class Departure:
    """Called, whether the client has left; :meth:`watching` waits for it meanwhile."""

    def __init__(self) -> None:
        self._left = threading.Event()  # read by the answer's thread, set by the event loop

    def __call__(self) -> bool:
        return self._left.is_set()

    @asynccontextmanager
    async def watching(self, receive: Receive) -> AsyncIterator[None]:
        """Watch ``receive`` while the block runs. The request's body was read already, so
        the next message is the disconnect (the server sends it too once the response is
        complete, when the watch has stopped). A task of its own, not a task group's: a
        failure of the block (a refusal, a 404) would come out of a group wrapped in an
        exception group, past the handlers that turn it into its status."""

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            self._left.set()

        task = asyncio.get_running_loop().create_task(watch())
        try:
            yield
        finally:
            task.cancel()


def left() -> Response:
    """The response to a client that has left (its answer is on the ledger as abandoned):
    nginx's 499, "client closed the request", for the server's access log; nobody reads it."""
    return Response(status_code=499)
