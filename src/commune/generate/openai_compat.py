"""Any OpenAI-compatible endpoint: vLLM, a llama.cpp server, Ollama, another gateway.

An endpoint is configuration, not code. Its key is read from the environment
variable named in its own configuration and sent to its own base URL only.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from commune.config import looks_like_a_key
from commune.generate.base import (
    ECOLOGITS,
    ChatStream,
    Completion,
    Generator,
    GeneratorUnavailable,
    Message,
)

if TYPE_CHECKING:
    from commune.config import ModelSettings


# The longest wait for a connection to an endpoint, whatever the time limit of an answer.
CONNECT_SECONDS = 30.0

# The longest silence waited out between two bytes of an endpoint when [limits]
# generation_seconds sets no limit (0): no limit on an answer's time is none on a stuck GPU
# server's silence, which held the person's request and a thread of the service for ever.
# A model that writes on is never cut by it; one that needs longer to start answering is
# given a limit above it.
SILENT_SECONDS = 120.0


# Beyond any token's length in the languages answered (about 4 characters on average).
CHARS_PER_TOKEN = 8


# How an endpoint says that the prompt and the tokens asked for exceed the model's context,
# in its error's code or type: OpenAI's ("code": "context_length_exceeded"), llama.cpp's
# server ("type": "exceed_context_size_error")...
_TOO_LONG_KINDS = {"context_length_exceeded", "exceed_context_size_error"}
# ... or in its message only: OpenAI and vLLM ("This model's maximum context length is 8192
# tokens. However, you requested...", "'max_tokens' or 'max_completion_tokens' is too large:
# 400. This model's maximum context length is..."), vLLM's V1 engine ("The decoder prompt
# (length 5000) is longer than the maximum model length of 4096"), llama.cpp's server
# ("request (4476 tokens) exceeds the available context size (4096 tokens), try increasing
# it"), Hugging Face's text-generation-inference in an HTTP 422 ("`inputs` tokens +
# `max_new_tokens` must be <= 4096", "`inputs` must have less than 4096 tokens"), a
# gateway's "context window".
_TOO_LONG = re.compile(
    r"context (?:length|size|window)|maximum model length|context_length_exceeded"
    r"|`inputs` tokens \+ `max_new_tokens` must be <=|`inputs` must have less than \d+ tokens",
    re.I,
)


# The most of an endpoint's message quoted in a note: a line, not its page.
_SAID = 160


def _said(response: Any, key: str | None = None) -> str | None:
    """What an endpoint's error says, on one line, when it says it as OpenAI's API does
    (``{"error": {"message": ...}}``): a page or a traceback is for its operator's logs,
    never shown to the person asking."""
    try:
        return _error(response.json(), key)
    except ValueError:
        return None


# An error's kind as OpenAI's API, vLLM and llama.cpp's server name it ("invalid_request_error",
# "BadRequestError", "exceed_context_size_error"): a word, never a sentence.
_KIND = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}")
# Words that are no kind: LiteLLM's proxy writes Python's None as the string "None".
_NO_KIND = {"none", "null"}


def _error_object(payload: Any) -> Any:
    """The error object of an OpenAI-style error body: its ``error`` (an object, or a bare
    string), or, in vLLM's own shape until 0.10 (``{"object": "error", ...}``), the body
    itself; None when it holds none."""
    error = payload.get("error") if isinstance(payload, dict) else None
    if error is None and isinstance(payload, dict) and payload.get("object") == "error":
        error = payload
    return error


def _too_long(response: Any) -> bool:
    """Whether an endpoint's error says that the prompt exceeds the model's context, by its
    kind or in its message (its whole message: a cut one may have lost the words)."""
    try:
        payload = response.json()
    except ValueError:
        return False
    error = _error_object(payload)
    if isinstance(error, str):
        return bool(_TOO_LONG.search(error))
    if not isinstance(error, dict):
        return False
    if any(error.get(field) in _TOO_LONG_KINDS for field in ("type", "code")):
        return True
    message = error.get("message")
    return isinstance(message, str) and bool(_TOO_LONG.search(message))


def _kind(response: Any) -> str | None:
    """The kind of an endpoint's error (its error object's ``type``, else its ``code``), or
    None: what can be said of a refusal whose text may quote the request."""
    try:
        payload = response.json()
    except ValueError:
        return None
    error = _error_object(payload)
    if not isinstance(error, dict):
        return None
    for field in ("type", "code"):
        value = error.get(field)
        if isinstance(value, str) and _KIND.fullmatch(value) and value.lower() not in _NO_KIND:
            return value
    return None


def _error(payload: Any, key: str | None = None) -> str | None:
    """The message of an OpenAI-style error object (``{"error": {"message": ...}}`` or
    ``{"error": "..."}``, or vLLM's before 0.10, ``{"object": "error", "message": ...}``),
    on one line, ``key`` (the one sent) masked; None when ``payload`` is none."""
    error = _error_object(payload)
    message = error.get("message") if isinstance(error, dict) else error
    if not isinstance(message, str) or not message.strip():
        return None if error is None else "(no message)"
    # Printed as it came by `commune ask`, a terminal's escape sequence (ESC) cleared the
    # asker's screen, and a right-to-left override turned the line around: none is text.
    printable = "".join(c if c.isprintable() else " " for c in message)
    if key:
        # A gateway may quote the key it refused ("Invalid API key: sk-..."): the message is
        # shown to the asker. Masked before the cut, which could leave the key's start.
        printable = printable.replace(key, "…")
    said = " ".join(printable.split())
    if len(said) > _SAID:
        # Cut at a word, and said to be cut: "the length o (give it fewer...)" read as a typo.
        said = said[: _SAID - 1]
        if " " in said[-40:]:
            said = said.rsplit(" ", 1)[0]
        said = said.rstrip(" ,;:") + "…"
    return said or "(no message)"


# The most of a body read as one whole answer (a chat.completion sent instead of a stream):
# far beyond any answer within max_tokens; past it the body is no answer, and is not kept.
_WHOLE_CHARS = 1_000_000


def _as_chunk(completion: Any) -> dict[str, Any]:
    """A whole ``chat.completion`` (what an endpoint that does not stream sends) as the one
    ``chat.completion.chunk`` that would have carried it: its message as the delta. Anything
    else (no choices, a choice without its message) is no answer: ValueError."""
    choices = completion.get("choices")
    if not isinstance(choices, list) or not choices:
        raise ValueError("no choices")
    chunk: list[dict[str, Any]] = []
    for choice in choices:
        message = choice.get("message")
        if not isinstance(message, dict):
            raise ValueError("a choice without its message")
        # A whole answer has ended, whether or not it says why.
        chunk.append({"delta": message, "finish_reason": choice.get("finish_reason") or "stop"})
    return {"choices": chunk, "usage": completion.get("usage")}


class OpenAICompatibleGenerator(Generator):
    backend = "openai"
    local = False
    streams = True
    # Nothing here measures the endpoint's machine: its energy is estimated from the model.
    energy_method = ECOLOGITS

    def __init__(
        self,
        name: str,
        base_url: str,
        model: str,
        api_key_env: str | None = None,
        timeout: float | None = 120.0,
        max_tokens: int = 400,
        temperature: float = 0.1,
    ) -> None:
        super().__init__(name, max_tokens, temperature)
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key_env = api_key_env
        self.timeout = timeout

    @classmethod
    def from_spec(
        cls, name: str, spec: ModelSettings, max_tokens: int, seconds: float | None
    ) -> OpenAICompatibleGenerator:
        if spec.base_url is None or spec.model is None:
            raise GeneratorUnavailable(
                f"model {name} has no endpoint",
                f"set models.{name}.base_url and models.{name}.model in commune.toml",
            )
        return cls(
            name,
            spec.base_url,
            spec.model,
            spec.api_key_env,
            # The wait between two bytes follows [limits] generation_seconds: fixed at 120 s,
            # an endpoint silent for 120 s (a model still loading) was given up on under a
            # limit of 300 s, and under a limit of 30 s a silent endpoint's connection was
            # held up to 90 s past the answer by the thread reading it (base.within). No
            # limit (None) waits out SILENT_SECONDS of silence, not for ever.
            timeout=seconds or SILENT_SECONDS,
            max_tokens=max_tokens,
            temperature=spec.temperature,
        )

    def _headers(self, language: str | None = None) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if language:
            # The asker's language: another Commune (or a gateway) says its errors in it, and
            # one quoted in an English note arrived in French, its default, without it.
            headers["Accept-Language"] = language
        if self.api_key_env:
            # Spaces around it are not the key's: a file written on Windows ends in "\r".
            key = os.environ.get(self.api_key_env, "").strip()
            if not key and looks_like_a_key(self.api_key_env):
                # The key itself, in place of its variable's name (commune.toml takes it, as
                # Mistral's and Hugging Face's keys are valid names): never quoted, the note
                # of every answer given without the model showed it to the asker.
                raise GeneratorUnavailable(
                    f"no API key for model {self.name}",
                    f"models.{self.name}.api_key_env holds what looks like a key, not a "
                    "variable's name: put the key in an environment variable and name that "
                    "variable there",
                )
            if not key:
                raise GeneratorUnavailable(
                    f"no API key for model {self.name}",
                    f"export {self.api_key_env}=... (named by models.{self.name}.api_key_env)",
                )
            if not (key.isascii() and key.isprintable()) or any(c.isspace() for c in key):
                # A header holds no such character: httpx failed on it as an encoding error
                # or as an unreachable endpoint. Never quoted: it is a secret.
                raise GeneratorUnavailable(
                    f"the key in {self.api_key_env} is not a usable API key: it holds a space "
                    "or a character outside ASCII",
                    f"export {self.api_key_env}=... with the key alone",
                )
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def _next_step(self, status: int) -> str:
        """What the operator does about an endpoint's HTTP error."""
        if status == 429:
            return "it limits the requests it takes: try again later, or raise its limit"
        if status in (401, 403):
            if self.api_key_env:
                return f"check the key in {self.api_key_env} (models.{self.name}.api_key_env)"
            return f"set models.{self.name}.api_key_env to the variable holding its key"
        if status == 404:
            return (
                f"check models.{self.name}.base_url (most end in /v1) and models.{self.name}.model"
            )
        return "its own logs say why"

    def _redirected(self, response: Any) -> GeneratorUnavailable:
        """An endpoint that sends the request elsewhere (nginx from http:// to https://): not
        followed, so that the key goes to the configured address only; said, with the
        base_url to give instead."""
        status = response.status_code
        location = response.headers.get("location")
        if not location:
            return GeneratorUnavailable(
                f"model {self.name} at {self.base_url} answered HTTP {status}",
                self._next_step(404),
            )
        to = response.url.join(location)
        # Said without its query (a sign-in page's state) or a user and password, and as sent
        # (percent-encoded): the note is the asker's.
        path = to.raw_path.decode("ascii").partition("?")[0]
        target = f"{to.scheme}://{to.netloc.decode('ascii')}{path}"
        if not to.path.endswith("/chat/completions") or to.query:
            # A proxy's sign-in page, or any address that is no endpoint's: not a base_url.
            return GeneratorUnavailable(
                f"model {self.name} at {self.base_url} answered HTTP {status}, a redirection to "
                f"{target}",
                f"not an endpoint's address: give models.{self.name}.base_url the address of "
                "the endpoint itself",
            )
        base = target.removesuffix("/chat/completions")
        return GeneratorUnavailable(
            f"model {self.name} at {self.base_url} answered HTTP {status}, a redirection to "
            f"{target}",
            f'give models.{self.name}.base_url = "{base}" in commune.toml',
        )

    def _take(
        self,
        data: str,
        reader: ChatStream,
        key: str | None,
        malformed: GeneratorUnavailable,
        whole: bool = False,
    ) -> list[str]:
        """The text deltas of one event of the stream (``whole``: of a whole chat.completion
        sent instead of the stream); an error the endpoint reports there is raised."""
        try:
            event = json.loads(data)
            failed = _error(event, key)
            if whole and not failed:
                event = _as_chunk(event)
            pieces = [] if failed else list(reader.feed(event))
        except (ValueError, KeyError, TypeError, AttributeError, IndexError):
            # Not the protocol: the model is as good as unavailable, and the answer falls
            # back to extraction instead of failing the request.
            raise malformed from None
        if failed:  # vLLM and llama.cpp report a failure midway as an event
            raise GeneratorUnavailable(
                f"model {self.name} at {self.base_url} stopped on an error: {failed}",
                "its own logs say why",
            )
        return pieces

    def stream(
        self, messages: list[Message], max_tokens: int | None = None, *, language: str | None = None
    ) -> Iterator[str | Completion]:
        import httpx

        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "stream": True,
            "max_tokens": max_tokens or self.max_tokens,
            "temperature": self.temperature,
            "stream_options": {"include_usage": True},
        }
        reader = ChatStream()
        url = f"{self.base_url}/chat/completions"
        limit = max_tokens or self.max_tokens
        malformed = GeneratorUnavailable(
            f"model {self.name} at {self.base_url} sent a malformed reply",
            "check that the endpoint speaks the OpenAI chat completions API",
        )
        headers = self._headers(language)
        key = headers.get("Authorization", "").removeprefix("Bearer ") or None
        try:
            # No limit (None) is none for reading; a server out of reach is still said so soon.
            connect = min(self.timeout or CONNECT_SECONDS, CONNECT_SECONDS)
            timeout = httpx.Timeout(self.timeout, connect=connect)
            with httpx.stream("POST", url, json=body, headers=headers, timeout=timeout) as response:
                if 300 <= response.status_code < 400:
                    raise self._redirected(response)
                if response.status_code >= 400:
                    response.read()
                    if _too_long(response):
                        # The asker can act on it: the endpoint's words (its counts, its
                        # advice to the client) are for its operator's logs.
                        raise GeneratorUnavailable(
                            f"the question and its passages are too long for model {self.name}",
                            "ask a shorter question, or in fewer collections",
                        )
                    said = _said(response, key)
                    # A request refused as invalid (400, 422) is quoted back by vLLM's checks
                    # (pydantic's "input": the messages, the asker's question among them):
                    # only the error's kind is said, never its text.
                    shown = _kind(response) if response.status_code in (400, 422) else said
                    raise GeneratorUnavailable(
                        f"model {self.name} at {self.base_url} answered HTTP "
                        f"{response.status_code}{f': {shown}' if shown else ''}",
                        self._next_step(response.status_code),
                    )
                events = written = 0
                ended = False  # [DONE] came, or the reply was cut at max_tokens here
                whole: list[str] = []  # the body, while no event came: a whole JSON answer?
                size = 0
                for line in response.iter_lines():
                    if not line.startswith("data:"):
                        if not events:
                            whole.append(line)
                            size += len(line) + 1
                            if size > _WHOLE_CHARS:  # no answer is that long: a page, a file
                                raise malformed
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        ended = True
                        break
                    events += 1
                    pieces = self._take(data, reader, key, malformed)
                    yield from pieces
                    # Each text delta holds one token or more, and a token rarely more than
                    # 8 characters: past either, the endpoint ignored max_tokens, and would
                    # write on (and be counted, and billed) for as long as it liked.
                    written += sum(map(len, pieces))
                    if len(reader.parts) > limit or written > limit * CHARS_PER_TOKEN:
                        reader.finish, ended = "length", True
                        break
                if not events:
                    # No event: the endpoint sent its answer whole, as a chat.completion
                    # (stream asked for but not done, both OpenAI-compatible), or something
                    # that is no chat answer at all (a page, nothing): malformed.
                    pieces = self._take("\n".join(whole), reader, key, malformed, whole=True)
                    if sum(map(len, pieces)) > limit * CHARS_PER_TOKEN:
                        # Written past max_tokens: cut as a stream would have been.
                        reader.parts = ["".join(pieces)[: limit * CHARS_PER_TOKEN]]
                        reader.finish, pieces = "length", reader.parts
                    yield from pieces
                    ended = True
                if not (ended or reader.finished):
                    # The connection closed midway (the server or a proxy died): what came
                    # is a part, not the answer, and must not be given or cached as whole.
                    raise GeneratorUnavailable(
                        f"model {self.name} at {self.base_url} stopped before the end of its reply",
                        "its own logs say why",
                    )
        except httpx.HTTPError as exc:
            import ssl

            cause: BaseException | None = exc  # httpx's error, from httpcore's, from ssl's
            for _ in range(8):  # a chain is short; a cycle in it must not hold the request
                if cause is None or isinstance(cause, ssl.SSLCertVerificationError):
                    break
                cause = cause.__cause__ or cause.__context__
            if isinstance(cause, ssl.SSLCertVerificationError):
                # A GPU server with a certificate of the cooperative's own authority (or a
                # self-signed one) is running: "unreachable" sent the operator to check it.
                why = " ".join(str(cause.verify_message or cause.reason or "").split())
                raise GeneratorUnavailable(
                    f"model {self.name} at {self.base_url} presents a TLS certificate that is "
                    f"not trusted ({why or 'verification failed'})",
                    "give the service the certificate of the authority that signed it: "
                    "SSL_CERT_FILE=/path/to/ca.pem in its environment",
                ) from None
            if isinstance(exc, httpx.ReadTimeout):
                # It took the request and sent nothing back: busy or stuck, not out of reach.
                raise GeneratorUnavailable(
                    f"model {self.name} at {self.base_url} sent nothing for {self.timeout:g} s",
                    "it is busy or stuck: its own logs say why",
                ) from None
            raise GeneratorUnavailable(
                f"model {self.name} at {self.base_url} is unreachable ({exc.__class__.__name__})",
                f"check that the endpoint is running and models.{self.name}.base_url is right",
            ) from None
        # The model as this deployment names it (models.NAME), as /v1/models lists it and the
        # charter's catalogue judges it: the endpoint's own id (models.NAME.model) would count
        # one model under two names in the ledger and on the transparency page.
        yield reader.completion(self.name)
