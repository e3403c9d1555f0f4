"""The real `openai` client against Commune's /v1 routes, served by uvicorn on loopback."""

from __future__ import annotations

import pytest

from tests.conftest import make_key, serve
from tests.endpoints import ScriptedEndpoint


@pytest.fixture
def served(home, corpus):  # type: ignore[no-untyped-def]
    from commune.api.app import create_app
    from commune.core import Commune

    endpoint = ScriptedEndpoint("Le bac jaune reçoit les emballages [1].")
    home.mkdir(parents=True)
    (home / "commune.toml").write_text(
        f'[models.gpu]\nbackend = "openai"\nbase_url = "{endpoint.url}"\nmodel = "small"\n'
        'openness = "open-weights"\njurisdiction = "FR"\n'
    )
    commune = Commune(home)
    commune.add([corpus], collection="mairie", licence="etalab-2.0")
    secret = make_key(commune, "bob", "Ville B")
    with serve(create_app(commune)) as url:
        yield f"{url}/v1", secret
    endpoint.close()
    commune.close()


@pytest.fixture
def client(served):  # type: ignore[no-untyped-def]
    from openai import OpenAI

    url, secret = served
    with OpenAI(base_url=url, api_key=secret, max_retries=0, timeout=60) as c:
        yield c


def test_models_lists_generators_extractive_and_embedders(client):
    ids = {m.id for m in client.models.list()}
    assert {"extractive", "gpu", "use-multilingual-v3"} <= ids


def test_chat_without_streaming_returns_cited_answer(client):
    r = client.chat.completions.create(
        model="extractive",
        messages=[{"role": "user", "content": "Quand passe le camion des ordures ménagères ?"}],
        extra_body={"collection": "mairie"},
    )
    text = r.choices[0].message.content
    assert "mardi matin" in text and "[1]" in text and "\n\nSources :\n[1] " in text
    extra = r.model_extra
    assert extra["citations"][0].endswith("dechets.html")
    assert extra["commune"]["sources"][0]["licence"] == "etalab-2.0"


def test_a_question_of_a_few_words_is_answered_in_the_callers_language(client):
    # "cantine scolaire" says nothing of its language: the caller's Accept-Language decides,
    # as on /api/ask (tests/test_api.py), and the sources' heading is written in it.
    for language, heading in (("en", "\n\nSources:\n[1] "), ("fr", "\n\nSources :\n[1] ")):
        r = client.chat.completions.create(
            model="extractive",
            messages=[{"role": "user", "content": "cantine scolaire"}],
            extra_body={"collection": "mairie"},
            extra_headers={"Accept-Language": language},
        )
        assert heading in r.choices[0].message.content, (language, r.choices[0].message.content)


def test_chat_with_a_generator_and_streaming(client):
    stream = client.chat.completions.create(
        model="gpu",
        stream=True,
        messages=[
            {"role": "system", "content": "ignored"},
            {"role": "user", "content": "Où mettre les emballages en plastique ?"},
        ],
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    answer, sources = text.split("\n\nSources :\n")  # for clients that keep only the text
    assert answer == "Le bac jaune reçoit les emballages [1]." and sources.startswith("[1] ")
    last = chunks[-1].model_extra
    assert last["commune"]["mode"] == "generate" and len(last["citations"]) == 1
    assert chunks[-1].usage.completion_tokens == 20


def test_a_stream_that_fails_midway_raises_in_the_client(client, monkeypatch):
    # The stream used to stop after its deltas with no error and no [DONE]: the client read a
    # cut answer as a whole one. Now it gets OpenAI's error object, and the SDK raises.
    import openai

    from commune.account.metering import Metering

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("ledger on fire")

    monkeypatch.setattr(Metering, "record_usage", broken)  # the server runs in this process
    stream = client.chat.completions.create(
        model="extractive",
        stream=True,
        messages=[{"role": "user", "content": "Où mettre les emballages en plastique ?"}],
    )
    received = []
    with pytest.raises(openai.APIError) as failed:
        for chunk in stream:
            received.append(chunk)
    assert received and "incident" in failed.value.message
    assert "ledger on fire" not in failed.value.message


def test_a_text_part_that_is_not_text_is_refused(client):
    import openai

    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(
            model="extractive",
            messages=[{"role": "user", "content": [{"type": "text", "text": {"a": 1}}]}],
        )
    assert "doit être une chaîne" in str(refused.value)  # French by default


def test_embeddings(client):
    r = client.embeddings.create(model="use-multilingual-v3", input=["bonjour", "hello"])
    assert len(r.data) == 2 and len(r.data[0].embedding) == 512


def test_a_token_id_in_a_gap_of_cl100k_base_is_refused_not_an_incident(client):
    # cl100k_base's ids run to 100276 with gaps (100256, 100261..100275): one of them was let
    # through by the range check and tiktoken's KeyError answered 500 "erreur interne".
    import openai

    for gap in (100256, 100261, 100275):
        with pytest.raises(openai.BadRequestError, match=f"{gap}.*envoyez plutôt du texte"):
            client.embeddings.create(model="use-multilingual-v3", input=[[9906, gap]])
        with pytest.raises(openai.BadRequestError, match=f"{gap}"):
            client.completions.create(model="extractive", prompt=[9906, gap])
    kept = client.embeddings.create(model="use-multilingual-v3", input=[[9906, 100257]])
    assert len(kept.data[0].embedding) == 512  # a special token is an id of its own


def test_errors_reach_the_client(client):
    import openai

    # French by default (issue 24): the openai client sends no Accept-Language.
    with pytest.raises(openai.NotFoundError, match="aucune collection nommée 'nope'"):
        client.chat.completions.create(
            model="extractive",
            extra_body={"collection": "nope"},
            messages=[{"role": "user", "content": "x"}],
        )
    with pytest.raises(openai.BadRequestError, match="message de l.utilisateur"):
        client.chat.completions.create(
            model="extractive", messages=[{"role": "system", "content": "x"}]
        )
    # An empty model names nothing: refused, never sent to the default generator (fuzzing
    # found it answering with the local model).
    for create, ask in (
        (client.chat.completions.create, {"messages": [{"role": "user", "content": "bac"}]}),
        (client.completions.create, {"prompt": "bac"}),
    ):
        with pytest.raises(openai.BadRequestError, match="model"):
            create(model="", **ask)


def test_a_body_over_the_limit_is_refused_in_openais_shape(client):
    """The body limit answered 413 with Commune's {"detail", "code"} only: the openai client,
    which reads OpenAI's error object, had neither its code nor its message."""
    import openai

    with pytest.raises(openai.APIStatusError) as refused:
        client.chat.completions.create(
            model="extractive", messages=[{"role": "user", "content": "bac " * 300_000}]
        )
    assert refused.value.status_code == 413 and refused.value.code == "body_too_large"
    assert refused.value.body["message"].startswith("le corps de la requête dépasse 1 Mo")


def test_more_than_one_choice_is_refused_in_one_line(client):
    """n=2 was answered with one choice: a client reading the second failed far from why.
    Refused with 400, as OpenAI refuses: its 422 raised UnprocessableEntityError, which code
    catching the client's BadRequestError let through."""
    import openai

    ask = {"model": "extractive", "messages": [{"role": "user", "content": "bac jaune"}]}
    assert len(client.chat.completions.create(n=1, **ask).choices) == 1
    for create, asked in (
        (client.chat.completions.create, ask),
        (client.completions.create, {"model": "extractive", "prompt": "bac jaune"}),
    ):
        with pytest.raises(openai.BadRequestError) as refused:
            create(n=2, **asked)
        assert refused.value.status_code == 400 and refused.value.code == "invalid_request"
        assert (
            refused.value.body["message"]
            == "n\u00a0: doit être au plus 1 (l'API est décrite sur /docs)"
        )


def test_an_embedder_asked_for_an_answer_is_named_as_one(client):
    """/v1/models lists use-multilingual-v3 beside the generators; asked for an answer, it was
    refused with "add [models.use-multilingual-v3] to commune.toml"."""
    import openai

    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(
            model="use-multilingual-v3", messages=[{"role": "user", "content": "bac jaune"}]
        )
    assert refused.value.body["message"] == (
        "'use-multilingual-v3' est un modèle de plongement, pour /v1/embeddings (demandez une "
        "réponse à auto, extractive ou un modèle configuré\u00a0: GET /v1/models les liste)"
    )


def test_a_clients_default_model_is_told_what_it_may_ask(client):
    """A client's default model (gpt-3.5-turbo for LangChain's ChatOpenAI) was told "add
    [models.gpt-3.5-turbo] to commune.toml", the operator's step, to a member who cannot take
    it, naming configured models the charter never lets answer."""
    import openai
    from langchain_openai import ChatOpenAI

    url = str(client.base_url).rstrip("/")
    with pytest.raises(openai.NotFoundError) as refused:
        ChatOpenAI(base_url=url, api_key=client.api_key, max_retries=0).invoke("bac jaune")
    assert refused.value.body["message"] == (
        "modèle inconnu 'gpt-3.5-turbo' (demandez une réponse à auto, extractive ou un modèle "
        "configuré\u00a0: GET /v1/models les liste)"
    )
    for stream in (False, True):
        with pytest.raises(openai.NotFoundError) as refused:
            client.completions.create(model="gpt-4o-mini", prompt="bac jaune", stream=stream)
        assert "commune.toml" not in refused.value.body["message"]


def test_a_charter_refusal_is_in_openais_refusal_field(client, home):
    """A question the charter refuses came back as an ordinary answer (finish_reason stop, no
    refusal): only Commune's extension told a program it was refused."""
    (home / "charter.toml").write_text(
        'version = "2026-12-01"\nname = "t"\n[[utility.refuse]]\nname = "avis-medical"\n'
        'words = ["ordonnance"]\nmessage_fr = "Pas d\'avis médicaux."\n'
        'message_en = "No medical advice."\n',
        encoding="utf-8",
    )
    ask = {"model": "gpu", "messages": [{"role": "user", "content": "Une ordonnance ?"}]}
    said = client.chat.completions.create(**ask).choices[0].message
    assert said.refusal.startswith("Pas d'avis médicaux.") and said.content == said.refusal
    chunks = list(client.chat.completions.create(stream=True, **ask))
    assert chunks[-1].choices[0].delta.refusal == said.refusal
    answered = client.chat.completions.create(
        model="extractive", messages=[{"role": "user", "content": "bac jaune"}]
    )
    assert answered.choices[0].message.refusal is None


def test_the_openapi_description_says_what_v1_refuses_with(served):
    """/openapi.json declared FastAPI's 422 and Commune's {"detail", "code"} for /v1's routes,
    which answer a bad body with 400 and OpenAI's error object: a client generated from the
    description expected a status and a body never sent. Each refusal below is checked
    against what the description declares for its route and status."""
    import httpx
    import jsonschema

    url, secret = served
    root = url.removesuffix("/v1")
    spec = httpx.get(f"{root}/openapi.json").json()
    key = {"Authorization": f"Bearer {secret}"}
    ask = [{"role": "user", "content": "bac jaune"}]
    sent = [
        ("post", "/v1/chat/completions", {}),  # no model, no messages
        ("post", "/v1/chat/completions", {"model": "extractive", "messages": ask, "n": 2}),
        ("post", "/v1/chat/completions", {"model": "gpt-4o-mini", "messages": ask}),
        ("post", "/v1/completions", {"model": "extractive"}),
        ("post", "/v1/embeddings", {"model": "use-multilingual-v3", "input": 3}),
        ("get", "/v1/models/{model}", None),
    ]
    sent += [("post", "/v1/chat/completions", "no key")]
    seen = set()
    for method, path, body in sent:
        headers = {} if body == "no key" else key
        address = root + path.replace("{model}", "nope")
        r = httpx.request(method, address, json=body, headers=headers)
        declared = spec["paths"][path][method]["responses"]
        assert "422" not in declared, path
        assert str(r.status_code) in declared, (path, r.status_code, sorted(declared))
        schema = declared[str(r.status_code)]["content"]["application/json"]["schema"]
        jsonschema.validate(r.json(), {**schema, "components": spec["components"]})
        assert set(r.json()["error"]) == {"message", "type", "param", "code"}
        seen.add(r.status_code)
    assert seen == {400, 401, 404}
    # The field at fault, as OpenAI names it.
    r = httpx.post(f"{url}/chat/completions", headers=key, json={"model": "x", "messages": [{}]})
    assert r.json()["error"]["param"] == "messages[0].role"


def test_a_route_with_a_trailing_slash_is_served_not_redirected(served):
    """POST /v1/chat/completions/ answered 307 to the address without the slash: a client
    that does not follow a POST's redirect (urllib, httpx and curl by default) got no answer,
    one that turns it into a GET lost the question."""
    import httpx

    url, secret = served
    key = {"Authorization": f"Bearer {secret}"}
    ask = {"model": "extractive", "messages": [{"role": "user", "content": "bac jaune"}]}
    with httpx.Client(headers=key, follow_redirects=False, timeout=60) as http:
        chat = http.post(f"{url}/chat/completions/", json=ask)
        assert chat.status_code == 200 and chat.json()["object"] == "chat.completion"
        text = http.post(f"{url}/completions/", json={"model": "extractive", "prompt": "bac"})
        assert text.status_code == 200 and text.json()["object"] == "text_completion"
        embedded = http.post(
            f"{url}/embeddings/", json={"model": "use-multilingual-v3", "input": "bac"}
        )
        assert embedded.status_code == 200 and len(embedded.json()["data"]) == 1
        assert http.get(f"{url}/models/extractive/").json()["id"] == "extractive"
        assert http.get(f"{url}/models/").json()["object"] == "list"
        # A wrong address stays a 404 in OpenAI's shape, not a redirect.
        wrong = http.post(f"{url}/chat/complete/", json=ask)
        assert wrong.status_code == 404 and wrong.json()["error"]["code"] == "not_found"
    # The address with a slash is the route's own: it takes the key the route takes.
    for method, address in (("post", "/chat/completions/"), ("get", "/models/")):
        refused = httpx.request(method, f"{url}{address}", json=ask, follow_redirects=False)
        assert refused.status_code == 401, address
    # Two slashes are the same address, not a redirect to the one with one slash.
    with httpx.Client(headers=key, follow_redirects=False, timeout=60) as http:
        chat = http.post(f"{url}/chat/completions//", json=ask)
        assert chat.status_code == 200 and chat.json()["object"] == "chat.completion"
    # Commune's own /api/ is called by the same programs: served there too, with its key.
    root = url.removesuffix("/v1")
    asked = httpx.post(f"{root}/api/ask/", headers=key, json={"question": "bac"}, timeout=60)
    assert asked.status_code == 200 and asked.json()["found"], asked.text
    keyless = httpx.post(f"{root}/api/ask/", json={"question": "bac"})
    assert keyless.status_code == 401
    # The web's pages keep the router's redirect: a browser follows it.
    page = httpx.get(f"{root}/commons/", follow_redirects=False)
    assert page.status_code == 307 and page.headers["location"].endswith("/commons")


def test_a_conflict_is_typed_as_one_and_the_client_retries_it(served, monkeypatch):
    """Two writers meeting on one name (409, "retry": nothing was written) were typed
    invalid_request_error under /v1, which tells a program to change its request. Now
    conflict_error: the openai client raises ConflictError, and, left its retries, sends the
    request again and gets its answer."""
    import sqlite3

    import openai
    from openai import OpenAI
    from sqlalchemy.exc import IntegrityError

    from commune.core import Commune

    ask = Commune.ask
    met = []

    def once_taken(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if not met:  # the first request meets another writer; the next goes through
            met.append(True)
            cause = sqlite3.IntegrityError("UNIQUE constraint failed: ledger.id")
            raise IntegrityError("INSERT INTO ledger", {}, cause)
        return ask(self, *args, **kwargs)

    monkeypatch.setattr(Commune, "ask", once_taken)  # the server runs in this process
    url, secret = served
    question = {"model": "extractive", "messages": [{"role": "user", "content": "bac jaune"}]}
    with OpenAI(base_url=url, api_key=secret, max_retries=0, timeout=60) as once:
        with pytest.raises(openai.ConflictError) as refused:
            once.chat.completions.create(**question)
    assert refused.value.status_code == 409 and refused.value.type == "conflict_error"
    assert refused.value.code == "conflict" and "INSERT" not in str(refused.value.body)
    assert refused.value.body["message"].startswith("une autre requête a écrit la même chose")
    met.clear()
    with OpenAI(base_url=url, api_key=secret, max_retries=1, timeout=60) as retrying:
        answered = retrying.chat.completions.create(**question)
    assert "bac jaune" in answered.choices[0].message.content


def test_a_busy_server_is_typed_as_the_servers_state():
    """Past [limits] max_concurrent_requests, /v1 answered 503 typed invalid_request_error,
    the request's fault; now server_error, which the openai client raises as
    InternalServerError (and retries)."""
    import openai
    from openai import OpenAI

    from commune.api.middleware import OverloadGuard

    async def never(scope, receive, send):  # type: ignore[no-untyped-def]
        raise AssertionError("a busy server answers nothing")

    with serve(OverloadGuard(never, limit=0)) as url:
        with OpenAI(base_url=f"{url}/v1", api_key="k", max_retries=0, timeout=60) as busy:
            with pytest.raises(openai.InternalServerError) as refused:
                busy.chat.completions.create(
                    model="extractive", messages=[{"role": "user", "content": "bac"}]
                )
    assert refused.value.status_code == 503 and refused.value.type == "server_error"
    assert refused.value.code == "busy"


def test_a_refusal_names_the_field_at_fault_in_error_param(client):
    """docs/api.md: `param` is the request's field at fault. A response_format, dimensions,
    an empty input, token ids out of the table, several prompts, or messages with no user
    text were refused with param null, so a client that shows error.param showed nothing."""
    import openai

    ask = [{"role": "user", "content": "bac"}]
    for call, field in (
        (
            lambda: client.chat.completions.create(
                model="extractive", messages=ask, response_format={"type": "json_object"}
            ),
            "response_format",
        ),
        (
            lambda: client.chat.completions.create(
                model="extractive", messages=[{"role": "system", "content": "x"}]
            ),
            "messages",
        ),
        (lambda: client.completions.create(model="extractive", prompt=["a", "b"]), "prompt"),
        (lambda: client.completions.create(model="extractive", prompt=" "), "prompt"),
        (lambda: client.completions.create(model="extractive", prompt=[10**9]), "prompt"),
        (
            lambda: client.embeddings.create(
                model="use-multilingual-v3", input="x", dimensions=256
            ),
            "dimensions",
        ),
        (lambda: client.embeddings.create(model="use-multilingual-v3", input=[""]), "input"),
        (lambda: client.embeddings.create(model="use-multilingual-v3", input=["x"] * 65), "input"),
        (lambda: client.embeddings.create(model="use-multilingual-v3", input=[[10**9]]), "input"),
    ):
        with pytest.raises(openai.BadRequestError) as refused:
            call()
        assert refused.value.param == field, (field, refused.value.body)


def test_a_server_busy_with_one_request_says_one_request():
    """An operator of a small machine sets [limits] max_concurrent_requests = 1: the refusal
    read "le serveur traite déjà 1 requêtes" ("answering 1 requests already")."""
    import openai
    from openai import OpenAI

    from commune.api.middleware import OverloadGuard

    async def never(scope, receive, send):  # type: ignore[no-untyped-def]
        raise AssertionError("a busy server answers nothing")

    for limit, fr, en in (
        (1, "traite déjà 1 requête\u00a0: réessayez", "answering 1 request already: retry"),
        (8, "traite déjà 8 requêtes\u00a0: réessayez", "answering 8 requests already: retry"),
    ):
        guard = OverloadGuard(never, limit=limit)
        guard.in_flight = limit  # as many requests as it takes are being answered
        with serve(guard) as url:
            with OpenAI(base_url=f"{url}/v1", api_key="k", max_retries=0, timeout=60) as busy:
                for language, said in (("fr", fr), ("en", en)):
                    with pytest.raises(openai.InternalServerError) as refused:
                        busy.chat.completions.create(
                            model="extractive",
                            messages=[{"role": "user", "content": "bac"}],
                            extra_headers={"Accept-Language": language},
                        )
                    assert said in refused.value.body["message"], refused.value.body


FINES = """# Contester une amende

Le délai pour contester une amende forfaitaire est de 45 jours à compter de l'envoi de l'avis \
de contravention.
La contestation se fait en ligne sur le site de l'ANTAI, ou par courrier recommandé.

## Forfait post-stationnement

Pour un stationnement impayé, le forfait post-stationnement se conteste dans un délai d'un \
mois par un recours administratif préalable obligatoire auprès de la mairie.
"""
PARKING = """# Le stationnement en ville

Le stationnement est gratuit le dimanche et les jours fériés.
Dans les zones bleues, le stationnement est limité à une heure trente avec un disque.
Les résidents peuvent demander une carte de stationnement à l'accueil de la mairie.
"""


def test_a_follow_up_in_a_chat_is_searched_with_the_question_it_follows(home, tmp_path):
    """A clerk asked "Quel est le délai pour contester une amende ?", then "Et pour un
    stationnement ?": the follow-up was searched alone, and answered with the parking fees.
    Now it is searched after the question it follows; one message, or one that stands
    alone, is read as it was sent."""
    from openai import OpenAI

    from commune.api.app import create_app
    from commune.core import Commune

    docs = tmp_path / "mairie"
    docs.mkdir()
    (docs / "amendes.md").write_text(FINES, encoding="utf-8")
    (docs / "stationnement.md").write_text(PARKING, encoding="utf-8")
    fine, parking = "Quel est le délai pour contester une amende ?", "Et pour un stationnement ?"
    with Commune(home) as commune:
        commune.add([docs], collection="mairie", licence="etalab-2.0")
        asked: list[str] = []
        ask = commune.ask

        def heard(question, **kwargs):  # type: ignore[no-untyped-def]
            asked.append(question)
            return ask(question, **kwargs)

        commune.ask = heard  # type: ignore[method-assign]
        secret = make_key(commune, "clerc", "Ville C")
        with serve(create_app(commune)) as url:
            with OpenAI(base_url=f"{url}/v1", api_key=secret, max_retries=0) as client:

                def first_sentence(*turns: str) -> str:
                    messages = [
                        {"role": "user" if i % 2 == 0 else "assistant", "content": t}
                        for i, t in enumerate(turns)
                    ]
                    r = client.chat.completions.create(model="extractive", messages=messages)
                    return r.choices[0].message.content.split(". ")[0]

                alone = first_sentence(parking)
                followed = first_sentence(fine, "Le délai est de 45 jours [1].", parking)
                first_sentence(fine, "Le délai est de 45 jours [1].", "Piscine ?")
                # In another language: alone, to be answered in its own (not in French).
                first_sentence(fine, "45 jours [1].", "And what about parking?")
                # The same conversation written out as one prompt (LlamaIndex's OpenAILike).
                written = f"user: {fine}\nassistant: 45 jours.\nuser: {parking}\nassistant: "
                client.completions.create(model="extractive", prompt=written)
    assert "zones bleues" in alone or "gratuit" in alone  # the parking fees, not the delay
    assert "délai d'un mois" in followed
    joined = f"{fine} {parking}"
    assert asked == [parking, joined, "Piscine ?", "And what about parking?", joined]


def test_a_stream_cut_by_a_conflict_is_typed_as_one(client, monkeypatch):
    """A stream whose ledger row met another writer after its 200 ended with an error typed
    server_error, where the same failure before the 200 is a conflict_error (409)."""
    import sqlite3

    import openai
    from sqlalchemy.exc import IntegrityError

    from commune.account.metering import Metering

    def taken(*args, **kwargs):  # type: ignore[no-untyped-def]
        cause = sqlite3.IntegrityError("UNIQUE constraint failed: ledger.id")
        raise IntegrityError("INSERT INTO ledger", {}, cause)

    monkeypatch.setattr(Metering, "record_usage", taken)  # the server runs in this process
    stream = client.chat.completions.create(
        model="extractive", stream=True, messages=[{"role": "user", "content": "bac jaune"}]
    )
    with pytest.raises(openai.APIError) as failed:
        list(stream)
    assert not isinstance(failed.value, openai.APIStatusError)  # after the 200, in the stream
    assert failed.value.type == "conflict_error" and failed.value.code == "conflict"
    assert failed.value.body == {
        "message": failed.value.message,
        "type": "conflict_error",
        "param": None,
        "code": "conflict",
    }
    assert failed.value.message.startswith("une autre requête a écrit la même chose")


def test_a_written_out_conversation_with_no_question_is_refused(client):
    """A text completion's prompt written out as a conversation (LlamaIndex's OpenAILike) whose
    last user turn is empty, or that has none, was searched whole: the system message was the
    question ("bac jaune" found, in the instructions). A chat with no user text is refused;
    so is this, with the same words."""
    import openai

    system = "system: Tu es l'assistant de la mairie ; le bac jaune est pour les emballages.\n"
    for prompt in (f"{system}user: \nassistant: ", f"{system}assistant: "):
        with pytest.raises(openai.BadRequestError) as refused:
            client.completions.create(model="extractive", prompt=prompt)
        assert refused.value.code == "invalid_request", prompt
        assert "prompt" in refused.value.body["message"]


def test_a_long_model_name_is_quoted_cut_as_a_collection_s_is(client, served):
    """A collection's name in a refusal is cut after 60 characters, "…"; a model's was quoted
    whole, twice (detail and error.message): 200,000 characters sent, 400 KB came back."""
    import openai

    name = "é" * 200_000
    for call in (
        lambda: client.chat.completions.create(
            model=name, messages=[{"role": "user", "content": "bac"}]
        ),
        lambda: client.completions.create(model=name, prompt="bac"),
        lambda: client.embeddings.create(model=name, input="bac"),
        lambda: client.models.retrieve(name[:5000]),
    ):
        with pytest.raises(openai.NotFoundError) as refused:
            call()
        said = refused.value.body["message"]
        assert "é" * 60 + "…'" in said and len(said) < 400, len(said)
    import httpx

    url, secret = served
    asked = httpx.post(  # /api/ask's generated answer: the library's registry says it
        url.removesuffix("/v1") + "/api/ask",
        json={"question": "bac", "mode": "generate", "model": name},
        headers={"Authorization": f"Bearer {secret}"},
        timeout=60,
    )
    said = asked.json()["detail"]
    assert asked.status_code == 404 and "é" * 60 + "…'" in said and len(said) < 400, len(said)


def test_a_long_wrong_value_is_echoed_cut_in_the_detail(client, served):
    """pydantic's detail echoes the input it refused: a role of 300,000 characters came back
    whole, 300 KB, on /v1 as on /api; each string is cut as a refusal quotes a value."""
    import httpx
    import openai

    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(
            model="extractive", messages=[{"role": "x" * 300_000, "content": "bac"}]
        )
    [wrong] = refused.value.response.json()["detail"]
    assert wrong["input"] == "x" * 60 + "…" and len(refused.value.response.content) < 2000
    url, secret = served
    asked = httpx.post(
        url.removesuffix("/v1") + "/api/ask",
        json={"question": ["bac"] * 20_000},
        headers={"Authorization": f"Bearer {secret}"},
        timeout=60,
    )
    assert asked.status_code == 422 and len(asked.content) < 2000, len(asked.content)
    assert asked.json()["detail"][0]["input"] == ["bac"] * 20
    # An object is cut as a list is, and its keys as strings are.
    for question, echoed in (
        ({f"k{i}": 1 for i in range(20_000)}, {f"k{i}": 1 for i in range(20)}),
        ({"x" * 100_000: "y" * 100_000}, {"x" * 60 + "…": "y" * 60 + "…"}),
    ):
        asked = httpx.post(
            url.removesuffix("/v1") + "/api/ask",
            json={"question": question},
            headers={"Authorization": f"Bearer {secret}"},
            timeout=60,
        )
        assert asked.status_code == 422 and len(asked.content) < 2000, len(asked.content)
        assert asked.json()["detail"][0]["input"] == echoed
    # Lists within lists, 500 levels: the echo's encoding recursed past Python's limit, 500.
    asked = httpx.post(
        url.removesuffix("/v1") + "/api/ask",
        content=b'{"question": ' + b"[" * 500 + b"]" * 500 + b"}",
        headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
        timeout=60,
    )
    assert asked.status_code == 422, asked.text
    deep = asked.json()["detail"][0]["input"]
    for _ in range(10):
        [deep] = deep
    assert deep == "…"


def test_the_description_names_every_key_of_a_streams_error_event(served, monkeypatch):
    """/openapi.json said a /v1 stream that fails after its 200 ends with data: {"error":
    {"message", "type", "code"}}; the event carries OpenAI's whole error object, "param"
    too (null). The description names each key the event carries, for both completions."""
    import json

    import httpx2

    from commune.account.metering import Metering

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("ledger on fire")

    url, secret = served
    base = url.removesuffix("/v1")
    spec = httpx2.get(f"{base}/openapi.json").json()
    monkeypatch.setattr(Metering, "record_usage", broken)  # the server runs in this process
    question = "Où mettre les emballages en plastique ?"
    for path, body in (
        ("/chat/completions", {"messages": [{"role": "user", "content": question}]}),
        ("/completions", {"prompt": question}),
    ):
        r = httpx2.post(
            f"{url}{path}",
            json={"model": "extractive", "stream": True, **body},
            headers={"Authorization": f"Bearer {secret}"},
            timeout=60,
        )
        events = [line.removeprefix("data: ") for line in r.text.splitlines() if line]
        assert events[-1] == "[DONE]", events[-3:]
        error = json.loads(events[-2])["error"]
        ok = spec["paths"][f"/v1{path}"]["post"]["responses"]["200"]["content"]
        said = ok["text/event-stream"]["schema"]["description"]
        named = said.partition('{"error": {')[2].partition("}}")[0]
        assert {k.strip(' "') for k in named.split(",")} == set(error), (path, said, error)


@pytest.mark.parametrize(
    ("model", "question", "answered"),
    [
        ("auto", "Où mettre les emballages en plastique ?", "extractive"),
        ("auto", "Où mettre les emballages en plastique ?", "gpu"),  # the charter chooses it
        ("gpu", "Où mettre les emballages en plastique ?", "gpu"),
        # The scripted reply is about packaging: for the pool it fails the citation checks,
        # and extraction answers in the model's place.
        ("gpu", "When is the pool open for adults?", "extractive"),
    ],
)
def test_every_chunk_of_a_stream_names_the_model_that_answers(
    client, monkeypatch, model, question, answered
):
    """The first chunks named the model asked for ("auto", or the model that then failed)
    and the last ones the model that answered: an OpenAI client keeps one model for a stream
    (the SDK's stream helpers, the first chunk's). Each chunk now names the one that answers,
    as the response without streaming does."""
    from commune.charter.scores import Scoreboard

    if model == "auto" and answered == "gpu":  # evaluated over the floor, gpu alone
        scored = {("mairie", "generate", "gpu"): {"correct": 1.0}}
        monkeypatch.setattr(Scoreboard, "latest", lambda self: scored)  # the server's, here
    messages = [{"role": "user", "content": question}]
    chunks = list(client.chat.completions.create(model=model, stream=True, messages=messages))
    whole = client.chat.completions.with_raw_response.create(model=model, messages=messages)
    assert [c.model for c in chunks] == [answered] * len(chunks)
    assert whole.parse().model == whole.headers["X-Commune-Model"] == answered
    assert chunks[-1].model_extra["commune"]["mode"] == whole.parse().model_extra["commune"]["mode"]
