"""Refusals on the web pages said to the person in their chosen language and words: a body
too large, a crafted curation decision, a new collection's name; the transparency page's
commands kept for those who run the host."""

from __future__ import annotations

import re

from tests.conftest import make_person
from tests.test_web import app, browser  # noqa: F401 -- the fixture


def test_a_crafted_curation_decision_is_refused_in_french_words(app, commune):  # noqa: F811
    commune.set_curation_rules("mairie", 1, "curator")
    make_person(commune, "dora", "Ville A", "contributor")
    make_person(commune, "cyril", "Ville A", "curator")
    dora = browser(app, "dora")
    dora.get("/contribute")
    text = "La piscine ouvre le mardi à dix heures du matin, toute l'année."
    dora.post(
        "/contribute",
        {"collection": "mairie", "licence": "CC-BY-4.0"},
        files=[("files", ("b.txt", text.encode(), "text/plain"))],
    )
    cyril = browser(app, "cyril")
    rid = int(re.search(r'href="/curation/(\d+)"', cyril.get("/curation").page).group(1))
    cyril.get(f"/curation/{rid}")
    r = cyril.post(f"/curation/{rid}", {"decision": "zzz", "reason": "vu"})
    assert r.status_code == 400
    assert "Choisissez l'une des décisions\u00a0: Approuver, Demander des modifications" in r.page
    assert "approve" not in r.page.split('id="decision-error"')[1].split("</p>")[0]
    assert "zzz" not in r.page
    assert "changes-requested" not in cyril.get("/curation").page  # nothing decided


def test_the_transparency_page_tells_the_calibration_command_to_admins_only(app, commune):  # noqa: F811
    reader = browser(app).get("/transparency").page
    assert "non étalonné" in reader
    assert "model calibrate" not in reader and "`" not in reader
    carol = browser(app, "carol").get("/transparency").page
    assert "model calibrate" not in carol
    admin = browser(app, "alice").get("/transparency").page
    assert "lancez `commune model calibrate smollm2`" in admin


def test_a_new_collection_name_of_paths_or_markup_is_refused(app, commune):  # noqa: F811
    make_person(commune, "dora", "Ville A", "contributor")
    dora = browser(app, "dora")
    dora.get("/contribute")
    text = "La médiathèque ouvre le lundi à neuf heures, et le samedi matin."
    files = [("files", ("a.txt", text.encode(), "text/plain"))]
    r = dora.post(
        "/contribute", {"collection": "mairie/../x <b>", "licence": "CC-BY-4.0"}, files=files
    )
    assert r.status_code == 400
    assert (
        "Le nom d'une nouvelle collection ne contient que des lettres, des chiffres, des "
        "espaces et - _ . , ' ( ), pas '/'"
    ) in r.page
    assert "mairie/../x" not in {c["name"] for c in commune.collections()}
    dora.get("/contribute")
    r = dora.post(
        "/contribute", {"collection": "l'école 2026", "licence": "CC-BY-4.0"}, files=files
    )
    assert r.status_code == 200 and "l'école 2026" in {c["name"] for c in commune.collections()}


def test_a_body_too_large_on_a_page_is_said_in_the_chosen_language_without_the_setting(home):
    from commune.api.app import create_app
    from commune.core import Commune

    home.mkdir(parents=True)
    (home / "commune.toml").write_text(
        "[limits]\nmax_file_mb = 1.0\nmax_upload_mb = 1.0\n", encoding="utf-8"
    )
    with Commune(home) as c:
        make_person(c, "dora", "Ville A", "contributor")
        dora = browser(create_app(c), "dora")
        dora.get("/contribute")
        big = [("files", ("big.txt", b"a" * (2 * 1024 * 1024), "text/plain"))]
        for extra in ({"Accept": "text/html"}, {"X-Fragment": "1"}):
            r = dora.post(
                "/contribute",
                {"collection": "mairie"},
                files=big,
                headers={"Accept-Language": "en", "Cookie": "commune_lang=fr", **extra},
            )
            assert r.status_code == 413
            assert "Ce que vous avez envoyé dépasse 1 Mo" in r.page, r.page
            assert "max_upload_mb" not in r.page and "[limits]" not in r.page
        r = dora.post(
            "/contribute",
            {"collection": "mairie"},
            files=big,
            headers={"Accept-Language": "fr", "Cookie": "commune_lang=en"},
        )
        assert "What you sent is larger than 1 MB" in r.page
        # A question too long for [limits] max_body_kb: a shorter text, not fewer files.
        dora.get("/")
        r = dora.post("/ask", {"question": "é" * 700_000}, headers={"Cookie": "commune_lang=fr"})
        assert r.status_code == 413 and "envoyez un texte plus court" in r.page, r.page
        assert "max_body_kb" not in r.page
        # The API keeps its setting, for the operator's client.
        r = dora.client.post("/api/documents", files=big)
        assert r.status_code == 413 and "max_upload_mb" in r.json()["detail"]


def test_a_body_too_large_sent_without_script_fits_a_phone_and_leads_back_to_its_form(home):
    """Found in Chromium at 360 px with JavaScript off: a contributor sending files over
    [limits] max_upload_mb got a page without the viewport's width (drawn 980 px wide, its
    text tiny), unstyled, whose one link led to the question box, not back to the form."""
    from commune.api.app import create_app
    from commune.core import Commune

    home.mkdir(parents=True)
    (home / "commune.toml").write_text(
        "[limits]\nmax_file_mb = 1.0\nmax_upload_mb = 1.0\n", encoding="utf-8"
    )
    with Commune(home) as c:
        make_person(c, "dora", "Ville A", "contributor")
        dora = browser(create_app(c), "dora")
        dora.get("/contribute")
        big = [("files", ("big.txt", b"a" * (2 * 1024 * 1024), "text/plain"))]
        headers = {"Accept": "text/html", "Cookie": "commune_lang=fr"}
        r = dora.post("/contribute", {"collection": "mairie"}, files=big, headers=headers)
        assert r.status_code == 413
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in r.text
        assert '<link rel="stylesheet" href="/static/commune.css">' in r.text
        assert "<h1>Requête refusée</h1>" in r.page
        assert '<a href="/contribute">Ouvrir le formulaire vide</a>' in r.page, r.page
        # What the form held is in the browser: the page says how to get it back.
        kept = "Votre navigateur a gardé ce que vous avez rempli\u00a0: revenez au formulaire avec"
        assert kept in r.page, r.page
        # A question's form has no page of its own address: back to the question box.
        dora.get("/")
        r = dora.post(
            "/ask",
            {"question": "é" * 700_000},
            headers={"Accept": "text/html", "Cookie": "commune_lang=en"},
        )
        assert r.status_code == 413 and '<html lang="en">' in r.text
        assert '<a href="/">Open the form empty</a>' in r.page, r.page
        # A question is not kept by the browser (its box's autocomplete is off): said so.
        assert "if its box is empty, type it again" in r.page, r.page
        assert "Your browser has kept what you filled in" not in r.page
        # The way back is the address sent, written as text: never markup of its own.
        r = dora.client.post(
            '/static/"><b>x', content=b"a" * (2 * 1024 * 1024), headers={"Accept": "text/html"}
        )
        assert r.status_code == 413 and "<b>" not in r.text and "&lt;b&gt;" in r.text


def test_a_question_or_a_search_refused_as_busy_says_what_was_kept_of_it(app):  # noqa: F811
    """Without script, every page the overload guard refuses said "Your browser has kept what
    you filled in: go back to the form with its Back button and send it from there". Not so
    a question: its box's autocomplete is off (ask.html), so that the next person at a shared
    computer does not find it, and Chromium gave it back only from its back-forward cache
    (test_browser): whoever went back found an empty box under a page saying it was kept. A
    search is a GET whose address holds it, often reached by a link: nothing was filled in.
    A contribution's form is kept, and says so."""
    from tests.test_load import _guard

    alice = browser(app, "alice")
    alice.get("/")
    guard = _guard(app)
    guard.in_flight = guard.limit  # every slot taken by answers in flight
    try:
        fr = {"Accept": "text/html", "Cookie": "commune_lang=fr"}
        r = alice.post("/ask", {"question": "Quand passe le camion ?"}, headers=fr)
        assert r.status_code == 503 and "Le serveur est occupé" in r.page, r.page
        assert "Votre navigateur a gardé" not in r.page, r.page
        assert (
            "Revenez à la question avec le bouton Retour (←) de votre navigateur et envoyez-la "
            "de nouveau\u00a0; si sa case est vide, tapez-la de nouveau (une question n'est pas "
            "gardée pour qui utilise le navigateur après vous)."
        ) in r.page, r.page
        r = alice.get("/commons?q=verre", headers={"Accept": "text/html"})
        assert r.status_code == 503 and "Votre navigateur a gardé" not in r.page, r.page
        said = "L'adresse de cette page garde votre recherche\u00a0: rechargez-la dans un instant."
        assert said in r.page, r.page
        r = alice.get(
            "/commons?q=verre", headers={"Accept": "text/html", "Cookie": "commune_lang=en"}
        )
        assert "This page's address holds your search: reload it in a moment." in r.page
        r = alice.post("/contribute", {"publisher": "Mairie"}, headers=fr)
        assert r.status_code == 503, r.page
        assert "Votre navigateur a gardé ce que vous avez rempli\u00a0: revenez" in r.page
    finally:
        guard.in_flight = 0


def test_a_limit_of_a_fraction_of_a_megabyte_is_written_with_a_french_comma(home):
    """Found on the contribute page with [limits] of 0.5 and 1.5 MB: a French page said
    « au-delà de la limite de 0.5 Mo » and « dépasse 1.5 Mo », an English decimal point in a
    French sentence (the CLI's French already said « 0,5 Mo »)."""
    from commune.api.app import create_app
    from commune.core import Commune

    home.mkdir(parents=True)
    (home / "commune.toml").write_text(
        "[limits]\nmax_file_mb = 0.5\nmax_upload_mb = 1.5\n", encoding="utf-8"
    )
    with Commune(home) as c:
        make_person(c, "dora", "Ville A", "contributor")
        dora = browser(create_app(c), "dora")
        dora.get("/contribute")
        fr = {"Accept-Language": "fr"}
        wide = [("files", ("large.txt", b"mot " * 200_000, "text/plain"))]
        r = dora.post("/contribute", {"collection": "mairie"}, files=wide, headers=fr)
        assert "non ajouté — au-delà de la limite de 0,5 Mo" in r.page, r.page
        big = [("files", ("big.txt", b"a" * (2 * 1024 * 1024), "text/plain"))]
        r = dora.post("/contribute", {"collection": "mairie"}, files=big, headers=fr)
        assert r.status_code == 413 and "Ce que vous avez envoyé dépasse 1,5 Mo" in r.page, r.page


def test_a_limit_of_a_fraction_of_a_megabyte_is_said_in_few_figures(home):
    """Found on the contribute page with [limits] max_upload_mb = 0.02: files too large were
    told « dépasse 20,4795 Ko », four decimals of a KB no one sets or reads; the API said
    "20.4795 KB" to the operator. Three figures, rounded down: still true of what was sent."""
    from commune.api.app import create_app
    from commune.core import Commune

    home.mkdir(parents=True)
    (home / "commune.toml").write_text(
        "[limits]\nmax_file_mb = 0.02\nmax_upload_mb = 0.02\n", encoding="utf-8"
    )
    with Commune(home) as c:
        make_person(c, "dora", "Ville A", "contributor")
        dora = browser(create_app(c), "dora")
        dora.get("/contribute")
        big = [("files", ("big.txt", b"mot " * 10_000, "text/plain"))]
        headers = {"Accept": "text/html", "Cookie": "commune_lang=fr"}
        r = dora.post("/contribute", {"collection": "mairie"}, files=big, headers=headers)
        assert r.status_code == 413
        assert "Ce que vous avez envoyé dépasse 20,4 Ko, le maximum" in r.page, r.page
        r = dora.client.post("/api/documents", files=big, headers={"Accept-Language": "en"})
        assert r.status_code == 413
        assert r.json()["detail"].startswith("the request body is larger than 20.4 KB ([limits]")


def test_a_body_too_large_is_said_as_a_sentence_with_its_stop(home):
    """Found in Chromium at 360 px, files too large sent without script: the page's one
    sentence had no final stop (« … ou en plusieurs fois »), nor had the script's, and the
    English asked to send them "in several times"."""
    from commune.api.app import create_app
    from commune.core import Commune

    home.mkdir(parents=True)
    (home / "commune.toml").write_text(
        "[limits]\nmax_file_mb = 1.0\nmax_upload_mb = 1.0\n", encoding="utf-8"
    )
    with Commune(home) as c:
        make_person(c, "dora", "Ville A", "contributor")
        dora = browser(create_app(c), "dora")
        dora.get("/contribute")
        big = [("files", ("big.txt", b"a" * (2 * 1024 * 1024), "text/plain"))]
        for extra in ({"Accept": "text/html"}, {"X-Fragment": "1"}):
            fr = {"Cookie": "commune_lang=fr", **extra}
            r = dora.post("/contribute", {"collection": "mairie"}, files=big, headers=fr)
            assert r.status_code == 413
            assert "ou de plus petits, ou en plusieurs fois.</p>" in r.page, r.page
            en = {"Cookie": "commune_lang=en", **extra}
            r = dora.post("/contribute", {"collection": "mairie"}, files=big, headers=en)
            assert "send fewer or smaller files, or a few at a time.</p>" in r.page, r.page
        dora.get("/")
        r = dora.post("/ask", {"question": "é" * 700_000}, headers={"Accept": "text/html"})
        assert r.status_code == 413 and "envoyez un texte plus court.</p>" in r.page, r.page


def test_a_form_too_large_leads_back_to_the_page_it_is_on(home):
    """Found with [limits] max_body_kb = 16: an administration form sent too large (a list
    of names pasted in a field) led "Back to the form" to the question box, as did a
    document's retiring or a password's change: only a form sent to its own page's address
    (/contribute, /curation/3) found its way back. The nearest page above the address now."""
    from commune.api.app import create_app
    from commune.core import Commune

    home.mkdir(parents=True)
    (home / "commune.toml").write_text("[limits]\nmax_body_kb = 16\n", encoding="utf-8")
    with Commune(home) as c:
        make_person(c, "alice", "Ville A", "cooperative-admin")
        alice = browser(create_app(c), "alice")
        alice.get("/admin")
        long = {"user": "x" * 20_000, "member": "Ville A", "role": "reader"}
        headers = {"Accept": "text/html", "Cookie": "commune_lang=en"}
        for sent, back in (
            ("/admin/users", "/admin"),
            ("/admin/users/caps", "/admin"),
            ("/account/password", "/account"),
            ("/documents/7/retire", "/documents/7"),
            ("/ask", "/"),
            # Another site's address, which "//" (and "/\\", to a browser) would open.
            ("//example.org/admin", "/"),
            ("/\\example.org/admin", "/"),
        ):
            r = alice.client.post(f"https://testserver{sent}", data=long, headers=headers)
            assert r.status_code == 413, (sent, r.status_code)
            assert f'<a href="{back}">Open the form empty</a>' in r.text, (sent, r.text)


def test_a_sign_in_over_plain_http_from_another_machine_says_why_it_cannot_work(app):  # noqa: F811
    """`commune serve --host 0.0.0.0` opened by its address over plain HTTP: the browser keeps
    none of the Secure cookies, so every form came back without its CSRF cookie, and the
    sign-in said "this form has expired, reload the page and send it again", a loop with no
    way out. Now it says the address is plain HTTP and what to do; nothing is done."""
    from fastapi.testclient import TestClient

    plain = TestClient(app, base_url="http://192.0.2.2:8000", follow_redirects=False)
    page = plain.get("/signin").text
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    plain.cookies.clear()  # as a browser does with a Secure cookie over plain HTTP
    r = plain.post("/signin", data={"csrf": token, "user": "alice", "password": "x", "next": "/"})
    assert r.status_code == 403
    said = "Votre navigateur n&#39;a pas gardé les cookies de ce site\u00a0: cette adresse est en "
    assert said in r.text, r.text
    assert "HTTP en clair" in r.text and "Ouvrez cette adresse en https://" in r.text, r.text
    assert "a expiré" not in r.text
    # Over HTTPS, a form without its cookie is the usual refusal.
    https = TestClient(app, base_url="https://commune.example.org", follow_redirects=False)
    https.get("/signin")
    https.cookies.clear()
    r = https.post("/signin", data={"csrf": token, "user": "alice", "password": "x", "next": "/"})
    assert r.status_code == 403 and "a expiré" in r.text


def test_a_key_revoked_twice_is_said_on_its_page_not_as_an_address_not_found(app, commune):  # noqa: F811
    """An admin who clicked « Révoquer » twice (or after another admin had) got a page apart,
    « Introuvable : Aucune clé active d'identifiant 2 (vérifiez l'adresse, ou repartez de la
    page Communs) »: an id the page never shows, an address she never typed, and the keys'
    table out of reach. The page of the keys comes back, saying the key is no longer active."""
    make_person(commune, "sandrine", "Ville A", "member-admin")
    make_person(commune, "marc", "Ville A", "contributor")
    kid, _ = commune.admin.create_key("marc", label="accueil")
    sandrine = browser(app, "sandrine")
    for back, page in (("admin", "/admin"), ("account", "/account")):
        sandrine.get(page)
        first = sandrine.post(f"/keys/{kid}/revoke", {"back": back})
        assert first.status_code == 303
        sandrine.get(page)  # a second tab, still showing the button
        r = sandrine.post(f"/keys/{kid}/revoke", {"back": back})
        assert r.status_code == 404
        said = r.page.split('id="revoke-error">')[1].split("</p>")[0]
        assert said == (
            "Cette clé n'est plus active\u00a0: elle a déjà été révoquée (le tableau des clés "
            "donne l'état de chacune)."
        ), said
        assert "Communs" not in said and "adresse" not in said
        assert "Clés d'API" in r.page  # the keys' table is there
        if back == "account":
            assert "Changer votre mot de passe" in r.page
        kid, _ = commune.admin.create_key("sandrine", label="test")


def test_a_key_not_ones_to_revoke_is_not_said_revoked_already(app, commune):  # noqa: F811
    """A revoke form sent for another member's key, or for a number no key has, read « elle
    a déjà été révoquée »: untrue of a key still active, and of one that never was. It is
    said to be none of the keys the admin manages, the same of both (another member's keys
    are not hers to know of); the key stays active."""
    make_person(commune, "sandrine", "Ville A", "member-admin")
    make_person(commune, "bruno", "Ville B", "contributor")
    kid, _ = commune.admin.create_key("bruno", label="accueil")
    sandrine = browser(app, "sandrine")
    for back, page in (("admin", "/admin"), ("account", "/account")):
        for key_id in (kid, kid + 1000):
            sandrine.get(page)
            r = sandrine.post(f"/keys/{key_id}/revoke", {"back": back})
            assert r.status_code == 404
            said = r.page.split('id="revoke-error">')[1].split("</p>")[0]
            assert said == (
                "Cette clé n'est pas de celles que vous gérez (le tableau des clés donne "
                "celles que vous pouvez révoquer)."
            ), said
    assert kid in {k["id"] for k in commune.admin.keys() if k["revoked_at"] is None}


def test_an_equal_added_with_a_password_is_told_to_add_them_without(app, commune):  # noqa: F811
    """A member admin who added a second member admin with a password was told that only a
    higher role gives them one, « (un administrateur de la coopérative issu de Ville A, ou
    l'opérateur, le peut) », as if adding them were not hers to do: the guide says she adds
    them without a password. The refusal now says that next step."""
    make_person(commune, "sandrine", "Ville A", "member-admin")
    sandrine = browser(app, "sandrine")
    sandrine.get("/admin")
    typed = {"name": "lea", "member": "Ville A", "role": "member-admin"}
    r = sandrine.post("/admin/users", typed | {"password": "un mot de passe assez long"})
    assert r.status_code == 403
    said = r.page.split('id="user-error">')[1].split("</p>")[0]
    assert said.endswith(
        "(ajoutez cette personne sans mot de passe\u00a0: un administrateur de la coopérative "
        "issu de Ville A, ou l'opérateur, lui en donne un ensuite)."
    ), said
    assert "lea" not in {p["name"] for p in commune.admin.people()}
    r = sandrine.post("/admin/users", typed | {"password": ""})
    assert r.status_code == 303


# No letter and no digit: a lone combining accent, a private-use character, punctuation.
NO_WORD = ("\u0301", "\ue000", "?!", "\u0301 \U000f0000")


def test_a_question_without_a_letter_or_digit_is_refused_on_every_face(
    app,  # noqa: F811
    commune,
    home,
    monkeypatch,
):
    """A question of a lone combining accent, a private-use character or punctuation only
    passed the check for an empty one (spaces, control and format characters): it was
    searched and billed on every face, and answered with whatever matched nothing. Each face
    refuses it now as an empty one, through the library, before any work."""
    import asyncio

    from click.testing import CliRunner
    from fastapi.testclient import TestClient
    from mcp import Client

    from commune.api.mcp import actor_from_key, build_server
    from commune.cli import cli
    from tests.conftest import make_key

    monkeypatch.setenv("LANG", "en_GB.UTF-8")  # MCP in process: the server's locale
    key = make_key(commune, "ivan", "Ville A")

    def searched() -> list[str]:  # the ledger's rows of searches and answers
        with commune.engine.connect() as conn:
            routes = conn.exec_driver_sql("select route from usage").scalars().all()
        return [r for r in routes if "search" in r or "ask" in r or r.startswith("v1/")]

    api = TestClient(app, headers={"Authorization": f"Bearer {key}", "Accept-Language": "en"})
    server = build_server(commune, lambda ctx: actor_from_key(commune, key))
    web = browser(app, "carol")

    async def mcp(nothing: str) -> list[str]:
        async with Client(server) as c:
            said = []
            for tool, arguments in (("search", {"query": nothing}), ("ask", {"question": nothing})):
                r = await c.call_tool(tool, arguments)
                assert r.is_error, (tool, nothing, r.content)
                said.append(r.content[0].text)
            return said

    for nothing in NO_WORD:
        for path, body, message in (
            ("/api/search", {"query": nothing}, "the query is empty"),
            ("/api/ask", {"question": nothing}, "the question is empty"),
            ("/api/ask/stream", {"question": nothing}, "the question is empty"),
            (
                "/v1/chat/completions",
                {"model": "auto", "messages": [{"role": "user", "content": nothing}]},
                "messages must contain a user message with text",
            ),
            ("/v1/completions", {"model": "auto", "prompt": nothing}, "with text"),
        ):
            r = api.post(path, json=body)
            assert r.status_code == 400 and message in r.text, (path, nothing, r.text)
        search, ask = asyncio.run(mcp(nothing))
        assert search.endswith("the query is empty: give some words to search for"), search
        assert ask.endswith("the question is empty: ask something"), ask
        web.get("/")
        r = web.post("/ask", {"question": nothing})
        assert r.status_code == 400 and "question est vide" in r.page, r.page[-2000:]
        r = web.get("/commons", params={"q": nothing})
        assert r.status_code == 400 and "recherche est vide" in r.page, r.page[-3000:]
        for command in (["ask", nothing], ["search", nothing]):
            said = CliRunner().invoke(
                cli, ["--home", str(home), *command], env={"LANG": "en_GB.UTF-8"}
            )
            assert said.exit_code == 2 and "is empty" in said.stderr, (command, said.stderr)
    assert searched() == []  # nothing searched, nothing billed
