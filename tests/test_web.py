"""The web application in-process (httpx through Starlette's TestClient, over https so that
Secure cookies travel): sign-in, sessions and CSRF, languages and the catalogue, and that
no page shows one member another member's private documents."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest

from tests.conftest import PASSWORD, make_key, make_person

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
# Over HTTPS, the session's cookie is host-only (web/sessions.py): its name says so.
SESSION = "__Host-commune_session"


class Browser:
    """One person's browser: cookies, and the CSRF token of the last page."""

    def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
        from fastapi.testclient import TestClient

        self.client = TestClient(app, base_url="https://testserver", follow_redirects=False)
        self.csrf = ""

    def _seen(self, r):  # type: ignore[no-untyped-def]
        r.page = html.unescape(r.text)  # what a person reads: entities decoded
        found = CSRF.search(r.text)
        if found:
            self.csrf = found.group(1)
        return r

    def get(self, path: str, **kw):  # type: ignore[no-untyped-def]
        return self._seen(self.client.get(path, **kw))

    def post(self, path: str, data: dict | None = None, csrf: bool = True, **kw):  # type: ignore[no-untyped-def,type-arg]
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf", self.csrf)
        return self._seen(self.client.post(path, data=data, **kw))

    def sign_in(self, user: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
        self.get("/signin")
        return self.post("/signin", {"user": user, "password": password, "next": "/"})


@pytest.fixture
def app(commune, corpus):  # type: ignore[no-untyped-def]
    from commune.api.app import create_app

    commune.add([corpus], collection="mairie", licence="etalab-2.0")
    make_person(commune, "alice", "Ville A", "cooperative-admin")
    make_person(commune, "carol", "Ville C", "reader")
    app = create_app(commune)
    # Twenty failed sign-ins then a refusal: an hour's window, so that a busy machine taking
    # over a minute for them cannot empty it (a minute in use).
    app.state.failed_sign_ins.window_s = 3600
    return app


def browser(app, user: str | None = None) -> Browser:  # type: ignore[no-untyped-def]
    b = Browser(app)
    if user:
        assert b.sign_in(user).status_code == 303
    return b


def usage_rows(commune) -> int:  # type: ignore[no-untyped-def]
    from sqlalchemy import func, select

    from commune.store.schema import usage

    with commune.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(usage)).scalar_one())


def test_pages_need_a_session_and_say_where_to_sign_in(app):
    b = Browser(app)
    for path in ("/", "/commons", "/contribute", "/dashboard", "/account", "/documents/1"):
        r = b.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/signin?next=")
    # A form sent signed out came back, once signed in, as a GET its action does not take
    # (405, in JSON): it now comes back to the home page (review finding).
    b.get("/signin")
    r = b.post("/ask", {"question": "Piscine ?"})
    assert r.status_code == 303 and r.headers["location"] == "/signin?next=/&unsent=1"
    # And a form that has a page of its own comes back to it, not to the home page: a
    # contributor whose session ended while sending files was put in front of the question.
    r = b.post("/contribute", {"collection": "mairie"})
    assert r.status_code == 303 and r.headers["location"] == "/signin?next=/contribute&unsent=1"
    r = b.post("/account/password", {"current": "x", "new": "y"})
    assert r.status_code == 303 and r.headers["location"] == "/signin?next=/account&unsent=1"
    # The sign-in page says what became of what was sent, and what to do: a curator whose
    # session ended as they sent a decision signed in again, found the revision's page as
    # before, and could not tell whether their decision had counted.
    said = "ce que vous avez envoyé n'a pas été enregistré. Connectez-vous, puis envoyez-le"
    page = b.get(r.headers["location"])
    assert said in page.page and 'name="next" value="/account"' in page.page
    assert said not in b.get("/signin?next=/account").page  # a page opened signed out


def test_sign_in_sets_a_secure_httponly_samesite_session_and_sign_out_ends_it(app):
    b = Browser(app)
    r = b.get("/signin")
    pre = r.headers["set-cookie"]
    assert "__Host-commune_csrf=" in pre and "HttpOnly" in pre and "Secure" in pre
    assert "samesite=strict" in pre.lower()
    r = b.post("/signin", {"user": "carol", "password": PASSWORD, "next": "/commons"})
    assert r.status_code == 303 and r.headers["location"] == "/commons"
    cookie = next(
        c for c in r.headers.get_list("set-cookie") if c.startswith("__Host-commune_session=")
    )
    assert "HttpOnly" in cookie and "Secure" in cookie and "samesite=lax" in cookie.lower()
    assert "Path=/" in cookie and "domain" not in cookie.lower()  # as __Host- requires
    assert b.get("/").status_code == 200
    stolen = b.client.cookies.get(SESSION)
    assert b.post("/signout").status_code == 303
    # The server ended the session: the old cookie no longer opens anything.
    b.client.cookies.set(SESSION, stolen)
    assert b.get("/").status_code == 303


def test_signing_in_again_ends_the_session_it_replaces(app):
    """The old session stayed valid on the server until it expired, though the browser had
    dropped its cookie for the new one's: whoever had copied it kept it."""
    b = browser(app, "carol")
    old = b.client.cookies.get(SESSION)
    assert b.sign_in("alice").status_code == 303
    assert b.client.cookies.get(SESSION) != old
    assert "alice" in b.get("/account").page
    copy = Browser(app)
    copy.client.cookies.set(SESSION, old)
    assert copy.get("/").status_code == 303  # ended: back to the sign-in page


def test_wrong_passwords_are_refused_then_rate_limited(app):
    b = Browser(app)
    b.get("/signin")
    r = b.post("/signin", {"user": "carol", "password": "wrong password!"})
    assert r.status_code == 401 and "Nom d'utilisateur ou mot de passe incorrect" in r.page
    r = b.post("/signin", {"user": "nobody", "password": PASSWORD})
    assert r.status_code == 401  # the same answer for a name that does not exist
    for _ in range(18):
        b.post("/signin", {"user": "carol", "password": "wrong password!"})
    r = b.post("/signin", {"user": "carol", "password": "still wrong!"})
    assert r.status_code == 429 and "Retry-After" in r.headers
    # Said in the sign-in form, the name kept: it was a page apart, whose one link was
    # "Retour à la question", for someone signed out.
    said = re.search(r'id="signin-error">([^<]*)<', r.page)
    # One sentence saying how long to wait: it read « Trop de connexions échouées depuis
    # 127.0.0.1 (20 en 3600 s) (réessayez dans … », two brackets and the address.
    assert said and re.fullmatch(
        "Trop de connexions échouées\u00a0: réessayez dans 1 h 0[01] min\\.", said.group(1)
    ), r.page
    r = b.post("/signin", {"user": "carol", "password": "x!"}, headers={"Accept-Language": "en"})
    said = re.search(r'id="signin-error">([^<]*)<', r.page)
    assert said and re.fullmatch(
        r"Too many failed sign-ins: retry in 1 h 0[01] min\.", said.group(1)
    ), r.page
    assert 'id="user" name="user" autocomplete="username" value="carol"' in r.page
    assert "Retour à la question" not in r.page
    # The right password still signs in: guesses lock nobody out (issue 22).
    r = b.post("/signin", {"user": "carol", "password": PASSWORD})
    assert r.status_code == 303


def test_every_spelling_that_opens_an_account_counts_its_wrong_passwords_together(app, commune):
    """The sign-in finds a name in any case, compared casefolded ("ſtephanie", with the long
    s, is stephanie), but its wrong passwords were counted under the name in lower case:
    each spelling had a count of its own, and a guesser from many addresses had twenty
    tries a minute per spelling of one account (two per s in its name) where the limit
    gives twenty. Counted as the sign-in compares, every spelling shares one count."""
    from fastapi.testclient import TestClient

    make_person(commune, "stephanie", "Ville C", "reader")
    spellings = ("stephanie", "Stephanie", "ſtephanie", "STEPHANIE", "ſtephanie")

    def tried(spelling: str, password: str, address: int) -> int:
        # Each guess from an address of its own: only the account's count can stop them.
        b = Browser(app)
        b.client = TestClient(
            app,
            base_url="https://testserver",
            follow_redirects=False,
            client=(f"198.51.100.{address}", 50000),
        )
        return int(b.sign_in(spelling, password).status_code)

    assert tried("ſtephanie", PASSWORD, 250) == 303  # the same person, signed in
    for i in range(20):
        assert tried(spellings[i % len(spellings)], "wrong password!", i) == 401
    for i, spelling in enumerate(spellings):
        assert tried(spelling, "still wrong!", 100 + i) == 429, spelling
    assert tried("ſtephanie", PASSWORD, 251) == 303  # the right one still opens (issue 22)


def test_a_sign_in_form_sent_empty_says_what_to_fill_and_is_no_guess(app):
    """Found pressing Enter on the sign-in page before typing the password: "Nom
    d'utilisateur ou mot de passe incorrect", and each such press counted towards the limit
    of wrong sign-ins, as a guess does."""
    b = Browser(app)
    b.get("/signin")
    for _ in range(25):
        r = b.post("/signin", {"user": "carol", "password": ""})
    assert r.status_code == 400, r.status_code
    said = re.search(r'id="signin-error">([^<]*)<', r.page)
    assert said and said.group(1) == (
        "Écrivez votre nom d'utilisateur et votre mot de passe, ou une clé d'API sous "
        "«\u00a0Se connecter plutôt avec une clé d'API\u00a0»."
    ), r.page
    assert 'value="carol"' in r.page  # the name typed is kept
    assert 'autocomplete="current-password" aria-describedby="signin-error"' in r.page
    r = b.post("/signin", {"user": "", "password": ""}, headers={"Accept-Language": "en"})
    assert "Write your user name and your password, or an API key under" in r.page
    # Not one of them counted: the right password opens at once, a wrong one gets its 401.
    assert b.post("/signin", {"user": "carol", "password": "wrong password!"}).status_code == 401
    assert b.post("/signin", {"user": "carol", "password": PASSWORD}).status_code == 303


def test_the_sign_in_page_says_where_a_key_is_made_not_a_command(app):
    """The sign-in page told a town hall's clerk that their member admin makes a key "avec
    commune key create": a member admin makes one on the administration page (_keys.html's
    form, "Pour"), with no shell on the server."""
    page = Browser(app).get("/signin").page
    assert "commune key" not in page
    assert "l'administrateur de votre membre en crée une sur la page d'administration." in page
    page = Browser(app).get("/signin", headers={"Accept-Language": "en"}).page
    assert "your member admin creates one on the administration page." in page


def test_wrong_current_passwords_are_counted_as_sign_ins(app):
    # The change-password form checked the current password without counting the wrong
    # ones: a stolen session could guess it there without end (review finding).
    b = browser(app, "carol")
    b.get("/account")
    r = b.post("/account/password", {"current": "wrong password!", "new": "a new long password"})
    assert r.status_code == 403
    for _ in range(19):
        b.post("/account/password", {"current": "wrong password!", "new": "a new long password"})
    r = b.post("/account/password", {"current": "still wrong!", "new": "a new long password"})
    assert r.status_code == 429 and "Retry-After" in r.headers
    # The right one still works: guesses lock nobody out (issue 22).
    r = b.post("/account/password", {"current": PASSWORD, "new": "a new long password"})
    assert r.status_code == 303


def test_an_api_key_signs_in_too_and_an_open_redirect_is_refused(app, commune):
    from commune.govern.members import create_key

    with commune.engine.begin() as conn:
        secret = create_key(conn, "carol")[1]
    b = Browser(app)
    b.get("/signin")
    r = b.post("/signin", {"key": secret, "next": "//evil.example/steal"})
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert "carol" in b.get("/").page


def test_an_expired_key_is_shown_as_expired_on_the_account_page(app, commune):
    """The account page's keys showed a key whose date had passed as "expire le 2026-01-01",
    as `commune key list` did. Now it says the key has expired."""
    from sqlalchemy import update

    from commune.govern.members import create_key
    from commune.store.schema import api_keys

    with commune.engine.begin() as conn:
        gone = create_key(conn, "carol", label="old", expires_days=30)[0]
        create_key(conn, "carol", label="new", expires_days=30)
        conn.execute(
            update(api_keys)
            .where(api_keys.c.id == gone)
            .values(expires_at=datetime(2026, 1, 1, tzinfo=UTC))
        )
    page = browser(app, "carol").get("/account").page
    old = page[page.index("<td>old</td>") :].split("</tr>")[0]
    new = page[page.index("<td>new</td>") :].split("</tr>")[0]
    assert "a expiré le" in old and "expire le" not in old.replace("a expiré le", ""), old
    assert "expire le" in new and "a expiré" not in new, new


def test_a_wrong_api_key_is_said_on_the_key_field_left_open(app):
    """Found by keyboard in Chromium: a wrong API key was refused above the form, tied to
    the user name and password (not typed) and not to the key's field, which was folded
    away again under its summary: the person had to find and reopen it to try again."""
    b = Browser(app)
    b.get("/signin")
    r = b.post("/signin", {"key": "cmn_abcdefgh_wrong", "next": "/"})
    assert r.status_code == 401 and 'id="signin-error">Clé d\'API incorrecte.' in r.page
    assert "<details open>" in r.page
    assert 'autocomplete="off" aria-describedby="key-help signin-error" autofocus>' in r.page
    assert 'id="user" name="user" autocomplete="username" value="">' in r.page
    r = b.post("/signin", {"user": "carol", "password": "pas le bon", "next": "/"})
    assert r.status_code == 401 and "<details>" in r.page
    assert 'autocomplete="username" value="carol" aria-describedby="signin-error"' in r.page
    assert 'aria-describedby="key-help">' in r.page


def test_forms_without_the_csrf_token_are_refused_and_change_nothing(app, commune, tmp_path):
    b = browser(app, "alice")
    before = usage_rows(commune), len(commune.documents())
    for path, data in (
        ("/ask", {"question": "Quand passe le camion des ordures ?"}),
        ("/admin/members", {"name": "Intrus"}),
        ("/keys", {"label": "x"}),
    ):
        for token in (None, "forged"):
            fields = dict(data, csrf=token) if token else data
            r = b.post(path, fields, csrf=False)
            assert r.status_code == 403, path
            assert "formulaire a expiré" in r.page
    r = b.post(
        "/contribute",
        {"csrf": "forged", "collection": "mairie"},
        files={"files": ("new.txt", b"Un texte nouveau sur la piscine.", "text/plain")},
    )
    assert r.status_code == 403
    from commune.govern.members import list_members

    with commune.engine.connect() as conn:
        assert "Intrus" not in {m["name"] for m in list_members(conn)}
    assert (usage_rows(commune), len(commune.documents())) == before
    # Before sign-in too: a forged sign-in form (login CSRF) is refused.
    anon = Browser(app)
    anon.get("/signin")
    assert (
        anon.post("/signin", {"user": "carol", "password": PASSWORD}, csrf=False).status_code == 403
    )


def test_language_follows_the_browser_then_the_users_choice(app):
    b = browser(app, "carol")
    assert "Interroger les communs" in b.get("/").page  # no preference: French
    page = b.get("/", headers={"Accept-Language": "en-GB,en;q=0.9,fr;q=0.5"}).page
    assert "Ask the commons" in page and '<html lang="en">' in page
    # English refused (q=0) reads French, as the API does; a space before ";" is allowed.
    assert '<html lang="fr">' in b.get("/", headers={"Accept-Language": "en;q=0"}).page
    assert '<html lang="en">' in b.get("/", headers={"Accept-Language": "en ;q=0.5"}).page
    assert b.post("/language", {"language": "fr", "next": "/commons"}).status_code == 303
    page = b.get("/commons", headers={"Accept-Language": "en"}).page
    assert "Les communs" in page and '<html lang="fr">' in page


def test_switching_language_stays_on_a_page_that_opens(app):
    """Found without script in Chromium: after an answer (POST /ask) or a refused form
    (POST /admin/users), the language buttons led to the form's address, which only its form
    reaches: "Cela n'a pas marché. Cette page s'atteint par son formulaire". And a search's
    or a period's page lost what it showed (/commons?q=piscine became /commons)."""
    b = browser(app, "alice")
    b.get("/")
    answer = b.post("/ask", {"question": "Quand passe le camion des ordures ?"}).page
    assert 'name="next" value="/ask"' in answer

    def switched(to: str) -> str:
        r = b.post("/language", {"language": "en", "next": to})
        assert r.status_code == 303
        return str(r.headers["location"])

    assert switched("/ask") == "/"
    assert switched("/admin/users") == "/admin" and switched("/account/password") == "/account"
    assert switched("/documents/1") == "/documents/1"
    search = "/commons?q=piscine&collection=mairie"
    assert f'name="next" value="{search}"' in b.get(search).page
    assert switched(search) == search
    assert switched("//elsewhere.example") == "/"  # never another site


def test_every_message_of_the_pages_has_its_french_translation():
    from pathlib import Path

    from babel.messages.extract import extract_from_dir
    from babel.messages.pofile import read_po

    from commune.web import i18n

    root = Path(i18n.__file__).parent
    method_map = [("templates/**.html", "jinja2"), ("**.py", "python")]
    options = {
        "templates/**.html": {
            "extensions": "jinja2.ext.i18n",
            "trim_blocks": "true",
            "lstrip_blocks": "true",  # as babel.cfg, which scripts/i18n.sh extracts with
        }
    }
    keywords = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}
    found = {m[2] for m in extract_from_dir(root, method_map, options, keywords=keywords)}
    assert len(found) > 150
    with (i18n.LOCALE_DIR / "fr" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        fr = read_po(f)
    missing = [
        m
        for m in found
        if fr.get(m if isinstance(m, str) else m[0]) is None
        or not all(fr.get(m if isinstance(m, str) else m[0]).string or [""])
        or "fuzzy" in fr.get(m if isinstance(m, str) else m[0]).flags
    ]
    assert not missing, f"run scripts/i18n.sh, then translate: {sorted(map(str, missing))[:10]}"
    # And the other way: scripts/i18n.sh drops what the extractor does not find, so a French
    # entry added by hand for a message from another layer (api/errors.py's 404 page) would
    # be lost at the next refresh.
    ids = {m if isinstance(m, str) else m[0] for m in found}
    unseen = sorted(
        m.id if isinstance(m.id, str) else m.id[0]
        for m in fr
        if m.id and ((m.id if isinstance(m.id, str) else m.id[0]) not in ids)
    )
    assert not unseen, (
        f"mark them with N_ in commune/web/i18n.py, or run scripts/i18n.sh to drop those no "
        f"page shows: {unseen[:10]}"
    )


def test_ask_without_script_gives_a_cited_answer_with_energy_and_its_reasons(app):
    b = browser(app, "carol")
    b.get("/")
    r = b.post("/ask", {"question": "Quand passe le camion des ordures ?", "mode": "auto"})
    assert r.status_code == 200
    assert "mardi matin" in r.page and "[1]" in r.page
    assert 'href="/documents/' in r.page and "#p" in r.page  # the card links to the passage
    assert "etalab-2.0" in r.page and "mWh" in r.page and "estimée" in r.page
    assert "Pourquoi cette réponse" in r.page and "Réguler" in r.page
    stream = b.post("/ask/stream", {"question": "Quand passe le camion des ordures ?"})
    events = re.findall(r"^event: (\w+)$", stream.page, re.M)
    assert events[0] == "delta" and events[-1] == "answer"
    assert "answer-card" in stream.page


def test_a_question_of_many_lines_that_its_box_accepted_is_not_refused_as_too_long(app):
    """Found pasting a long question of several paragraphs: its box (maxlength 2000, which
    counts a line break as one character) took it, and the server refused it as over 2000
    characters, counting each line break the form sent as "\r\n" twice."""
    b = browser(app, "carol")
    b.get("/")
    line = "Le camion des ordures passe-t-il rue de la Mairie le mardi matin, et à quelle heure ?"
    question = "\r\n".join([line[:72] + "?"] * 27)  # 27 lines of 73 characters
    assert len(question.replace("\r\n", "\n")) == 1997 and len(question) == 2023
    r = b.post("/ask", {"question": question})
    assert r.status_code == 200 and 'id="ask-error"' not in r.page, r.page
    assert 'id="answer"' in r.page


def test_the_question_box_says_its_limit(commune, corpus):
    """A resident pasted a long letter into the question box: it was cut at 2,000 characters
    without a word, and the rest was never asked; an operator's lower limit ([limits]
    max_query_chars) was refused by the server only once sent. The box follows the
    operator's limit, its help says it, and the page's script says when it is reached."""
    from dataclasses import replace

    from commune.api.app import create_app

    commune.add([corpus], collection="mairie", licence="etalab-2.0")
    make_person(commune, "carol", "Ville C", "reader")
    commune.settings = replace(
        commune.settings, limits=replace(commune.settings.limits, max_query_chars=1500)
    )
    b = browser(create_app(commune), "carol")
    page = b.get("/").page
    assert 'maxlength="1500"' in page
    assert "En français ou en anglais, 1\u202f500 caractères au plus." in page
    assert (
        'data-said="Votre question a atteint la limite de 1\u202f500 caractères\u00a0: la suite '
        "n'a pas été prise.\"" in page
    )
    page = b.get("/", headers={"Accept-Language": "en"}).page
    assert "In French or in English, 1,500 characters at most." in page


def test_an_answer_that_found_nothing_does_not_say_it_quoted_the_sources(app):
    """Found asking in the web app: "Je n'ai trouvé aucun passage pertinent…" stood above
    "Mode : citation des sources", which it had not done."""
    b = browser(app, "carol")
    b.get("/")
    # A question nothing answers ("?!?..." was one, refused as empty since it holds no
    # letter: answering/search.blank).
    page = b.post(
        "/ask", {"question": "Recette de la tarte aux pommes ?", "mode": "extractive"}
    ).page
    assert "Je n'ai trouvé aucun passage pertinent" in page
    assert "Mode\u00a0: aucun passage cité" in page and "Mode\u00a0: citation" not in page
    b.get("/", headers={"Accept-Language": "en"})
    page = b.post("/ask", {"question": "Apple pie recipe?"}, headers={"Accept-Language": "en"}).page
    assert "Mode: no passage quoted" in page and "quoted from the sources" not in page


def test_a_citation_leads_to_the_passage_its_sentence_was_quoted_from(app):
    """Found reading an answer in the web app: "[1]" was plain text, though the guide says
    that in the browser the citation leads to the exact passage; only the source's card did."""
    b = browser(app, "carol")
    b.get("/")
    page = b.post("/ask", {"question": "Quand passe le camion des ordures ?"}).page
    links = re.findall(r'<a class="cite" href="(/documents/\d+)#(p\d+)">\[(\d+)\]</a>', page)
    assert links, page
    for document, anchor, n in links:
        assert f'<li class="card" id="source-{n}">' in page
        passage = b.get(document).page
        assert f'<section id="{anchor}" class="passage"' in passage
    document, anchor, _ = links[0]
    passage = b.get(document).page
    quoted = passage[passage.index(f'id="{anchor}"') :].split("</section>")[0]
    first = page[page.index('id="answer"') :].split('<a class="cite"')[0].rsplit(">", 1)[1]
    assert first.strip() and first.strip() in quoted, (first, quoted)  # the sentence, there


def test_a_pdf_sources_card_gives_its_page_without_a_section(app):
    """Found reading an answer from a PDF without headings, as most of a town hall's are: its
    card gave no page, which it showed only after a section's name."""
    b = browser(app, "carol")
    b.get("/")
    page = b.post("/ask", {"question": "Comment renouveler la carte d'identité ?"}).page
    card = page[page.index('<li class="card" id="source-1">') :].split("</li>")[0]
    assert "etat-civil" in card and '<p class="section">p. 2</p>' in card, card


def test_each_passage_of_a_document_has_a_name_of_its_own(app, commune, tmp_path):
    """Found auditing the document pages with axe-core (landmark-unique): each passage is a
    region a citation focuses, named by its section alone, so that the passages of one
    section were regions of the same name, and a screen reader's list of them repeated it."""
    docs = tmp_path / "long"
    docs.mkdir()
    paragraphs = "\n\n".join(
        f"Le conseil municipal du {n} mars a voté la délibération numéro {n} sur les travaux "
        + "de voirie, de réseaux et d'éclairage public dans les rues du centre ancien. " * 4
        for n in range(1, 9)
    )
    (docs / "conseil.md").write_text(f"# Conseil\n\n## Délibérations\n\n{paragraphs}\n")
    commune.add([docs], collection="mairie", licence="etalab-2.0")
    doc = next(d for d in commune.documents() if d["title"] == "Conseil")
    page = browser(app, "carol").get(f"/documents/{doc['id']}").page
    names = re.findall(
        r'<section id="p\d+" class="passage" tabindex="-1" aria-label="([^"]*)"', page
    )
    assert len(names) > 1 and len(set(names)) == len(names), names
    assert names[1] == "Délibérations, passage 2", names


def test_a_document_page_shows_passages_licence_provenance_and_revisions(app, commune):
    b = browser(app, "carol")
    doc = next(d for d in commune.documents() if d["title"] == "Gestion des déchets")
    page = b.get(f"/documents/{doc['id']}").page
    assert "Licence Ouverte / Open Licence 2.0" in page and 'id="p' in page
    assert "Révision 1" in page and "<ins>" in page


def test_a_document_page_names_its_language_in_words(app, commune):
    """Found reading a document cited by an answer: « Langue : fr », a code, not a word."""
    pool = next(d for d in commune.documents() if d["title"] == "Swimming pool")
    b = browser(app, "carol")
    assert "<dt>Langue</dt><dd>anglais</dd>" in b.get(f"/documents/{pool['id']}").page
    english = b.get(f"/documents/{pool['id']}", headers={"Accept-Language": "en"}).page
    assert "<dt>Language</dt><dd>English</dd>" in english
    from commune.web.languages import name

    assert name("eu") == "eu" and name(None) == "—"  # a code without a name stays a code


def test_contribute_then_curate_then_find_it_in_an_answer(app, commune):
    commune.set_curation_rules("mairie", 1, "curator")
    make_person(commune, "dora", "Ville A", "contributor")
    make_person(commune, "cyril", "Ville A", "curator")
    dora = browser(app, "dora")
    assert "Others may" not in dora.get("/contribute").page  # the licences explained, in French
    text = "La médiathèque prête des liseuses électroniques pour trois semaines, gratuitement."
    r = dora.post(
        "/contribute",
        {"collection": "mairie", "licence": "CC-BY-4.0"},
        files=[
            ("files", ("liseuses.txt", text.encode(), "text/plain")),
            ("files", ("virus.pdf", b"MZ\x90\x00", "application/pdf")),
        ],
    )
    assert r.status_code == 200
    assert "il attend la curation" in r.page
    assert "la collection demande 1 approbation par un curateur ou plus" in r.page
    # The file named once, in its row: it read « virus.pdf : non ajouté — virus.pdf : le
    # contenu… ».
    row = re.search(r"<strong>virus\.pdf</strong>(.*?)</li>", r.page, re.S).group(1)
    assert "non ajouté — le contenu n'est pas un fichier PDF" in row and "virus.pdf" not in row
    assert dora.get("/curation").status_code == 403  # contributors do not curate
    cyril = browser(app, "cyril")
    queue = cyril.get("/curation").page
    rid = int(re.search(r'href="/curation/(\d+)"', queue).group(1))
    review = cyril.get(f"/curation/{rid}").page
    assert "liseuses" in review and "<ins>" in review
    r = cyril.post(f"/curation/{rid}", {"decision": "approve", "reason": ""})
    assert r.status_code == 400 and "Donnez une raison" in r.page
    r = cyril.post(f"/curation/{rid}", {"decision": "approve", "reason": "source vérifiée"})
    assert r.status_code == 303 and "published" in r.headers["location"]
    assert "Décision enregistrée\u00a0: publiée" in cyril.get(r.headers["location"]).page
    dora.get("/")
    answer = dora.post(
        "/ask", {"question": "La médiathèque prête-t-elle des liseuses électroniques ?"}
    )
    assert "trois semaines" in answer.page


def test_the_curation_queue_lists_only_what_the_curator_may_decide(app, commune, tmp_path):
    # Found by exploring the queue: a curator of Ville B saw the revisions waiting in Ville
    # A's shared collections (unpublished titles, their contributors, why they wait), which
    # only Ville A's people curate: each link opened a refusal.
    make_person(commune, "dora", "Ville A", "contributor")
    make_person(commune, "bea", "Ville B", "curator")
    make_person(commune, "cyril", "Ville A", "curator")
    draft = tmp_path / "budget.md"
    draft.write_text("# Budget primitif\n\nLe projet de budget primitif, non voté.")
    commune.add([draft], collection="conseil-a", actor=commune.actor("dora"))  # no licence
    commune.set_visibility("conseil-a", "shared")
    assert "Budget primitif" in browser(app, "cyril").get("/curation").page
    queue = browser(app, "bea").get("/curation").page
    assert "Budget primitif" not in queue and "dora" not in queue


def test_a_revision_sent_without_a_licence_is_approved_from_the_page(app, commune):
    # Found by an exploratory test: the page had no licence field, and approving such a
    # revision sent the curator to a CLI flag, "--licence", with the English "none" in it.
    make_person(commune, "dora", "Ville A", "contributor")
    make_person(commune, "cyril", "Ville A", "curator")
    dora = browser(app, "dora")
    dora.get("/contribute")  # the form's page first, as a person opens it
    text = "La ludothèque prête des jeux de société pour deux semaines."
    r = dora.post(
        "/contribute",
        {"collection": "mairie"},
        files=[("files", ("ludotheque.txt", text.encode(), "text/plain"))],
    )
    assert r.status_code == 200 and "il attend la curation" in r.page
    cyril = browser(app, "cyril")
    rid = int(re.search(r'href="/curation/(\d+)"', cyril.get("/curation").page).group(1))
    review = cyril.get(f"/curation/{rid}").page
    assert 'name="licence"' in review and "Licence à fixer en approuvant" in review
    assert "<del>− rien n'est encore publié</del>\n<ins>+ révision 1</ins>" in review
    assert "(none)" not in review and "revision" not in review
    # The commons page lists it for a curator: its link is its curation page, not a 404.
    listed = cyril.get("/commons?collection=mairie").page
    assert f'href="/curation/{rid}">La ludothèque' in listed and "(non publié)" in listed
    r = cyril.post(f"/curation/{rid}", {"decision": "approve", "reason": "vu"})
    assert r.status_code == 400 and 'role="alert"' in r.page  # in the form, not a page apart
    said = html.unescape(r.page)
    assert "La révision" in said and "n'a pas de licence" in said and "champ licence" in said
    assert "licence none" not in said
    # Named as the page names it, its number in its document, not its id (« La révision 7 »
    # on the page of « Révision 1 »); and no --licence, a flag of a CLI the curator has not.
    assert rid != 1 and "<dd>1 · proposée</dd>" in said
    assert (
        "(la révision 1 de ce document\u00a0: approuvez-la avec une licence SPDX connue dans le "
        "champ licence)"
    ) in said
    assert "--licence" not in said
    r = cyril.post(f"/curation/{rid}", {"decision": "approve", "reason": "vu", "licence": "FOO"})
    assert r.status_code == 400 and "inconnue de SPDX (FOO)" in html.unescape(r.page)
    assert 'value="FOO"' in r.page and ">vu</textarea>" in r.page  # what was typed is kept
    # The licence refused is said to a screen reader on its field, as the reason's is: it was
    # tied to the reason's box only, and the licence field, where the mistake was, said nothing.
    assert re.search(r'<input id="licence" [^>]*aria-describedby="decision-error"', r.page)
    r = cyril.post(
        f"/curation/{rid}", {"decision": "approve", "reason": "vu", "licence": "etalab-2.0"}
    )
    assert r.status_code == 303 and "published" in r.headers["location"]
    review = cyril.get(f"/curation/{rid}").page  # published: against the one before it
    assert "Modifications par rapport à la révision précédente" in review
    assert "<del>− aucune révision avant celle-ci</del>" in review
    [doc] = [d for d in commune.documents() if d["title"].startswith("La ludothèque")]
    assert doc["licence"] == "etalab-2.0" and doc["status"] == "published"
    commune.retire(doc["id"], "fermée")
    listed = cyril.get("/commons?collection=mairie").page
    assert (
        "La ludothèque prête des jeux de société pour deux semaines. (retiré, non cité)" in listed
    )


def test_an_older_revision_refused_names_the_newer_as_the_curation_page_shows_it(
    app, commune, tmp_path
):
    # Approving an older revision while a newer one of the same member waits is refused
    # (curation.review): the refusal named the newer by its id alone, which the Curation
    # page shows nowhere (it lists "révision 3"): the curator could not tell which to decide.
    make_person(commune, "dora", "Ville A", "contributor")
    make_person(commune, "cyril", "Ville A", "curator")
    dora = commune.actor("dora")
    page = tmp_path / "horaires.md"
    page.write_text("# Horaires\n\nLa mairie ouvre à neuf heures.", encoding="utf-8")
    commune.add([page], collection="mairie", licence="etalab-2.0", actor=dora)
    commune.set_curation_rules("mairie", 1, "curator")
    for hour in ("dix", "onze"):
        page.write_text(f"# Horaires\n\nLa mairie ouvre à {hour} heures.", encoding="utf-8")
        commune.add([page], collection="mairie", licence="etalab-2.0", actor=dora)
    older, newer = commune.pending()
    assert (older["number"], newer["number"]) == (2, 3)
    cyril = browser(app, "cyril")
    assert "révision 3" in cyril.get("/curation").page  # how the queue names it
    r = cyril.post(f"/curation/{older['id']}", {"decision": "approve", "reason": "vu"})
    assert r.status_code == 400
    said = html.unescape(r.page)
    assert (
        f"décidez d'abord de la révision {newer['id']} (la révision 3 de ce document, dans la "
        "liste de la page Curation)\u00a0; pour publier celle-ci, rejetez celle-là"
    ) in said, said
    assert [r["id"] for r in commune.pending()] == [older["id"], newer["id"]]  # unchanged


def test_a_second_curator_on_a_revision_already_decided_reads_its_number_and_what_to_do(
    app, commune
):
    # Found with two curators on one revision at once: the second, whose page was opened
    # before the first approved, sent « Demander des modifications » and read « La révision
    # 3 est publiée, elle n'attend pas de relecture » on the page of « Révision 1 » (the
    # revision's id, which the pages show nowhere), and nothing about what to do next.
    make_person(commune, "dora", "Ville A", "contributor")
    make_person(commune, "cyril", "Ville A", "curator")
    make_person(commune, "bea", "Ville A", "curator")
    commune.set_curation_rules("mairie", 1, "curator")
    dora = browser(app, "dora")
    dora.get("/contribute")
    text = b"Les ateliers de semis ont lieu le mercredi au jardin."
    files = [("files", ("ateliers.txt", text, "text/plain"))]
    dora.post("/contribute", {"collection": "mairie", "licence": "CC-BY-4.0"}, files=files)
    [waiting] = commune.pending()
    assert waiting["number"] == 1 and waiting["id"] != 1
    cyril, bea = browser(app, "cyril"), browser(app, "bea")
    cyril.get(f"/curation/{waiting['id']}")
    bea.get(f"/curation/{waiting['id']}")  # both pages open at once
    r = cyril.post(f"/curation/{waiting['id']}", {"decision": "approve", "reason": "vu"})
    assert r.headers["location"] == "/curation?done=published"
    asked = {"decision": "request-changes", "reason": "Ajoutez la date."}
    r = bea.post(f"/curation/{waiting['id']}", asked)
    assert r.status_code == 400 and "<dd>1 · publiée</dd>" in r.page
    said = re.search(r'id="decision-error">([^<]*)<', r.page).group(1)
    assert "la révision 1 de ce document : il ne reste rien à décider" in said, said
    assert "la page Curation liste ce qui attend encore" in said
    assert ">Ajoutez la date.</textarea>" in r.page  # what was typed is kept
    assert commune.documents("mairie")[-1]["status"] == "published"  # nothing done twice
    # Opened again, the revision's page offers no decision any more: its form's every
    # sending was refused. It says so, and leads to the document.
    page = bea.get(f"/curation/{waiting['id']}").page
    assert f'action="/curation/{waiting["id"]}"' not in page
    assert "Il ne reste rien à décider sur cette révision\u00a0: elle est publiée." in page
    doc = commune.documents("mairie")[-1]["id"]
    assert f'<a href="/documents/{doc}">Ouvrir son document</a>' in page
    bea.post("/language", {"language": "en", "next": "/"})
    bea.get(f"/curation/{waiting['id']}")
    r = bea.post(f"/curation/{waiting['id']}", asked)
    assert "revision 1 of this document: nothing is left to decide on it" in r.page


def test_a_contributor_reads_why_a_curator_sent_a_document_back(app, commune):
    # Found by an exploratory test: the guide says the person who contributed reads the
    # curator's reason, and no page showed it (their document's page is a 404 until published).
    commune.set_curation_rules("mairie", 1, "curator")
    make_person(commune, "dora", "Ville A", "contributor")
    make_person(commune, "cyril", "Ville A", "curator")
    dora = browser(app, "dora")
    dora.get("/contribute")
    text = "Le marché de Noël ouvre le premier samedi de décembre."
    files = [("files", ("noel.txt", text.encode(), "text/plain"))]
    r = dora.post("/contribute", {"collection": "mairie", "licence": "CC-BY-4.0"}, files=files)
    mine = html.unescape(r.page)
    assert "Vos contributions" in mine
    assert "la collection demande 1 approbation par un curateur ou plus" in mine
    cyril = browser(app, "cyril")
    rid = int(re.search(r'href="/curation/(\d+)"', cyril.get("/curation").page).group(1))
    r = cyril.post(f"/curation/{rid}", {"decision": "request-changes", "reason": "Ajoutez l'heure"})
    assert r.status_code == 303
    mine = html.unescape(dora.get("/contribute").page)
    assert "cyril\u00a0: Ajoutez l'heure" in mine, mine
    # Only one's own: the curator contributed nothing.
    assert "Vos contributions" not in cyril.get("/contribute").page


def test_a_contributor_reads_that_their_document_was_retired_and_why(app, commune):
    # Found by an exploratory test: the contributor's list said "publiée" for a document a
    # curator had retired, no longer read nor cited, and nothing of the curator's reason.
    make_person(commune, "dora", "Ville A", "contributor")
    dora = browser(app, "dora")
    dora.get("/contribute")
    files = [("files", ("noel.txt", b"Le marche de Noel ouvre en decembre.", "text/plain"))]
    dora.post("/contribute", {"collection": "mairie", "licence": "CC-BY-4.0"}, files=files)
    [doc] = [d for d in commune.documents() if "noel" in (d["source_uri"] or "")]
    commune.retire(doc["id"], reason="demande de retrait de l'auteur")
    mine = html.unescape(dora.get("/contribute").page)
    row = re.search(r"<tr><td>[^<]*\(révision 1\).*?</tr>", mine).group(0)
    assert "retirée" in row and "publiée" not in row, row
    assert "operator\u00a0: demande de retrait de l'auteur" in row, row


def test_a_curator_retires_a_document_from_its_page_and_its_contributor_reads_why(app, commune):
    # Found by an exploratory test: retiring (a takedown, a text out of date) was the
    # command line's alone, `commune retire`; a curator asked to take a text down had no
    # page to do it from.
    make_person(commune, "dora", "Ville A", "contributor")
    make_person(commune, "cyril", "Ville A", "curator")
    dora = browser(app, "dora")
    dora.get("/contribute")
    text = "Le marché de Noël ouvre en décembre.".encode()
    for name in ("noel-copie.txt", "noel.txt"):  # the copy published first, retired with it
        files = [("files", (name, text, "text/plain"))]
        dora.post("/contribute", {"collection": "vie-a", "licence": "CC-BY-4.0"}, files=files)
    [doc] = [d for d in commune.documents() if d["source_uri"].endswith("vie-a/noel.txt")]
    address = f"/documents/{doc['id']}"
    assert 'action="' + address + '/retire"' not in dora.get(address).page  # not a curator's
    r = dora.post(f"{address}/retire", {"reason": "à moi", "category": "other"})
    assert r.status_code == 403 and "Retirer un document revient aux curateurs" in r.page
    cyril = browser(app, "cyril")
    page = cyril.get(address).page
    assert 'action="' + address + '/retire"' in page and "Retirer ce document" in page
    # Its help said "its history stays" for every category, a personal-data takedown too,
    # which erases the texts and files (store/erasure.py).
    assert "sauf pour des données personnelles, dont les textes et les fichiers sont effacés" in (
        page
    )
    r = cyril.post(f"{address}/retire", {"reason": " ", "category": "outdated"})
    assert r.status_code == 400 and 'id="retire-error"' in r.page and "Donnez une raison" in r.page
    assert '<option value="outdated" selected>' in r.page  # what was chosen is kept
    r = cyril.post(f"{address}/retire", {"reason": "x", "category": "bogus"})
    assert r.status_code == 400 and "category must be one of" not in r.page  # said in French
    assert {d["status"] for d in commune.documents(actor=commune.actor("cyril"))} == {"published"}
    r = cyril.post(f"{address}/retire", {"reason": "Marché annulé", "category": "outdated"})
    done = "/commons?collection=vie-a&done=retired&copies=1"
    assert r.status_code == 303 and r.headers["location"] == done
    page = cyril.get(done).page
    assert "Le document est retiré" in page
    assert "1 copie du même fichier a été retirée avec lui." in page
    assert dora.get(address).status_code == 404  # no longer read
    assert "Ce document est retiré" in cyril.get(address).page  # its curator's, to undo
    mine = dora.get("/contribute").page
    row = re.search(r"<tr><td>[^<]*\(révision 1\).*?</tr>", mine).group(0)
    assert "retirée" in row and "cyril\u00a0: Marché annulé" in row, row
    carol = browser(app, "carol")  # a reader of Ville C
    assert carol.get("/account").status_code == 200  # her session's form token
    assert carol.post(f"{address}/retire", {"reason": "x"}).status_code == 403


def test_a_curator_reads_a_retired_documents_page_and_reinstates_it_from_there(app, commune):
    # Found by this stop's curator walk: a curator who retired the wrong document had no way
    # back, and its page answered « Aucun document N » even to them, so there was no page to
    # undo it from. Its curators now read it marked retired, with why, and bring it back.
    make_person(commune, "dora", "Ville A", "contributor")
    make_person(commune, "cyril", "Ville A", "curator")
    dora = browser(app, "dora")
    dora.get("/contribute")
    text = "Le marché de Noël ouvre en décembre.".encode()
    for name in ("noel-copie.txt", "noel.txt"):  # the copy retired with it, and back with it
        files = [("files", (name, text, "text/plain"))]
        dora.post("/contribute", {"collection": "vie-a", "licence": "CC-BY-4.0"}, files=files)
    [doc] = [d for d in commune.documents() if d["source_uri"].endswith("vie-a/noel.txt")]
    address = f"/documents/{doc['id']}"
    assert commune.retire(doc["id"], "pas celui-là", actor=commune.actor("cyril"), category="error")
    absent = dora.get("/documents/99999")
    for reader in (dora, browser(app, "carol")):  # its contributor, another member's reader
        r = reader.get(address)
        assert r.status_code == 404 and "Ce document est retiré" not in r.page
        assert f"Aucun document {doc['id']}" in r.page and absent.status_code == 404
    cyril = browser(app, "cyril")
    page = html.unescape(cyril.get(address).page)
    assert "Ce document est retiré\u00a0: il n'est plus trouvé ni cité." in page
    assert "par cyril (une erreur)\u00a0: pas celui-là" in page
    assert 'action="' + address + '/reinstate"' in page and "Rétablir ce document" in page
    assert 'action="' + address + '/retire"' not in page
    r = cyril.post(f"{address}/reinstate", {"reason": " "})
    assert r.status_code == 400 and 'id="reinstate-error"' in r.page
    assert "Donnez une raison" in r.page
    r = dora.post(f"{address}/reinstate", {"reason": "à moi"})
    assert r.status_code == 403 and "Rétablir un document revient aux curateurs" in r.page
    r = cyril.post(f"{address}/reinstate", {"reason": "retiré par erreur"})
    assert r.status_code == 303 and r.headers["location"] == f"{address}?done=reinstated&copies=1"
    page = html.unescape(dora.get(r.headers["location"]).page)
    assert "Le document est rétabli\u00a0: il est de nouveau trouvé et cité." in page
    assert "1 copie du même fichier a été rétablie avec lui." in page
    assert {d["status"] for d in commune.documents()} == {"published"}

    # A personal-data takedown's texts are erased: its page says so, and offers no form.
    commune.retire(doc["id"], "adresse", actor=commune.actor("cyril"), category="personal-data")
    page = html.unescape(cyril.get(address).page)
    assert "ses textes sont effacés et ne peuvent pas revenir" in page
    assert 'action="' + address + '/reinstate"' not in page


def test_the_contribute_page_says_a_file_sent_again_was_refused_not_that_it_is_published(
    app, commune
):
    make_person(commune, "dora", "Ville A", "contributor")
    make_person(commune, "cyril", "Ville A", "curator")
    dora = browser(app, "dora")
    dora.get("/contribute")
    files = [("files", ("noel.txt", "Le marché de Noël ouvre en décembre.".encode(), "text/plain"))]
    dora.post("/contribute", {"collection": "vie-a"}, files=files)  # no licence: it waits
    r = dora.post("/contribute", {"collection": "vie-a"}, files=files)
    assert "il attend la curation — aucune licence donnée" in r.page
    assert "les communs ont déjà cette version" not in r.page
    [waiting] = commune.pending()
    commune.review(waiting["id"], "reject", "hors sujet", commune.actor("cyril"))
    r = dora.post("/contribute", {"collection": "vie-a"}, files=files)
    said = "pas ajouté de nouveau — un relecteur a rejeté ce fichier (cyril\u00a0: hors sujet)"
    assert said in r.page
    assert "les communs ont déjà cette version" not in r.page


def test_the_contribute_page_without_script_keeps_the_licence_and_publisher_after_results(
    app, commune
):
    # Found in a browser without JavaScript: a volunteer sent a PDF too large and an ODT,
    # with a licence and their association as publisher. The results came back with the
    # licence reset to « Je ne sais pas » and the publisher to their member's name: the PDF,
    # split and sent again, went without the licence chosen and waited for a curator. The
    # page's script leaves the form as it was; the page without it now does too.
    make_person(commune, "dora", "Ville A", "contributor")
    dora = browser(app, "dora")
    dora.get("/contribute")
    sent = {"collection": "jardins", "licence": "CC-BY-SA-4.0", "publisher": "Les Jardins"}
    binary = ("files", ("compost.txt", bytes(range(256)) * 8, "text/plain"))  # not text
    text = ("files", ("semis.txt", b"Semis le mercredi.", "text/plain"))
    for files in ([binary], [binary, text]):
        r = dora.post("/contribute", sent, files=files)
        assert "<strong>compost.txt</strong>" in r.page and "non ajouté" in r.page
        assert re.search(r'<input [^>]*value="CC-BY-SA-4.0"[^>]* checked>', r.text), r.status_code
        assert not re.search(r'id="licence-none" [^>]* checked', r.text)
        assert 'id="publisher" name="publisher" value="Les Jardins"' in r.text
        assert re.search(r'id="collection" [^>]*value="jardins"', r.text)
    assert r.status_code == 200 and "semis.txt" in r.page
    # Opened again, the form starts as it always does.
    page = dora.get("/contribute").text
    assert re.search(r'id="licence-none" [^>]* checked', page)


def test_a_revision_whose_text_did_not_change_says_so_where_its_diff_was_empty(app, commune):
    # Found by an exploratory test: a revision held because its licence changed showed the
    # curator « Modifications par rapport à la révision publiée » over an empty box.
    make_person(commune, "dora", "Ville A", "contributor")
    make_person(commune, "cyril", "Ville A", "curator")
    dora = browser(app, "dora")
    dora.get("/contribute")
    files = [("files", ("noel.txt", "Le marché de Noël ouvre en décembre.".encode(), "text/plain"))]
    dora.post("/contribute", {"collection": "vie-a", "licence": "CC-BY-4.0"}, files=files)
    r = dora.post("/contribute", {"collection": "vie-a", "licence": "etalab-2.0"}, files=files)
    assert "la licence a changé de CC-BY-4.0 à etalab-2.0" in r.page
    [waiting] = commune.pending()
    page = browser(app, "cyril").get(f"/curation/{waiting['id']}").page
    # What changed is said, and only that: the same bytes, the same publisher (none).
    assert "Le texte n'a pas changé. Ce qui a changé\u00a0: sa licence.</p>" in page
    assert '<pre class="diff"' not in page


def test_a_document_under_the_cooperatives_own_licence_shows_its_text(app, commune, tmp_path):
    # Found by an exploratory test: a document under LicenseRef-… showed only that name, with
    # no link (none exists elsewhere): a reader could not learn what it allows them.
    note = tmp_path / "accueil.md"
    note.write_text("# Accueil\n\nL'accueil répond du lundi au vendredi.", encoding="utf-8")
    text = "Licence de la coopérative 1.0 : lisez, citez, ne modifiez pas."
    commune.add([note], collection="mairie", licence="LicenseRef-coop-1.0", licence_text=text)
    [waiting] = commune.pending()
    commune.review(waiting["id"], "approve", "texte lu")
    alice = browser(app, "alice")
    page = html.unescape(alice.get(f"/documents/{waiting['document_id']}").page)
    assert "Le texte de LicenseRef-coop-1.0" in page and text in page, page


def _form(page: str, action: str) -> str:
    """The form of ``page`` that posts to ``action``, as a person reads it."""
    found = re.search(rf'<form method="post" action="{re.escape(action)}".*?</form>', page, re.S)
    assert found, page[-1500:]
    return found.group(0)


def _add_user_forms(page: str) -> list[str]:
    """The administration page's add-user forms: one for the members whose people the reader
    may give a password, one without it for the others."""
    return re.findall(r'<form method="post" action="/admin/users".*?</form>', page, re.S)


def test_a_refused_form_says_why_in_the_form_and_keeps_what_was_typed(app, commune):
    """Found by an exploratory test: a refusal on the ask, contribute, account and
    administration pages was a page apart ("Quelque chose n'a pas marché"), what was typed
    lost. It is said in its form now, as on the curation page, with the same status."""
    alice = browser(app, "alice")
    alice.get("/")
    r = alice.post("/ask", {"question": "Où est la piscine ?", "collection": "nulle-part"})
    ask = _form(r.page, "/ask#result")
    assert r.status_code == 404 and "Quelque chose n'a pas marché" not in r.page
    assert 'role="alert" id="ask-error">Aucune collection nommée \'nulle-part\'' in ask
    assert 'aria-describedby="question-help ask-error"' in ask and "Où est la piscine ?" in ask
    # The collection refused (one made private since the page was opened) is said on its
    # field too: it was tied to the question's box only.
    assert (
        '<select id="collection" name="collection" aria-describedby="ask-error" autofocus>' in ask
    )
    r = alice.post("/ask", {"question": "  "})
    assert r.status_code == 400 and "Écrivez d'abord une question." in _form(r.page, "/ask#result")

    alice.get("/contribute")
    files = [("files", ("a.txt", b"La salle des fetes se loue au mois.", "text/plain"))]
    typed = {"collection": "mairie", "licence": "FOO", "publisher": "Mairie de Z"}
    before = len(commune.documents())
    r = alice.post("/contribute", typed, files=files)
    sent = _form(r.page, "/contribute")
    assert r.status_code == 400 and 'role="alert" id="contribute-error">Licence invalide' in sent
    assert 'value="Mairie de Z"' in sent and len(commune.documents()) == before
    r = alice.post("/contribute", {**typed, "licence": "CC-BY-4.0"})  # no file
    sent = _form(r.page, "/contribute")
    assert r.status_code == 400 and "Choisissez au moins un fichier." in sent
    assert re.search(r'value="CC-BY-4.0" aria-describedby="licence-\d+-terms" checked>', sent)
    # The page's script still gets the fragment it puts in place of the results.
    r = alice.post("/contribute", typed, files=files, headers={"X-Fragment": "1"})
    assert r.status_code == 400 and r.text.startswith('<div class="error" role="alert">')

    alice.get("/account")
    r = alice.post("/account/password", {"current": "pas le bon", "new": "x" * 12})
    said = _form(r.page, "/account/password")
    assert r.status_code == 403 and "Le mot de passe actuel est faux" in said
    assert "Vos clés d'API" in r.page  # the whole page again, keys and payout
    assert 'value="pas le bon"' not in r.page  # a password is never shown back
    r = alice.post("/account/password", {"current": PASSWORD, "new": "court"})
    assert r.status_code == 400 and "au moins 10 caractères" in _form(r.page, "/account/password")
    assert browser(app, "alice").get("/account").status_code == 200  # the password unchanged

    alice.get("/admin")
    people = len(commune.admin.people())
    other = {"form": "user-other", "name": "carol", "member": "Ville C", "role": "curator"}
    r = alice.post("/admin/users", other)
    added = _add_user_forms(r.page)[-1]  # Ville C's people get no password from alice's form
    assert r.status_code == 400 and 'role="alert" id="user-other-error">' in added
    assert "existe déjà" in added and 'value="carol"' in added
    assert '<option value="curator" selected>' in added and len(commune.admin.people()) == people
    r = alice.post("/admin/members", {"name": " ", "kind": "association"})
    assert r.status_code == 400 and 'id="member-error"' in _form(r.page, "/admin/members")
    assert '<option value="association" selected>' in r.page
    r = alice.post("/admin/roles", {"user": "carol", "role": "roi"})
    assert r.status_code == 400 and 'role="alert" id="role-error"' in r.page
    assert [u["role"] for u in commune.admin.people() if u["name"] == "carol"] == ["reader"]
    make_person(commune, "mona", "Ville C", "member-admin")
    mona = browser(app, "mona")
    mona.get("/admin")
    r = mona.post(
        "/keys", {"user": "alice", "label": "pour alice", "back": "admin", "password": PASSWORD}
    )
    key = _form(r.page, "/keys")
    assert r.status_code == 404 and 'id="key-error"' in key and 'value="pour alice"' in key
    # Not the form's: a forged form's token is a page apart, nothing done.
    r = mona.post("/admin/users", {"name": "x", "member": "Ville C", "csrf": "forged"})
    assert r.status_code == 403 and "<h1>Non autorisé</h1>" in r.page
    # A refusal is not a failure: not headed as one, and not said twice.
    assert "Quelque chose n'a pas marché" not in r.page and "Non autorisé." not in r.page
    r = mona.post(
        "/admin/users",
        {"name": "x", "member": "Ville C", "csrf": "forged"},
        headers={"Accept-Language": "en"},
    )
    assert r.status_code == 403 and "<title>Not allowed" in r.page


def test_passages_in_another_language_than_the_pages_carry_their_own(app, commune):
    """Found by an exploratory test: French passages quoted on English pages (and English
    ones on French pages) had no lang attribute, so a screen reader read them with the
    page's voice. Text in the page's own language carries none."""
    english = {"Accept-Language": "en"}
    alice = browser(app, "alice")
    alice.get("/", headers=english)
    r = alice.post("/ask", {"question": "When must the bins be put out?"}, headers=english)
    answer = re.search(r'<div id="answer".*?</div>', r.text, re.S).group(0)
    assert '<div id="answer" class="answer">' in answer  # the answer's language is the page's
    assert '<span lang="fr">Les bacs doivent être sortis' in html.unescape(answer), answer
    assert re.search(r'<p class="card-title" lang="fr"><span class="n">\[1\]', r.text)
    r = alice.post("/ask", {"question": "Quand passe le camion des ordures ?"}, headers=english)
    assert '<div id="answer" class="answer" lang="fr">' in r.text  # the question's language
    assert "<span lang" not in r.text.split('id="answer"')[1].split("</div>")[0]
    assert '<span lang="fr">la charte ne fixe aucune règle de refus</span>' in r.page  # reasons

    hits = alice.get("/commons?q=ordures", headers=english).text
    assert '<p class="excerpt" lang="fr">' in hits and 'lang="en"' not in hits.split("<main")[1]
    hits = alice.get("/commons?q=parking+permit").text  # a French page
    assert '<p class="excerpt" lang="en">' in hits and '<p class="excerpt" lang="fr">' not in hits
    [parking] = [d for d in commune.documents() if d["title"] == "Parking permits"]
    page = alice.get(f"/documents/{parking['id']}").text
    assert '<h1 lang="en">Parking permits</h1>' in page
    assert '<div class="document" lang="en">' in page
    # A French page quoting French passages marks nothing.
    r = alice.post("/ask", {"question": "Quand passe le camion des ordures ?"})
    assert r.text.count(' lang="') == 3  # the page's <html>, its two language buttons


def test_commune_s_own_words_to_a_question_in_a_third_language_are_marked_english(app):
    """Found in Chromium: a question in a language Commune has no messages in (German, or
    a French one read as Spanish for the HTML pasted in it) was told "I found no relevant
    passage…" in English, marked lang="de" (or "es"): a screen reader read English words
    with a German voice. Commune's own words carry the language they are written in."""
    alice = browser(app, "alice")
    alice.get("/")
    question = "Wie beantrage ich einen neuen Reisepass für meine Tochter im Rathaus"
    r = alice.post("/ask", {"question": question})
    answer = re.search(r'<div id="answer".*?</div>', r.text, re.S).group(0)
    assert 'class="answer notfound" lang="en">I found no relevant passage' in answer, answer
    assert 'lang="de"' not in r.text, r.text
    assert '<span lang="en">the charter sets no refusal rule</span>' in r.page


def test_a_documents_title_in_another_language_carries_its_own_in_curation(app, commune):
    """Found in Chromium, a French page naming an English document: the curation queue, the
    review's heading and the contributor's list gave its title no lang attribute, where the
    commons and the document's page do, so a screen reader read "Opening hours" with a
    French voice."""
    commune.set_curation_rules("mairie", 1, "curator")
    make_person(commune, "dora", "Ville A", "contributor")
    make_person(commune, "cyril", "Ville A", "curator")
    dora = browser(app, "dora")
    dora.get("/contribute")
    text = "Opening hours\n\nThe library is open from Tuesday to Saturday, with late evenings."
    r = dora.post(
        "/contribute",
        {"collection": "mairie", "licence": "CC-BY-4.0"},
        files=[("files", ("hours.txt", text.encode(), "text/plain"))],
    )
    assert r.status_code == 200 and "il attend la curation" in r.page
    assert '<td><span lang="en">Opening hours</span> (révision 1)</td>' in r.page, r.page
    cyril = browser(app, "cyril")
    queue = cyril.get("/curation").page
    rid = int(re.search(r'href="/curation/(\d+)" lang="en">Opening hours</a>', queue).group(1))
    review = cyril.get(f"/curation/{rid}").page
    assert '<h1>Relecture\u00a0: <span lang="en">Opening hours</span></h1>' in review, review
    # A title in the page's language marks nothing.
    page = cyril.get("/curation", headers={"Accept-Language": "en"})
    assert 'lang="en">Opening hours' not in page.page


def test_dashboard_charts_and_the_statement_with_its_csv(app):
    alice = browser(app, "alice")
    alice.get("/")
    alice.post("/ask", {"question": "Quand passe le camion des ordures ?"})
    page = alice.get("/dashboard").page
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg"') == 4  # 3 per day + per member
    said = re.findall(r"\u00a0: (\S+) (requêtes?)</title>", page)  # one a day, 0 or more
    assert len(said) == 30 and any(n != "0" for n, _ in said)
    assert all(n.isdigit() and (n in ("0", "1")) == (w == "requête") for n, w in said)
    assert 'role="img"' in page and "Énergie par membre" in page
    from datetime import UTC, datetime

    month = datetime.now(UTC).strftime("%Y-%m")
    assert "Ville A" in alice.get(f"/statement?month={month}").page
    csv = alice.get(f"/statement.csv?month={month}")
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.headers["cache-control"] == "no-store"  # private figures, as on the page
    lines = csv.content.decode("utf-8-sig").strip().splitlines()  # French by default
    assert lines[0].startswith("mois;membre;requetes") and len(lines) == 3  # Ville A, Ville C
    plain = alice.get(f"/statement.csv?month={month}&dialect=rfc4180").text
    assert plain.startswith("month,member,requests")
    carol = browser(app, "carol")
    assert carol.get("/statement").status_code == 403  # readers do not see the bill


def test_a_reader_s_dashboard_past_the_retention_says_the_ledger_forgot_who_asked(app):
    """The purge past [utility] retention_days sets the person of the ledger's older rows
    to 0 (migration 0023): a reader's dashboard over a year read "Your own usage, the last
    365 days." above days left empty before the retention, as if they had asked nothing.
    It now says the ledger forgot who made them, and where those requests still count; a
    period within the retention, and a member's whole, say nothing of it."""
    carol = browser(app, "carol")
    said = (
        "Le registre oublie qui a fait une requête 90 jours après elle (la durée de "
        "conservation de la charte), pas avant la fin de son mois\u00a0: vos requêtes plus "
        "anciennes comptent dans les chiffres de votre membre, plus dans les vôtres."
    )
    assert said in carol.get("/dashboard?days=365").page
    assert "Le registre oublie" not in carol.get("/dashboard?days=90").page
    english = carol.get("/dashboard?days=365", headers={"Accept-Language": "en"}).page
    assert "The ledger forgets who made a request 90 days after it" in english
    alice = browser(app, "alice")  # a cooperative admin: her member's whole, no one forgotten
    assert "Le registre oublie" not in alice.get("/dashboard?days=365").page


def test_the_statement_tells_a_member_admin_who_counts_the_server_at_rest(app, commune):
    # Found by an exploratory test: a member admin's statement told them « renseignez
    # [energy] idle_watts dans commune.toml », the operator's file, which they cannot open.
    make_person(commune, "mona", "Ville C", "member-admin")
    page = browser(app, "mona").get("/statement").page
    assert "La consommation du serveur au repos n'est pas comptée\u00a0: l'opérateur du" in page
    assert "renseignez" not in page


def test_a_key_is_shown_once_and_admins_grant_only_up_to_their_role(app, commune):
    make_person(commune, "mona", "Ville C", "member-admin")
    mona = browser(app, "mona")
    mona.get("/account")
    r = mona.post("/keys", {"label": "script", "password": PASSWORD})
    secret = re.search(r'<code id="new-key">(cmn_[^<]+)</code>', r.page).group(1)
    assert "Votre rétribution ce mois-ci" in r.page  # the whole account page, its payout too
    assert secret not in mona.get("/account").page  # shown once
    from commune.govern.members import authenticate

    with commune.engine.connect() as conn:
        assert authenticate(conn, secret).user == "mona"
    admin = mona.get("/admin").page
    assert "carol" in admin and "alice" not in admin  # only her member's people
    r = mona.post(
        "/admin/users",
        {"name": "eve", "member": "Ville C", "role": "cooperative-admin", "password": PASSWORD},
    )
    assert r.status_code == 403
    r = mona.post("/admin/users", {"name": "eve", "member": "Ville A", "role": "reader"})
    assert r.status_code == 404  # another member's people: not hers to see
    r = mona.post(
        "/admin/users",
        {"name": "eve", "member": "Ville C", "role": "contributor", "password": PASSWORD},
    )
    assert r.status_code == 303
    assert browser(app, "eve").get("/").status_code == 200


def test_no_page_shows_another_members_private_documents(app, commune, tmp_path):
    secret_dir = tmp_path / "secret"
    secret_dir.mkdir()
    (secret_dir / "budget.txt").write_text(
        "Le budget confidentiel de la piscine olympique prévoit douze millions d'euros.",
        encoding="utf-8",
    )
    commune.add(
        [secret_dir],
        collection="prive-a",
        licence="CC-BY-4.0",
        member="Ville A",
        visibility="private",
    )
    commune.set_visibility("prive-a", "private", "Ville A")
    doc = next(d for d in commune.documents("prive-a"))
    carol = browser(app, "carol")
    carol.get("/")
    assert "prive-a" not in carol.get("/commons").page
    assert "douze millions" not in carol.get("/commons?q=budget+piscine+olympique").page
    assert carol.get(f"/documents/{doc['id']}").status_code == 404
    assert carol.get("/commons?collection=prive-a").status_code == 404
    answer = carol.post("/ask", {"question": "Quel est le budget de la piscine olympique ?"})
    assert "douze millions" not in answer.page
    assert carol.get("/dashboard?member=Ville+A").status_code == 404
    # What waits for curation in it stays Ville A's business, even for Ville C's curators.
    (secret_dir / "budget.txt").write_text("Budget révisé : treize millions.", encoding="utf-8")
    commune.set_curation_rules("prive-a", 1, "curator")
    commune.add([secret_dir], collection="prive-a", licence="CC-BY-4.0")
    rid = next(p["id"] for p in commune.pending() if p["collection"] == "prive-a")
    make_person(commune, "victor", "Ville C", "curator")
    victor = browser(app, "victor")
    assert "treize" not in victor.get("/curation").page
    assert victor.get(f"/curation/{rid}").status_code == 404
    assert "treize" not in victor.get(f"/documents/{doc['id']}").page
    # Alice's member owns it: she sees it.
    alice = browser(app, "alice")
    assert "douze millions" in alice.get(f"/documents/{doc['id']}").page


@pytest.mark.parametrize(
    "path",
    [
        "/documents/99999999999999999999",
        "/documents/9223372036854775808",
        "/documents/0",
        "/commons?offset=99999999999999999999",
        "/curation/99999999999999999999",
        "/dashboard?days=99999999999999999999",
    ],
)
def test_numbers_out_of_range_in_an_address_are_refused_not_a_server_error(app, path):
    b = browser(app, "alice")
    r = b.get(path)
    assert r.status_code < 500, (path, r.status_code)
    assert "Traceback" not in r.text


def test_a_page_not_found_tells_a_reader_where_to_go_not_a_command(app):
    # /documents/999 said "list them with commune documents": a reader has no shell. The
    # library's error carries its own hint for the pages (CommuneError.field_hint, 22693eb).
    b = browser(app, "carol")
    fr = b.get("/documents/999", headers={"accept-language": "fr"})
    assert fr.status_code == 404 and "commune documents" not in fr.page
    assert "Aucun document 999 (vérifiez son numéro)." in fr.page
    en = b.get("/documents/999", headers={"accept-language": "en"})
    assert "No document 999 (check its number)." in en.page


def test_a_cli_hint_without_a_hint_for_the_pages_is_replaced_on_a_page_not_found():
    # An error with no field_hint (a library message written for the CLI alone) still
    # reaches a page without the command (render.for_the_web).
    from commune.web.render import for_the_web

    said = for_the_web("no revision 7 (list pending ones with commune review list)", 404)
    assert said == "no revision 7 (check the address, or start again from the Commons page)"
    assert for_the_web("no revision 7 (list them with commune review list)", 400) == (
        "no revision 7"
    )


def test_a_hint_naming_a_town_is_not_taken_for_a_cli_command():
    """The word "commune" is French for a town: a hint naming a member ("la commune de Nantes") is
    words for the reader, and stays; every command of the CLI is still known as one."""
    import click

    from commune.cli.group import cli
    from commune.web.render import CLI_COMMANDS, for_the_web

    assert cli.list_commands(click.Context(cli)) == sorted(CLI_COMMANDS)
    kept = "x (the admins of la commune de Nantes give them one, or the operator)"
    assert for_the_web(kept, 400) == kept
    for command in CLI_COMMANDS:
        assert for_the_web(f"x (see commune {command} --help)", 400) == "x"


def test_a_cli_hint_holding_parentheses_never_reaches_a_page(app, commune):
    """A hint with parentheses of its own was split at its last " (": the page kept the
    command ("commune visibility x V"), which a reader on the web cannot type. And a form's
    refusal showed a hint naming commands (no field_hint) as it was."""
    from commune.errors import CommuneError
    from commune.web.render import for_the_web

    hinted = CommuneError("x", "change it with: commune visibility x V (and --member M)")
    assert for_the_web(str(hinted), 400) == "x"
    assert for_the_web(str(hinted), 404) == (
        "x (check the address, or start again from the Commons page)"
    )
    owned = CommuneError("x (owner none)", "change it with: commune visibility x V (and --a)")
    assert for_the_web(str(owned), 400) == "x (owner none)"
    # A hint with parentheses and no command stays, as does a message's own parenthesis.
    kept = "fix the charter (see docs/charter.md (its steps)) and start again"
    assert for_the_web(f"no charter ({kept})", 400) == f"no charter ({kept})"
    assert for_the_web("a (b) c", 400) == "a (b) c"
    # A cooperative admin giving a key to a person of a member with admins of its own: the
    # form said « l'opérateur : commune key create, commune user password ».
    make_person(commune, "mona", "Ville C", "member-admin")
    alice = browser(app, "alice")
    alice.get("/admin")  # the form's page first, as a person comes to it
    for lang, then in (
        ("en", "(the admins of Ville C give them one, or the operator)"),
        ("fr", "(les administrateurs de Ville C lui en donnent un, ou l&#39;opérateur)"),
    ):
        r = alice.post(
            "/keys",
            {"user": "mona", "label": "x", "back": "admin", "password": PASSWORD},
            headers={"Accept-Language": lang},
        )
        assert r.status_code == 403 and 'id="key-error"' in r.text
        assert "commune key" not in r.text and "commune user" not in r.text, lang
        assert then in r.text, lang


def test_indented_code_blocks_show_as_code_in_the_document_view(app, commune, tmp_path):
    """Issue 24: Markdown's indented code blocks and a text file's indented lines were
    flattened into prose; fenced blocks and HTML listings already kept their lines."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "sauvegarde.md").write_text(
        "# Sauvegarder\n\nPour sauvegarder la base de la mairie, lancez :\n\n"
        "    commune backup --home /srv/commune\n\n    commune check --home /srv/commune\n\n"
        "- Une liste\n\n    dont ce paragraphe est la suite.\n",
        encoding="utf-8",
    )
    (docs / "restaurer.txt").write_text(
        "Restaurer la base\n\nPour restaurer la base de la mairie, tapez :\n"
        "    commune restore /srv/sauvegarde.tar\n      --verbose\n\nLe service reprend alors.\n",
        encoding="utf-8",
    )
    commune.add([docs], collection="mairie", licence="etalab-2.0")
    alice = browser(app, "alice")
    pages = {d["title"]: alice.get(f"/documents/{d['id']}").page for d in commune.documents()}
    # One block, its blank line inside kept (it would have cut the block in two).
    assert (
        '<pre class="code" tabindex="0"><code>commune backup --home /srv/commune\n \n'
        "commune check --home /srv/commune</code></pre>"
    ) in pages["Sauvegarder"]
    assert "<p>Pour sauvegarder la base de la mairie, lancez :</p>" in pages["Sauvegarder"]
    # A list item's own paragraph is indented too, and stays prose.
    assert "<p>dont ce paragraphe est la suite.</p>" in pages["Sauvegarder"]
    restore = pages["Restaurer la base"]
    assert "<p>Pour restaurer la base de la mairie, tapez :</p>" in restore
    assert (
        '<pre class="code" tabindex="0"><code>'
        "commune restore /srv/sauvegarde.tar\n  --verbose</code></pre>" in restore
    )
    answer = alice.post(
        "/ask", {"question": "Comment restaurer la base de la mairie ?", "mode": "extractive"}
    ).page
    assert '<code class="code" tabindex="0">commune restore /srv/sauvegarde.tar</code>' in answer


def test_an_announced_line_shows_that_its_listing_goes_on(app, commune, tmp_path, monkeypatch):
    """The answer's code branch shows the "[…]" after a line an announcement brings, when
    its listing goes on, as the answer's text does (answering/answer.py, `more`)."""
    from commune.answering import answer as answer_module

    page = tmp_path / "verifier.md"
    listing = "commune check --home /srv/commune\ncommune backup /srv/commune"
    page.write_text(
        f"# Vérifier\n\nPour vérifier le service de la mairie, tapez :\n\n```\n{listing}\n```\n",
        encoding="utf-8",
    )
    commune.add([page], collection="mairie", licence="etalab-2.0")
    # The announcement, then the listing's first line: as the ranker could choose them.
    monkeypatch.setattr(answer_module, "choosing", lambda *a, **k: iter([0, 1]))
    question = {"question": "Comment vérifier le service de la mairie ?", "mode": "extractive"}
    alice = browser(app, "alice")
    alice.get("/")  # the form's token
    answer = alice.post("/ask", question).page
    cite = re.search(r'<a class="cite" href="/documents/\d+#p\d+">\[1\]</a>', answer)
    assert cite, answer
    assert f"Pour vérifier le service de la mairie, tapez : {cite[0]} " in answer
    code = '<code class="code" tabindex="0">commune check --home /srv/commune</code>'
    assert f"{code} […] {cite[0]}" in answer


def test_reading_keeps_the_diff_lines_and_code_blocks(app, commune, tmp_path):
    """Issue 24: the curation diff showed as one run-on line, and code examples were flattened
    into prose in document views and answers."""
    import json

    listing = "commune serve --port 8000 --home /srv/commune\ncommune key create alice"
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "installer.md").write_text(
        f"# Installer\n\nPour lancer le service de la mairie :\n\n```\n{listing}\n```\n\n"
        "Le service répond alors sur le port choisi.\n\nPour le vérifier :\n\n"
        "```\n$ commune check --home /srv/commune\n```\n",
        encoding="utf-8",
    )
    commune.add([docs], collection="mairie", licence="etalab-2.0")
    alice = browser(app, "alice")
    doc = next(d for d in commune.documents() if d["title"] == "Installer")
    page = alice.get(f"/documents/{doc['id']}").page
    listed = f'<pre class="code" tabindex="0"><code>{listing}</code></pre>'
    assert listed in page  # its lines, as code
    # A command alone in its block, as an answer quotes it (answer.is_listing).
    alone = "<code>$ commune check --home /srv/commune</code></pre>"
    assert f'<pre class="code" tabindex="0">{alone}' in page
    assert "<p>Pour lancer le service de la mairie :</p>" in page  # the prose stays prose

    question = {"question": "Comment lancer le service de la mairie ?", "mode": "extractive"}
    answer = alice.post("/ask", question).page
    assert '<code class="code" tabindex="0">commune serve --port 8000' in answer

    # The streamed answer: its first event is a sentence, shown before the whole answer.
    stream = alice.post("/ask/stream", question).page
    events = re.findall(r"^event: (\w+)\ndata: (.*)$", stream, re.M)
    assert [kind for kind, _ in events][-1] == "answer" and len(events) >= 3
    assert all(kind == "delta" for kind, _ in events[:-1])
    first = json.loads(events[0][1])["text"]
    assert first == "`commune serve --port 8000 --home /srv/commune` [1]"
    assert '<code class="code" tabindex="0">commune serve' in json.loads(events[-1][1])["html"]

    commune.set_curation_rules("mairie", 1, "curator")
    (docs / "installer.md").write_text(
        f"# Installer\n\nPour lancer le service :\n\n```\n{listing}\ncommune check\n```\n",
        encoding="utf-8",
    )
    commune.add([docs], collection="mairie", licence="etalab-2.0")
    rid = next(p["id"] for p in commune.pending() if p["collection"] == "mairie")
    review = alice.get(f"/curation/{rid}").page
    diff = re.search(r'<pre class="diff">(.*?)</pre>', review, re.S)
    assert diff, review
    lines = diff.group(1).split("\n")
    assert len(lines) >= 4 and "" not in lines  # one line of the diff per line of the page
    assert any(line.startswith("<ins>+") and "commune check" in line for line in lines)
    assert any(line.startswith("<del>-") for line in lines)
    # Found by an exploratory test: the header said "revision (none)" and the revisions' ids
    # ("revision 14" for the page's "Révision 2"), in English on French pages.
    assert lines[:2] == ["<del>− la révision publiée</del>", "<ins>+ révision 2</ins>"]
    assert "Modifications par rapport à la révision publiée" in review
    english = alice.get(f"/curation/{rid}", headers={"Accept-Language": "en"}).page
    said = '<pre class="diff" lang="fr"><del lang="en">− the published revision</del>\n'
    assert said + '<ins lang="en">+ revision 2</ins>' in english  # its text is French
    history = alice.get(f"/documents/{doc['id']}").page
    assert "<del>− aucune révision avant celle-ci</del>\n<ins>+ révision 1</ins>" in history


def test_chart_labels_never_crowd_the_axis():
    """Issue 24: labels about 5 px and overlapping. At most six under the axis, short enough
    for their slot; the bars' titles keep the whole name."""
    from commune.web import i18n
    from commune.web.charts import MAX_LABELS, bars

    for n in (7, 30, 90, 365):
        svg = bars([(f"2026-{1 + i // 28:02d}-{1 + i % 28:02d}", i) for i in range(n)], "t", "Wh")
        under = re.findall(r'class="axis">(\d\d-\d\d)</text>', svg)
        assert 1 <= len(under) <= MAX_LABELS, (n, under)
    members = [(f"Communauté de communes numéro {i}", float(i)) for i in range(12)]
    i18n.use("en")
    svg = bars(members, "t", "Wh")
    labels = re.findall(r'text-anchor="middle" class="axis">([^<]*)</text>', svg)
    assert 1 <= len(labels) <= MAX_LABELS and all(len(x) <= 9 for x in labels)
    assert "<title>Communauté de communes numéro 11: " in svg


def test_chart_figures_are_written_as_the_tables_beside_them():
    """Found by an exploratory test: the French dashboard's charts said "0.0025" and "2.0
    requêtes" beside tables saying "0,0025" and "2"."""
    from commune.web import i18n
    from commune.web.charts import bars

    points = [("2026-12-01", 0.0025), ("2026-12-02", 1234.6), ("2026-12-03", 0.00001)]
    i18n.use("fr")
    svg = bars(points, "t", "Wh")
    assert "<title>2026-12-01\u00a0: 0,0025 Wh</title>" in svg
    assert "<title>2026-12-02\u00a0: 1\u202f235 Wh</title>" in svg
    assert "<title>2026-12-03\u00a0: 0,00001 Wh</title>" in svg  # not 1e-05
    axis = re.findall(r'text-anchor="end" dominant-baseline="middle" class="axis">([^<]*)<', svg)
    assert axis == ["0", "1\u202f000", "2\u202f000"]
    svg = bars([("2026-12-01", 0.004)], "t", "Wh")
    assert re.findall(r'class="axis">([^<]*)<', svg)[:3] == ["0", "0,0025", "0,005"]
    i18n.use("en")
    svg = bars(points, "t", "Wh")
    assert "<title>2026-12-01: 0.0025 Wh</title>" in svg and "1,235 Wh</title>" in svg


def test_a_search_page_is_one_request_of_the_quota_and_one_ledger_row(app, commune):
    from sqlalchemy import update

    from commune.store.schema import users

    with commune.engine.begin() as conn:
        conn.execute(update(users).where(users.c.name == "carol").values(requests_per_day=2))
    carol = browser(app, "carol")
    before = usage_rows(commune)
    assert carol.get("/commons?q=ordures").status_code == 200
    assert usage_rows(commune) == before + 1
    assert carol.get("/commons?q=déchetterie").status_code == 200  # the second of two
    assert carol.get("/commons").status_code == 429
    assert usage_rows(commune) == before + 2


def test_refusals_on_french_pages_are_french_and_name_what_is_wrong(app):
    carol = browser(app, "carol")
    fr = {"Accept-Language": "fr"}
    said = {
        "/dashboard?days=abc": (
            422,
            "Une valeur de cette adresse n'est pas valide (le nombre de jours\u00a0: un nombre "
            "entier est attendu)\u00a0: vérifiez le lien, ou repartez du menu",
        ),
        "/documents/abc": (
            422,
            "Une valeur de cette adresse n'est pas valide (le numéro du document\u00a0: un "
            "nombre entier est attendu)",
        ),
        # Found by an exploratory test: clamped, "-5" read "les 1 derniers jours".
        "/dashboard?days=-5": (
            422,
            "Une valeur de cette adresse n'est pas valide (le nombre de jours\u00a0: doit être "
            "au moins 1)",
        ),
        "/dashboard?days=100000": (422, "(le nombre de jours\u00a0: doit être au plus 366)"),
        "/dashboard?member=Ville+A": (404, "Aucun membre nommé 'Ville A' visible par carol"),
        "/commons?q=" + "x" * 2100: (400, "La recherche fait 2100 caractères"),
        "/statement": (403, "votre rôle est lecteur"),
    }
    for path, (status, words) in said.items():
        r = carol.get(path, headers=fr)
        assert r.status_code == status and words in r.page, (path, r.status_code, r.page[-800:])
        assert "Input should be" not in r.page and "reader" not in r.page
    english = carol.get("/dashboard?days=abc", headers={"Accept-Language": "en"})
    assert (
        "A value of this address is not valid (the number of days: an integer is expected): "
        "check the link, or start again from the menu" in english.page
    )
    # One day is "the last day", in both languages; a number of days the menu does not offer
    # is shown chosen in it.
    one = carol.get("/dashboard?days=1", headers=fr).page
    assert "Votre propre usage, le dernier jour." in one and '<option value="1" selected>' in one
    assert "Votre propre usage, les 7 derniers jours." in carol.get("/dashboard?days=7").page
    one = carol.get("/dashboard?days=1", headers={"Accept-Language": "en"}).page
    assert "Your own usage, the last day." in one


def test_a_session_opened_by_a_key_ends_with_the_key(app, commune):
    """A leaked key turned into a session kept web access for 12 hours after its revocation."""
    key = make_key(commune, "victor", "Ville V", "reader")
    b = Browser(app)
    b.get("/signin")
    assert b.post("/signin", {"key": key, "next": "/"}).status_code == 303
    assert b.get("/account").status_code == 200
    [row] = [k for k in commune.admin.keys() if k["user"] == "victor"]
    commune.admin.revoke_key(row["id"])
    assert b.get("/account").status_code == 303  # to the sign-in page
    signed = Browser(app)  # a password session of the same user is not the key's
    commune.admin.set_password("victor", PASSWORD)
    assert signed.sign_in("victor").status_code == 303
    assert signed.get("/account").status_code == 200


def test_a_key_that_matched_says_why_it_does_not_sign_in(app, commune):
    # Found by an exploratory test: a peer cooperative's key read "Clé d'API incorrecte.",
    # and its admin looked for a typo. A key that matched says why; a wrong one, no more.
    _, secret = commune.admin.issue_peer("coop-b")
    key = make_key(commune, "victor", "Ville V", "reader")
    [row] = [k for k in commune.admin.keys() if k["user"] == "victor"]
    commune.admin.revoke_key(row["id"])
    b = Browser(app)
    b.get("/signin")
    for sent, said in (
        (secret, "cette clé est celle d'une coopérative pair"),
        (key, "cette clé d'API a été révoquée"),
        ("cmn_nothere_nothing", "Clé d'API incorrecte."),
    ):
        r = b.post("/signin", {"key": sent, "next": "/"}, headers={"Accept-Language": "fr"})
        assert r.status_code == 401 and said in r.page, (sent, r.page[-600:])


def test_a_password_changed_or_reset_signs_out_the_other_sessions(app, commune):
    here, elsewhere = Browser(app), Browser(app)
    assert (
        here.sign_in("carol").status_code == 303 and elsewhere.sign_in("carol").status_code == 303
    )
    here.get("/account")
    new = "une phrase de passe toute neuve 2026"
    r = here.post("/account/password", {"current": PASSWORD, "new": new})
    assert r.status_code == 303 and r.headers["location"] == "/account?done=password"
    assert here.get("/account").status_code == 200  # the changer stays signed in
    assert elsewhere.get("/account").status_code == 303  # the other session ended
    commune.admin.set_password("carol", "et encore une autre phrase de passe 2026")
    assert here.get("/account").status_code == 303  # an admin's reset ends every session


def test_an_error_page_leads_someone_signed_out_to_the_sign_in_page(app):
    """Found mistyping an address before signing in, and sending a sign-in form that had
    expired: the page's one link was « Retour à la question », a box they had not reached."""
    anonymous = Browser(app)
    page = anonymous.get("/nulle-part", headers={"accept": "text/html"}).page
    assert '<a href="/signin">Aller à la page de connexion</a>' in page, page
    assert "Retour à la question" not in page
    anonymous.get("/signin")
    r = anonymous.post("/signin", {"user": "carol", "password": PASSWORD, "csrf": "old"})
    assert r.status_code == 403 and '<a href="/signin">Aller à la page de connexion</a>' in r.page
    signed_in = browser(app, "carol").get("/nulle-part", headers={"accept": "text/html"}).page
    assert '<a href="/">Retour à la question</a>' in signed_in


def test_a_mistyped_address_or_a_forms_address_is_a_page_in_the_readers_language(app):
    """They were the API's JSON, in English, pointing a citizen at /docs."""
    b = Browser(app)
    html_only = {"Accept": "text/html,application/xhtml+xml"}
    r = b.get("/nope", headers=html_only)
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert '<html lang="fr"' in r.text and "Rien à cette adresse" in r.page
    assert "/docs" not in r.page
    r = b.get("/ask", headers={**html_only, "Accept-Language": "en"})
    assert r.status_code == 405 and '<html lang="en"' in r.text
    assert "reached through its form" in r.page
    # A program asking the API keeps its JSON.
    r = b.get("/api/nope", headers=html_only)
    assert r.status_code == 404 and r.json()["code"]
    assert b.get("/nope").headers["content-type"].startswith("application/json")


def test_the_curation_page_confirms_only_an_outcome_a_review_can_have(app):
    b = browser(app, "alice")
    assert "Décision enregistrée" in b.get("/curation?done=published").page
    address = "/curation?done=Votre+compte+est+suspendu"
    forged = b.get(address).page
    # Not shown: only the language buttons' return address carries it, as it was.
    shown = forged.replace(f'name="next" value="{address}"', "")
    assert "suspendu" not in shown and "Décision enregistrée" not in forged


def test_an_approval_that_publishes_nothing_yet_says_so_and_a_second_one_is_refused(app, commune):
    # Found by an exploratory test: under a rule of two approvals, a curator's approval
    # came back as « Décision enregistrée : proposée. », the status the revision had before
    # it; approving again read the same, and counted nothing.
    commune.set_curation_rules("mairie", 2, "curator")
    make_person(commune, "dora", "Ville A", "contributor")
    make_person(commune, "cyril", "Ville A", "curator")
    dora = browser(app, "dora")
    dora.get("/contribute")
    files = [("files", ("noel.txt", "Le marché de Noël ouvre en décembre.".encode(), "text/plain"))]
    dora.post("/contribute", {"collection": "mairie", "licence": "CC-BY-4.0"}, files=files)
    cyril = browser(app, "cyril")
    rid = int(re.search(r'href="/curation/(\d+)"', cyril.get("/curation").page).group(1))
    r = cyril.post(f"/curation/{rid}", {"decision": "approve", "reason": "vu"})
    assert r.status_code == 303 and r.headers["location"] == "/curation?done=approved"
    page = cyril.get(r.headers["location"]).page
    assert "Votre approbation est enregistrée. La révision n'est pas encore publiée" in page
    assert "proposée." not in page and "approbations\u00a0: 1 sur 2" in page
    cyril.get(f"/curation/{rid}")
    r = cyril.post(f"/curation/{rid}", {"decision": "approve", "reason": "vu encore"})
    assert r.status_code == 400 and 'role="alert"' in r.page
    assert f"Vous avez déjà approuvé la révision {rid} (approbations\u00a0: 1 sur 2)" in r.page


def test_the_answer_card_says_how_its_energy_was_obtained():
    """A figure mostly modelled by EcoLogits read "(estimated)", a RAPL share "(measured)",
    and EcoLogits' range was never shown."""
    from commune.web import i18n
    from commune.web.render import environment

    def energy(**e: object) -> str:
        answer = {"found": True, "text": "Oui.", "mode": "generate", "energy": e}
        html = environment().get_template("_answer.html").render(answer=answer)
        return html[html.index('id="energy"') :].split("</p>")[0]

    i18n.use("en")
    modelled = energy(
        wh=0.004,
        gco2e=0.0002,
        measured=False,
        method="CPU time x 12 W per core (estimated) + ecologits 0.11.3, modelled: gpu",
        wh_range=[0.003, 0.005],
    )
    assert "the model's part modelled by EcoLogits" in modelled
    assert "between 3" in modelled and "5" in modelled
    shared = energy(wh=0.001, gco2e=0.0, measured=True, method="RAPL (37%) (measured, shared)")
    assert "measured, this request's share" in shared
    i18n.use("fr")
    assert "mesurée, la part de cette requête" in energy(
        wh=0.001, gco2e=0.0, measured=True, method="RAPL (37%) (measured, shared)"
    )


def test_an_answer_whose_remote_generation_was_not_estimated_says_so_on_its_card():
    """A model served elsewhere whose energy could not be modelled (its parameters unset,
    ecologits missing): the card read "(estimated)", or "the model's part modelled by
    EcoLogits" where the reason named ecologits, for a figure without the model's part."""
    from commune.web import i18n
    from commune.web.render import environment

    def card(method: str) -> str:
        energy = {"wh": 0.004, "gco2e": 0.0002, "measured": False, "method": method}
        answer = {"found": True, "text": "Oui.", "mode": "generate", "energy": energy}
        html = environment().get_template("_answer.html").render(answer=answer)
        return html[html.index('id="energy"') :].split("</p>")[0]

    here = "CPU time x 12 W per core, a configured figure (estimated)"
    for why in (
        "set models.mistral.active_params_b and total_params_b",
        "remote generation cannot be estimated: the ecologits package is not installed",
    ):
        method = f"{here} + remote generation by mistral not estimated: {why}"
        i18n.use("en")
        said = card(method)
        assert "this server's part only, estimated: the model's part is not counted" in said
        assert "modelled by EcoLogits" not in said, said
        i18n.use("fr")
        said = card(method)
        assert (
            "la part de ce serveur seule, estimée\u00a0: celle du modèle n'est pas comptée" in said
        )
    i18n.use("en")


def test_the_pages_refusals_name_no_command_of_the_cli(app, commune):
    # Found by an exploratory test: the contribute page answered "give a shorter --collection",
    # the admin page "list them with commune member list": a person on a page has neither.
    alice = browser(app, "alice")
    alice.get("/contribute")
    r = alice.post(
        "/contribute",
        {"collection": "x" * 300},
        files=[("files", ("avis.txt", b"Avis de coupure d'eau lundi matin.", "text/plain"))],
    )
    said = _form(r.page, "/contribute")
    assert r.status_code == 400 and "donnez une collection au nom plus court" in said
    alice.get("/admin")
    r = alice.post("/admin/users", {"name": "eve", "member": "Nulle part", "role": "reader"})
    said = _form(r.page, "/admin/users")
    assert r.status_code == 404 and "vérifiez le nom du membre" in said
    r = alice.post("/admin/roles", {"user": "personne", "role": "curator"})
    said = re.search(r'id="role-error">(.*?)<', r.page, re.S).group(1)
    assert r.status_code == 404 and "vérifiez le nom, ou ajoutez d'abord la personne" in said
    r = alice.get("/curation/12345")
    assert r.status_code == 404 and "la page Curation liste celles en attente" in r.page
    for page in (said, r.page):
        assert "commune " not in page.replace("commune.", "") and " --" not in page


def test_a_member_admin_removes_a_person_whose_session_ends_at_once(app, commune):
    """People could not be removed, only their keys revoked one by one: a clerk who left kept
    their account and their open sessions."""
    make_person(commune, "mona", "Ville C", "member-admin")
    make_person(commune, "paul", "Ville C", "contributor")
    paul = browser(app, "paul")
    assert paul.get("/account").status_code == 200
    mona = browser(app, "mona")
    page = mona.get("/admin").page
    assert 'aria-label="Retirer paul"' in page and 'aria-label="Retirer mona"' not in page
    r = mona.post("/admin/users/remove", {"user": "paul", "reason": " "})
    assert r.status_code == 400 and "Retirer quelqu'un demande une raison" in r.page
    r = mona.post("/admin/users/remove", {"user": "alice", "reason": "x"})
    assert r.status_code == 404  # another member's person: not hers to see
    r = mona.post(
        "/admin/users/remove",
        {"user": "paul", "reason": "a quitté l'association", "confirmed": "1"},
    )
    assert r.status_code == 303 and r.headers["location"] == "/admin?done=removed"
    page = mona.get("/admin?done=removed").page
    assert "Personne retirée" in page and "paul" not in page
    assert paul.get("/account").status_code == 303  # to the sign-in page
    assert Browser(app).sign_in("paul").status_code == 401


def test_the_contribute_page_says_a_new_collection_is_private_to_the_members_people(app, commune):
    """An upload under a new name started a collection every member read, and the page said
    only "a new name to start a collection"."""
    make_person(commune, "dora", "Ville A", "contributor")
    dora = browser(app, "dora")
    page = dora.get("/contribute").page
    assert "un nouveau nom pour créer une collection de Ville A\u00a0: seules ses personnes" in page
    assert "mairie (partagée)" in page  # an existing collection says who reads it
    r = dora.post(
        "/contribute",
        {"collection": "brouillons-ville-a", "licence": "CC-BY-4.0"},
        files=[("files", ("budget.txt", b"Projet de budget 2027.", "text/plain"))],
    )
    assert r.status_code == 200, r.page[-400:]
    [started] = [c for c in commune.collections() if c["name"] == "brouillons-ville-a"]
    assert (started["visibility"], started["owner"]) == ("private", "Ville A")
    assert "brouillons-ville-a" not in browser(app, "carol").get("/commons").page


def test_a_persons_caps_read_as_the_page_writes_numbers_and_save_as_shown(app, commune):
    """A town hall's admin typed « 1,5 » Wh for a clerk: the field showed it back as « 1.5 »,
    the English way, beside « 2,5 » in the members' table. A cap of 2 000 000 tokens is shown
    grouped, and the row sent back as shown keeps every cap."""
    import re

    make_person(commune, "mona", "Ville C", "member-admin")
    make_person(commune, "paul", "Ville C", "contributor")
    mona = browser(app, "mona")
    mona.get("/admin")
    typed = {"user": "paul", "requests_per_day": "", "tokens_per_month": "2000000"}
    r = mona.post("/admin/users/caps", typed | {"wh_per_month": "1,5"})
    assert r.status_code == 303
    page = mona.get("/admin").page
    shown = dict(
        re.findall(r'name="(\w+_per_\w+)"[^>]*title="[^"]* de paul" value="([^"]*)"', page)
    )
    assert shown == {
        "requests_per_day": "",
        "tokens_per_month": "2\u202f000\u202f000",
        "wh_per_month": "1,5",
    }, shown
    r = mona.post("/admin/users/caps", {"user": "paul", **shown})  # sent back as shown
    assert r.status_code == 303, r.page
    [paul] = [u for u in commune.admin.people() if u["name"] == "paul"]
    assert (paul["tokens_per_month"], paul["wh_per_month"]) == (2000000, 1.5)
    english = {"Accept-Language": "en"}
    mona.post("/language", {"language": "en", "next": "/admin"})
    page = mona.get("/admin", headers=english).page
    shown = dict(
        re.findall(r'name="(\w+_per_\w+)"[^>]*title="[^"]* of paul" value="([^"]*)"', page)
    )
    assert shown["tokens_per_month"] == "2,000,000" and shown["wh_per_month"] == "1.5", shown
    r = mona.post("/admin/users/caps", {"user": "paul", **shown}, headers=english)
    assert r.status_code == 303, r.page
    [paul] = [u for u in commune.admin.people() if u["name"] == "paul"]
    assert (paul["tokens_per_month"], paul["wh_per_month"]) == (2000000, 1.5)


def test_a_cap_typed_the_other_way_is_never_stored_a_thousand_times_off(app, commune):
    """The English page took every comma for a group: « 1,5 » Wh, as a French admin types it,
    stored 15. And « 1.000 » on the French page stored 1 Wh for an admin who meant a
    thousand (the dot groups thousands in many French hands), « 1,000 » alike: the field
    names both readings, the cap stays. What the page writes reads back as written, for
    every cap, in both languages."""
    import re

    make_person(commune, "mona", "Ville C", "member-admin")
    make_person(commune, "paul", "Ville C", "contributor")
    mona = browser(app, "mona")

    def paul() -> tuple:  # type: ignore[type-arg]
        [row] = [u for u in commune.admin.people() if u["name"] == "paul"]
        return row["requests_per_day"], row["tokens_per_month"], row["wh_per_month"]

    empty = {"user": "paul", "requests_per_day": "", "tokens_per_month": ""}
    for language in ("fr", "en"):
        said = {"Accept-Language": language}
        mona.post("/language", {"language": language, "next": "/admin"})
        mona.get("/admin", headers=said)
        r = mona.post("/admin/users/caps", empty | {"wh_per_month": "1,5"}, headers=said)
        assert r.status_code == 303 and paul() == (None, None, 1.5), (language, paul())
    english = {"Accept-Language": "en"}
    for typed, readings in (("1.000", "1 or 1,000"), ("2.500", "2.5 or 2,500")):
        r = mona.post("/admin/users/caps", empty | {"wh_per_month": typed}, headers=english)
        assert r.status_code == 400 and f"'{typed}' could be {readings}:" in r.page, r.page
        assert paul() == (None, None, 1.5)
    mona.post("/language", {"language": "fr", "next": "/admin"})
    for typed, readings in (("1.000", "1 ou 1\u202f000"), ("1,000", "1 ou 1\u202f000")):
        mona.get("/admin")
        r = mona.post("/admin/users/caps", empty | {"tokens_per_month": "", "wh_per_month": typed})
        assert r.status_code == 400, r.page
        assert f"«\u00a0{typed}\u00a0» peut se lire {readings}\u00a0:" in r.page, r.page
        assert paul() == (None, None, 1.5)
    # Sent back as shown, each kind of cap keeps its value, and no cap stays none.
    for caps in ((1125, 2_000_000, 1.125), (7, None, 0.001), (None, 1000, 1234.5)):
        names = ("requests_per_day", "tokens_per_month", "wh_per_month")
        commune.admin.set_user_quotas("paul", dict(zip(names, caps, strict=True)))
        for language in ("fr", "en"):
            said = {"Accept-Language": language}
            mona.post("/language", {"language": language, "next": "/admin"})
            page = mona.get("/admin", headers=said).page
            shown = dict(
                re.findall(r'name="(\w+_per_\w+)"[^>]*(?:de|of) paul" value="([^"]*)"', page)
            )
            r = mona.post("/admin/users/caps", {"user": "paul", **shown}, headers=said)
            assert r.status_code == 303 and paul() == caps, (language, shown, paul())


def test_a_member_admin_changes_a_persons_caps_on_the_administration_page(app, commune):
    """`commune user set` had no form: member admins, who mostly use the pages, could not
    lower a heavy user's caps. The page's form makes the same library call, with the same
    rule, refusals and audit row."""
    from commune.store.audit import entries

    make_person(commune, "mona", "Ville C", "member-admin")
    make_person(commune, "paul", "Ville C", "contributor")
    mona = browser(app, "mona")
    page = mona.get("/admin").page
    assert 'aria-label="Changer les plafonds de paul"' in page
    assert 'aria-label="Changer les plafonds de alice"' not in page  # not hers to see
    r = mona.post(
        "/admin/users/caps",
        {"user": "paul", "requests_per_day": "100", "tokens_per_month": "", "wh_per_month": "12,5"},
    )
    assert r.status_code == 303 and r.headers["location"] == "/admin?done=caps"
    [paul] = [u for u in commune.admin.people() if u["name"] == "paul"]
    assert (paul["requests_per_day"], paul["tokens_per_month"], paul["wh_per_month"]) == (
        100,
        None,
        12.5,
    )
    page = mona.get("/admin?done=caps").page
    assert "Plafonds changés." in page and 'value="100"' in page and 'value="12,5"' in page
    with commune.engine.connect() as conn:
        last = entries(conn, limit=1000)[-1]
    assert (last["actor"], last["action"], last["subject"]) == ("mona", "user-quotas", "user paul")
    # Refused as the CLI refuses, in the form, what was typed kept, nothing changed; the cap
    # named as the page names it and what to do said (walking the French pages, it read
    # « requests_per_day doit être supérieur à 0, reçu -3 », « … au plus 1e+15 … »).
    for typed, said, status in (
        (
            {"requests_per_day": "-3"},
            "Requêtes par jour de paul\u00a0: «\u00a0-3\u00a0» n'est pas supérieur à 0\u00a0: "
            "donnez un nombre supérieur à 0, ou laissez le champ vide pour aucun plafond.",
            400,
        ),
        (
            {"wh_per_month": "-1,5"},
            "Wh par mois de paul\u00a0: «\u00a0-1,5\u00a0» n'est pas supérieur",
            400,
        ),
        (
            {"tokens_per_month": "99999999999999999"},
            "Jetons par mois de paul\u00a0: «\u00a099999999999999999\u00a0» dépasse le plus "
            "grand plafond, 1\u202f000\u202f000\u202f000\u202f000\u202f000\u00a0: donnez un "
            "nombre plus petit",
            400,
        ),
        (
            {"requests_per_day": "beaucoup"},
            # Its field named, as for "-3": it read « « beaucoup » n'est pas un nombre
            # entier », whichever of the row's three fields it was.
            "Requêtes par jour de paul\u00a0: «\u00a0beaucoup\u00a0» n'est pas un nombre entier",
            400,
        ),
        (
            {"wh_per_month": "x"},
            "Wh par mois de paul\u00a0: «\u00a0x\u00a0» n'est pas un nombre\u00a0:",
            400,
        ),
        # NaN is no number: it was said to be « above the largest cap ».
        ({"wh_per_month": "nan"}, "«\u00a0nan\u00a0» n'est pas un nombre\u00a0:", 400),
    ):
        form = {"user": "paul", "requests_per_day": "", "tokens_per_month": "", "wh_per_month": ""}
        r = mona.post("/admin/users/caps", form | typed)
        assert r.status_code == status
        alert = re.search(r'id="caps-error">(.*?)<', r.page, re.S).group(1)
        assert said in alert
        assert f'value="{next(iter(typed.values()))}"' in r.page
    r = mona.post(
        "/admin/users/caps",
        {"user": "alice", "requests_per_day": "1", "tokens_per_month": "", "wh_per_month": ""},
    )
    assert r.status_code == 404 and "Aucun utilisateur nommé 'alice'" in r.page
    [paul] = [u for u in commune.admin.people() if u["name"] == "paul"]
    assert paul["requests_per_day"] == 100
    assert [u["requests_per_day"] for u in commune.admin.people() if u["name"] == "alice"] == [None]
    # In English too.
    english = mona.get("/admin", headers={"Accept-Language": "en"})
    assert "Change the caps of paul" in english.page


def test_a_member_admin_shares_their_members_collection_on_the_administration_page(app, commune):
    """A collection an upload started stayed private until the operator shared it from the
    host; the contribute page said so. Its member's admins share it on the administration
    page now, by the rule `commune visibility --as` follows, and the contribute page says
    who can."""
    from commune.store.audit import entries

    make_person(commune, "mona", "Ville C", "member-admin")
    make_person(commune, "dora", "Ville C", "contributor")
    make_person(commune, "bea", "Ville B", "member-admin")
    dora = browser(app, "dora")
    page = dora.get("/contribute").page
    assert "jusqu'à ce qu'un de ses administrateurs la partage depuis la page" in page
    assert "opérateur" not in page
    r = dora.post(
        "/contribute",
        {"collection": "brouillons-c", "licence": "CC-BY-4.0"},
        files=[("files", ("budget.txt", b"Projet de budget 2027.", "text/plain"))],
    )
    assert r.status_code == 200, r.page[-400:]
    assert "brouillons-c" not in browser(app, "bea").get("/admin").page  # not hers to see

    mona = browser(app, "mona")
    page = mona.get("/admin").page
    assert 'aria-label="Changer qui lit brouillons-c"' in page
    assert 'aria-label="Changer qui lit mairie"' not in page  # the cooperative's: not hers
    row = re.search(r'<select id="visibility-\d+" name="visibility".*?</select>', page, re.S)
    assert row and 'value="public"' not in row.group(0)  # public: a cooperative admin's
    r = mona.post(
        "/admin/collections/visibility", {"collection": "brouillons-c", "visibility": "public"}
    )
    assert r.status_code == 403
    said = re.search(r'id="visibility-error">(.*?)<', r.page, re.S).group(1)
    assert "Rendre une collection publique" in said
    r = mona.post(
        "/admin/collections/visibility", {"collection": "brouillons-c", "visibility": "shared"}
    )
    assert r.status_code == 303 and r.headers["location"] == "/admin?done=visibility"
    assert "Les lecteurs de la collection ont changé." in mona.get("/admin?done=visibility").page
    [c] = [c for c in commune.collections() if c["name"] == "brouillons-c"]
    assert (c["visibility"], c["owner"]) == ("shared", "Ville C")
    assert "brouillons-c" in browser(app, "bea").get("/commons").page
    with commune.engine.connect() as conn:
        last = entries(conn, limit=1000)[-1]
    assert (last["actor"], last["action"], last["subject"]) == (
        "mona",
        "visibility",
        "collection brouillons-c",
    )
    # Another member's admin may not close it: refused in the form, nothing changed.
    bea = browser(app, "bea")
    bea.get("/admin")
    r = bea.post(
        "/admin/collections/visibility", {"collection": "brouillons-c", "visibility": "private"}
    )
    assert r.status_code == 403 and "La collection appartient à Ville C" in r.page
    # A cooperative admin makes the cooperative's collection public.
    alice = browser(app, "alice")
    alice.get("/admin")
    r = alice.post(
        "/admin/collections/visibility", {"collection": "mairie", "visibility": "public"}
    )
    assert r.status_code == 303
    assert [c["visibility"] for c in commune.collections() if c["name"] == "mairie"] == ["public"]
    assert [c["visibility"] for c in commune.collections() if c["name"] == "brouillons-c"] == [
        "shared"
    ]


def test_a_member_admin_sets_their_members_curation_rules_on_the_administration_page(app, commune):
    """Only `commune curation --as` set a collection's curation rules, on the operator's
    host: a member admin asked the operator to change their own member's. The
    administration page offers the collections policy.can_set_rules lets them set, through
    the same library call, and says what the change published."""
    from commune.store.audit import entries

    make_person(commune, "mona", "Ville C", "member-admin")
    make_person(commune, "dora", "Ville C", "contributor")
    make_person(commune, "bea", "Ville B", "member-admin")
    dora = browser(app, "dora")

    def upload(name: str, text: bytes) -> None:
        dora.get("/contribute")  # its form's token
        r = dora.post(
            "/contribute",
            {"collection": "brouillons-c", "licence": "CC-BY-4.0"},
            files=[("files", (name, text, "text/plain"))],
        )
        assert r.status_code == 200, r.page[-400:]

    def rules_of(name: str) -> tuple[int, str]:
        from commune.govern.policy import OPERATOR

        [c] = [c for c in commune.curation_rules(OPERATOR) if c["name"] == name]
        return c["approvals"], c["role"]

    upload("budget.txt", b"Projet de budget 2027.")
    mona = browser(app, "mona")
    page = mona.get("/admin").page
    assert "Comment les contributions sont approuvées" in page
    assert 'aria-label="Changer la façon dont brouillons-c est approuvée"' in page
    assert 'aria-label="Changer la façon dont mairie est approuvée"' not in page  # cooperative's
    # Approvers up to her own role only (curation.set_rules refuses one above it).
    rules = page.split('action="/admin/collections/rules"', 1)[1]
    form = re.search(r'name="collection" value="brouillons-c">(.*?)</form>', rules, re.S)
    offered = re.findall(r'<option value="([a-z-]+)"', form.group(1))
    assert offered == ["curator", "member-admin"], offered
    # Not a number: said in its form, in French, nothing changed.
    r = mona.post(
        "/admin/collections/rules",
        {"collection": "brouillons-c", "approvals": "deux", "role": "curator"},
    )
    assert r.status_code == 400
    said = re.search(r'id="rules-error">(.*?)<', r.page, re.S).group(1)
    assert "n'est pas un nombre entier" in said
    assert rules_of("brouillons-c") == (0, "curator")
    # Left empty (a field cleared): said as such, not « «  » n'est pas un nombre entier ».
    r = mona.post(
        "/admin/collections/rules",
        {"collection": "brouillons-c", "approvals": " ", "role": "curator"},
    )
    said = re.search(r'id="rules-error">(.*?)<', r.page, re.S).group(1)
    assert r.status_code == 400 and said == (
        "Donnez le nombre d'approbations nécessaires, 0 pour aucune."
    ), said
    assert rules_of("brouillons-c") == (0, "curator")
    r = mona.post(
        "/admin/collections/rules",
        {"collection": "brouillons-c", "approvals": "11", "role": "curator"},
    )
    assert r.status_code == 400 and rules_of("brouillons-c") == (0, "curator")

    r = mona.post(
        "/admin/collections/rules",
        {"collection": "brouillons-c", "approvals": "2", "role": "member-admin"},
    )
    assert r.status_code == 303 and r.headers["location"] == "/admin?done=rules&released=0"
    assert "Les règles de curation ont changé." in mona.get(r.headers["location"]).page
    assert rules_of("brouillons-c") == (2, "member-admin")
    with commune.engine.connect() as conn:
        last = entries(conn, limit=1000)[-1]
    assert (last["actor"], last["action"], last["subject"]) == (
        "mona",
        "curation-rules",
        "collection brouillons-c",
    )

    # A contribution now waits for two approvals; lowering the rule to none publishes it.
    upload("voirie.txt", b"Plan de voirie 2027.")
    assert any(r["collection"] == "brouillons-c" for r in commune.pending())
    r = mona.post(
        "/admin/collections/rules",
        {"collection": "brouillons-c", "approvals": "0", "role": "curator"},
    )
    assert r.headers["location"] == "/admin?done=rules&released=1"
    page = mona.get(r.headers["location"]).page
    assert "1 révision en attente qu'elles ne retiennent plus est publiée." in page
    assert not any(r["collection"] == "brouillons-c" for r in commune.pending())

    # Another member's admin is not offered it, and is refused it: nothing changed.
    bea = browser(app, "bea")
    assert "brouillons-c" not in bea.get("/admin").page
    r = bea.post(
        "/admin/collections/rules",
        {"collection": "brouillons-c", "approvals": "3", "role": "curator"},
    )
    assert r.status_code in (403, 404) and rules_of("brouillons-c") == (0, "curator")
    # The cooperative's admin sets the cooperative's collection's.
    alice = browser(app, "alice")
    assert 'aria-label="Changer la façon dont mairie est approuvée"' in alice.get("/admin").page
    r = alice.post(
        "/admin/collections/rules", {"collection": "mairie", "approvals": "1", "role": "curator"}
    )
    assert r.status_code == 303 and rules_of("mairie") == (1, "curator")


def test_the_rules_form_keeps_an_approver_role_the_page_does_not_offer(app, commune):
    """`commune curation --role` takes any role (a contributor approving, for the operator's
    own reasons), the page's list offers curator and above: the form showed curator selected
    for a collection approved by contributors, and changing only the approvals on it raised
    the role to curator, unsaid."""
    commune.set_curation_rules("mairie", 2, "contributor")
    alice = browser(app, "alice")
    page = alice.get("/admin").page
    rules = page.split('action="/admin/collections/rules"', 1)[1]
    form = re.search(r'name="collection" value="mairie">(.*?)</form>', rules, re.S).group(1)
    selected = re.findall(r'<option value="([a-z-]+)" selected>', form)
    assert selected == ["contributor"], form
    r = alice.post(
        "/admin/collections/rules", {"collection": "mairie", "approvals": "1", "role": selected[0]}
    )
    assert r.status_code == 303
    from commune.govern.policy import OPERATOR

    [now] = [c for c in commune.curation_rules(OPERATOR) if c["name"] == "mairie"]
    assert (now["approvals"], now["role"]) == (1, "contributor")


def test_a_librarys_message_reads_as_a_sentence_on_the_pages(app, commune):
    """Found asking in the web app: a library message is written for a CLI line after
    "Erreur : ", in lower case and without a stop; a page showed it as a sentence of its own,
    "Limite atteinte. l'utilisateur 'citoyen' a épuisé son quota…", "Cela n'a pas
    marché. cette page s'atteint par son formulaire…". A name that opens a message (a file, a
    collection) keeps its case."""
    from commune.web.render import sentence

    b = browser(app, "carol")
    r = b.get("/ask", headers={"accept": "text/html"})  # reloaded after its form was sent
    # Under its heading (« Demande refusée »), the message opens its paragraph.
    assert "<h1>Demande refusée</h1>" in r.page
    assert "<p>Cette page s'atteint par son formulaire" in r.page
    assert "(repartez de la boîte à questions).</p>" in r.page
    fragment = b.get("/documents/999", headers={"X-Fragment": "1"}).page
    assert "Introuvable.</strong>\n  Aucun document 999 (vérifiez son numéro).</p>" in fragment
    b.get("/")
    r = b.post("/ask", {"question": "Où est la piscine ?", "collection": "nulle-part"})
    said = "Aucune collection nommée 'nulle-part' (collections connues\u00a0: mairie).</p>"
    assert f'id="ask-error">{said}' in r.page
    assert sentence("l'utilisateur 'x' a épuisé son quota") == (
        "L'utilisateur 'x' a épuisé son quota."
    )
    assert sentence("notes.txt : fichier vide") == "notes.txt : fichier vide."
    assert sentence("mairie\u00a0: collection privée") == "mairie\u00a0: collection privée."
    assert sentence("Écrivez d'abord une question.") == "Écrivez d'abord une question."
    assert sentence("Pourquoi ?") == "Pourquoi ?" and sentence("") == ""


def test_a_hint_that_is_a_sentence_takes_no_second_stop(app):
    """Found sending a form after its page had expired: "rien n'a été fait. (Rechargez la
    page et renvoyez le formulaire.)." A hint whose sentence ends inside its parenthesis
    ends the message."""
    from commune.web.render import sentence

    b = browser(app, "carol")
    b.get("/")
    r = b.post("/ask", {"question": "Où est la piscine ?", "csrf": "forged"}, csrf=False)
    assert r.status_code == 403
    assert "(Rechargez la page et renvoyez le formulaire.)</p>" in r.page, r.page
    assert ".)." not in r.page
    assert sentence("rien (vérifiez son numéro)") == "Rien (vérifiez son numéro)."
    assert sentence("Rien. (Rechargez la page.)") == "Rien. (Rechargez la page.)"


def test_a_persons_spent_quota_is_theirs_not_its(app, commune):
    """Found asking in English past one's own cap: "User 'carol' has used its quota", said
    of a person as of a thing (a member's quota is its)."""
    commune.admin.set_user_quotas("carol", {"requests_per_day": 1})
    b = browser(app, "carol")
    b.get("/")
    b.post("/ask", {"question": "Where is the swimming pool?"})
    r = b.post("/ask", {"question": "When?"}, headers={"Accept-Language": "en"})
    assert r.status_code == 429
    # Its plural too: it read "their quota of 1 requests per day".
    assert "User 'carol' has used their quota of 1 request per day" in r.page, r.page
    r = b.post("/ask", {"question": "Quand ?"})
    assert "L'utilisateur 'carol' a épuisé son quota de requêtes par jour" in r.page, r.page


def test_french_elides_de_before_a_name_that_starts_with_a_vowel(app, commune):
    """The administration page read "Rôle de amelie", "Changer les plafonds de amelie"."""
    make_person(commune, "mona", "Ville C", "member-admin")
    make_person(commune, "amelie", "Ville C", "contributor")
    make_person(commune, "paul", "Ville C", "contributor")
    page = browser(app, "mona").get("/admin").page
    assert "Rôle d&#39;amelie" in page or "Rôle d'amelie" in page
    assert "Changer les plafonds d&#39;amelie" in page or "Changer les plafonds d'amelie" in page
    assert "de amelie" not in page
    assert "Changer les plafonds de paul" in page  # a consonant keeps its "de"


def test_the_pages_say_the_sharing_and_rules_refusals_in_french():
    """The policy's two new actions had no French on the pages: a member's reader refused
    read "changing who reads a collection needs the role…" in English."""
    from commune.web import i18n

    was = i18n.current()
    i18n.use("fr")
    try:
        for action, said in (
            ("changing who reads a collection", "changer qui lit une collection"),
            (
                "setting a collection's curation rules",
                "fixer les règles de curation d'une collection",
            ),
        ):
            refused = f"{action} needs the role member-admin or above; bob is reader"
            assert i18n.translate(refused).startswith(f"{said} demande le rôle "), refused
    finally:
        i18n.use(was)


def test_a_member_admins_statement_does_not_call_the_cooperatives_total_theirs(app, commune):
    """A member admin reads their member's line only, and under it the whole cooperative's
    total was labelled "Total du mois": 650,00 EUR above a total of 1 300,00 EUR, a sum their
    line did not add up to."""
    make_person(commune, "mona", "Ville C", "member-admin")
    page = browser(app, "mona").get("/statement").page
    foot = re.search(r"<tfoot>(.*?)</tfoot>", page, re.S).group(1)
    assert "Le total de la coopérative, tous membres compris" in foot, foot
    assert page.count("<tr><td>Ville") == 1  # her member's line only
    foot = re.search(r"<tfoot>(.*?)</tfoot>", browser(app, "alice").get("/statement").page, re.S)
    assert "Total du mois" in foot.group(1)  # every line shown: the month's total


def test_the_account_page_offers_to_waive_a_share_only_when_a_fund_is_set(home):
    """Without a payouts fund a share is nothing, and the page offered to waive it all the
    same (« elle reste au fonds »: which fund?). Now the choice comes with a fund, saying
    where a waived share goes; without one the page says there is nothing to choose."""
    from commune.api.app import create_app
    from commune.core import Commune

    home.mkdir(parents=True, exist_ok=True)
    for fund in ("", "[payouts]\nmonthly_eur = 100\n"):
        (home / "commune.toml").write_text(fund, encoding="utf-8")
        with Commune(home) as c:  # the fund is read from commune.toml when a home opens
            if not fund:
                make_person(c, "dora", "Ville A", "contributor")
            page = browser(create_app(c), "dora").get("/account").page
        offered = 'action="/account/payout"' in page
        if fund:
            assert offered and "Renoncer à ma part" in page
            assert "n'est versée à personne\u00a0: la coopérative la garde dans le fonds" in page
        else:
            assert not offered and "Renoncer à ma part" not in page
            assert (
                "Aucun fonds de rétribution n'est fixé\u00a0: rien n'est réparti ce mois-ci" in page
            )
            assert "pas de part à laquelle renoncer ni à se faire verser" in page
            assert "commune.toml" not in page  # the operator's file, not the person's


def test_a_contributor_reads_what_answers_cited_of_theirs_without_a_payouts_fund(app, commune):
    # Found by an exploratory test: without a payouts fund the account page said only that
    # none was set, and a contributor whose documents answers had cited read nowhere what
    # they had earned (`commune credits`, the operator's command, counted it).
    make_person(commune, "dora", "Ville A", "contributor")
    dora = browser(app, "dora")
    dora.get("/contribute")
    text = "La ludothèque municipale prête des jeux de société pour deux semaines."
    files = [("files", ("ludotheque.txt", text.encode(), "text/plain"))]
    r = dora.post("/contribute", {"collection": "mairie", "licence": "CC-BY-4.0"}, files=files)
    assert r.status_code == 200 and "publié" in r.page
    answer = commune.ask("Combien de temps la ludothèque prête-t-elle des jeux ?", "mairie")
    assert any("ludothèque" in s.title for s in answer.sources)
    page = dora.get("/account").page
    assert "Crédité comme dora (Ville A)\u00a0: 1 citation dans des réponses, 1 document" in page
    assert "Aucun fonds de rétribution n'est fixé" in page  # and still no share to choose
    assert 'action="/account/payout"' not in page and "votre part" not in page
    page = browser(app, "carol").get("/account").page  # credited nothing
    assert "Crédité comme" not in page and "Aucun fonds de rétribution n'est fixé" in page


def test_a_contributor_has_their_share_paid_to_their_own_member_from_the_account_page(home):
    # Found by an exploratory test: a town's clerk contributing for the town could waive
    # their share or have it paid to them, and not have it paid to the town: the library
    # lets them (payouts.may_choose), only the command line and a cooperative admin's form
    # offered it.
    from datetime import UTC, datetime

    from commune.api.app import create_app
    from commune.core import Commune

    home.mkdir(parents=True, exist_ok=True)
    (home / "commune.toml").write_text("[payouts]\nmonthly_eur = 100\n", encoding="utf-8")
    with Commune(home) as c:
        make_person(c, "dora", "Ville A", "contributor")
        dora = browser(create_app(c), "dora")
        page = dora.get("/account").page
        assert "Faire verser ma part à Ville A, mon membre" in page
        r = dora.post("/account/payout", {"choice": "redirect"})
        assert r.status_code == 303 and r.headers["location"] == "/account?done=payout-redirect"
        assert "Votre part sera versée à Ville A." in dora.get(r.headers["location"]).page
        [choice] = c.payout_choices()
        assert (choice["contributor"], choice["choice"]) == ("dora (Ville A)", "redirect")
        assert choice["target"] == "Ville A"
        month = datetime.now(UTC).strftime("%Y-%m")
        assert choice["from_month"] == month


def test_the_add_user_form_offers_a_password_only_where_giving_one_is_allowed(app, commune):
    """A cooperative admin adding a person to another member was offered a password field
    that the policy then refused (can_give_credentials: they would read that member's private
    collections as them). Now that form has none and says who gives the first password; the
    one for their own member keeps it, as does a member admin's."""
    alice = browser(app, "alice")  # a cooperative admin of Ville A
    page = alice.get("/admin").page
    own, other = _add_user_forms(page)
    assert 'name="password"' in own and "<option>Ville A</option>" in own
    assert "Ville C" not in own
    assert 'name="password"' not in other and "<option>Ville C</option>" in other
    assert "Ville A" not in other
    # « tant qu'il n'en a aucun » after « l'opérateur » read as the operator having none.
    assert (
        "reçoit son premier mot de passe ou sa première clé des administrateurs de ce membre, "
        "ou de l'opérateur tant que ce membre n'a pas d'administrateur"
    ) in page
    # A refusal of the other form is said in it, not in the first.
    typed = {"form": "user-other", "name": "carol", "member": "Ville C", "role": "reader"}
    own, other = _add_user_forms(alice.post("/admin/users", typed).page)
    assert 'id="user-other-error"' in other and 'value="carol"' in other
    assert "-error" not in own
    r = alice.post("/admin/users", {**typed, "name": "cyril"})
    assert r.status_code == 303 and commune.admin.user_exists("cyril")
    # A member admin adds to their own member only: one form, the password offered.
    make_person(commune, "mona", "Ville C", "member-admin")
    [mine] = _add_user_forms(browser(app, "mona").get("/admin").page)
    assert 'name="password"' in mine and "user-other" not in mine


def test_an_error_page_is_headed_with_what_it_is_and_names_a_value_in_words(app):
    """Walking the French pages: a document not found and an address refused were headed
    « Quelque chose n'a pas marché », as a crash is, and the refusal named the route's value
    « document_id ». Now each 4xx is headed with what it is, said once, and the value is
    named as a reader would name it."""
    b = browser(app, "carol")
    r = b.get("/documents/9999")
    assert r.status_code == 404 and "<h1>Introuvable</h1>" in r.page
    assert "<title>Introuvable" in r.page and "Quelque chose n'a pas marché" not in r.page
    assert "<p>Aucun document 9999 (vérifiez son numéro).</p>" in r.page
    r = b.get("/documents/abc")
    assert r.status_code == 422 and "<h1>Demande refusée</h1>" in r.page
    assert "(le numéro du document\u00a0: un nombre entier est attendu)" in r.page
    assert "document_id" not in r.page and "Cela n'a pas marché" not in r.page
    r = b.get("/dashboard?days=abc", headers={"Accept-Language": "en"})
    assert r.status_code == 422 and "<h1>Request refused</h1>" in r.page
    assert "the number of days: an integer is expected" in r.page


def test_a_conflict_page_is_headed_with_what_happened_not_as_a_refusal(app, commune):
    """Two writers met on one name: nothing was written and the same request may be sent
    again (a 409). The page was headed « Demande refusée », as if the visitor's request were
    wrong; it is headed with what happened, in the page's language."""
    import sqlite3

    from fastapi.testclient import TestClient
    from sqlalchemy.exc import IntegrityError

    def taken(*args: object, **kwargs: object) -> None:
        cause = sqlite3.IntegrityError("UNIQUE constraint failed: users.name")
        raise IntegrityError("INSERT INTO users", {}, cause)

    b = browser(app, "carol")
    # The incident is answered, as the server does, rather than raised into the test.
    b.client = TestClient(
        app,
        base_url="https://testserver",
        follow_redirects=False,
        raise_server_exceptions=False,
        cookies=b.client.cookies,
    )
    commune.search = taken  # type: ignore[method-assign]
    r = b.get("/commons?q=verre")
    assert r.status_code == 409, r.page
    assert "<h1>Deux modifications se sont croisées, rien n'a été écrit</h1>" in r.page
    assert "Demande refusée" not in r.page and "INSERT" not in r.page
    r = b.get("/commons?q=verre", headers={"Accept-Language": "en"})
    assert r.status_code == 409 and "<h1>Two changes met, nothing was written</h1>" in r.page


def test_a_number_in_a_refusal_is_written_as_the_pages_language_writes_it(app):
    """An address past the largest document number read « doit être au plus
    9223372036854775807 »: nineteen digits in one block, on a page that writes 1 234 (with
    a narrow no-break space) everywhere else."""
    b = browser(app, "carol")
    r = b.get("/documents/9223372036854775808")
    assert r.status_code == 422, r.page
    assert "doit être au plus 9\u202f223\u202f372\u202f036\u202f854\u202f775\u202f807" in r.page
    assert "9223372036854775807" not in r.page
    r = b.get("/documents/9223372036854775808", headers={"Accept-Language": "en"})
    assert "must be at most 9,223,372,036,854,775,807" in r.page
    # A count keeps its own wording (numbers.plural), and a small number has no group.
    r = b.get("/documents/0")
    assert r.status_code == 422 and "doit être au moins 1)" in r.page


def test_every_value_a_page_address_takes_is_named_in_words(app):
    """The address values were named in words for four of them (« le numéro du document »);
    the commons' « offset », the administration page's « released » and the statement's
    « dialect » were still the route's own names on a French page. Every value a page's
    address takes that can be refused has a reader's name."""
    from fastapi.routing import APIRoute

    from commune.api.errors import _PAGE_VALUES
    from commune.web.routes import ROUTERS

    unnamed = {
        f"{route.path} {f.name}"
        for module in ROUTERS
        for route in module.router.routes
        if isinstance(route, APIRoute)
        for f in (*route.dependant.query_params, *route.dependant.path_params)
        if f.field_info.annotation is not str and f.name not in _PAGE_VALUES
    }
    assert not unnamed, unnamed
    b = browser(app, "carol")
    r = b.get("/commons?offset=abc")
    assert r.status_code == 422 and "(la position dans la liste\u00a0: un nombre entier" in r.page
    assert "offset" not in r.page.split("<main")[1]


def test_a_commons_page_past_the_last_leads_back_to_the_documents(app):
    """Found following an old link to a later page of the commons: "Aucun document pour
    l'instant", under a table of collections counting five, and no way back to them."""
    b = browser(app, "carol")
    page = b.get("/commons?collection=mairie&offset=50").page
    assert "Aucun document pour l'instant" not in page
    assert (
        'Aucun document sur cette page. <a href="/commons?collection=mairie">'
        "Retour à la première page</a>" in page
    ), page
    # With no collection chosen, no empty parameter: it led to "/commons?collection=".
    english = b.get("/commons?offset=50", headers={"Accept-Language": "en"}).page
    assert 'No document on this page. <a href="/commons">Back to the first page' in english
    page = b.get("/commons?offset=50").page
    assert '<a href="/commons">Retour à la première page' in page
    assert 'collection="' not in page and "collection=&" not in page


def test_the_transparency_page_says_there_is_no_evaluation_rather_than_an_empty_table(app):
    """Found reading /transparency on a new server: « Dernières évaluations », then a table
    of nine column headings over no row, which a screen reader announces as a table."""
    page = browser(app, "carol").get("/transparency").page
    latest = page.split("<h2>Dernières évaluations</h2>")[1]
    assert "<table>" not in latest and '<th scope="col">Partition</th>' not in latest
    assert "<p>Aucune évaluation à montrer pour l'instant.</p>" in latest


def test_a_refused_search_is_said_in_the_search_form_of_the_commons_page(app):
    """Walking the French pages: a search too long was a page apart (« Quelque chose n'a pas
    marché »), the search and the listing gone. Now it is said in the search form, the
    words kept, the documents still listed."""
    b = browser(app, "carol")
    r = b.get("/commons?q=" + "x" * 2100)
    form = re.search(r'<form method="get" action="/commons".*?</form>', r.page, re.S).group(0)
    assert r.status_code == 400 and "<h1>Les communs</h1>" in r.page
    assert 'id="search-error">La recherche fait 2100 caractères' in form
    assert 'value="' + "x" * 2100 + '" aria-describedby="search-error"' in form
    assert "Gestion des déchets" in r.page  # the documents, still listed
    r = b.get("/commons?q=piscine&collection=nulle-part")
    assert r.status_code == 404 and 'id="search-error">Aucune collection nommée' in r.page
    assert "Documents de nulle-part" not in r.page and "Gestion des déchets" in r.page
    # Control characters only ("%00"): a search of nothing typed, which returned hits.
    r = b.get("/commons?q=%00")
    assert r.status_code == 400 and 'id="search-error">La recherche est vide' in r.page


def test_a_label_written_by_a_template_takes_the_french_colon(app, commune):
    """Walking the French pages as a clerk and a curator: « liseuses.txt: reçu »,
    « modifications demandées: … », « cyril: … » (a colon the templates wrote, English
    typography). French puts a no-break space before it."""
    commune.set_curation_rules("mairie", 1, "curator")
    make_person(commune, "dora", "Ville A", "contributor")
    make_person(commune, "cyril", "Ville A", "curator")
    dora = browser(app, "dora")
    dora.get("/contribute")
    sent = [("files", ("liseuses.txt", b"Des liseuses pour trois semaines.", "text/plain"))]
    r = dora.post("/contribute", {"collection": "mairie", "licence": "CC-BY-4.0"}, files=sent)
    assert "<strong>liseuses.txt</strong>\u00a0:\n" in r.page
    cyril = browser(app, "cyril")
    rid = int(re.search(r'href="/curation/(\d+)"', cyril.get("/curation").page).group(1))
    cyril.post(f"/curation/{rid}", {"decision": "request-changes", "reason": "Quelle durée ?"})
    assert "modifications demandées\u00a0: la collection demande" in cyril.get("/curation").page
    assert "<li>cyril\u00a0: " in cyril.get(f"/curation/{rid}").page
    english = cyril.get(f"/curation/{rid}", headers={"Accept-Language": "en"}).page
    assert "<li>cyril: " in english


def test_a_caps_field_is_as_wide_as_the_words_that_say_it_is_empty(app):
    """Found on the administration page in French: each person's caps read « aucun plafo »,
    the placeholder cut at the seven characters that fitted "no cap"."""
    b = browser(app, "alice")
    for language, words in (("fr", "aucun plafond"), ("en", "no cap")):
        page = b.get("/admin", headers={"Accept-Language": language}).page
        sizes = re.findall(rf'size="(\d+)" placeholder="{words}"', page)
        assert sizes and all(int(n) >= len(words) for n in sizes), (language, sizes)


def test_the_administration_page_shows_members_quotas_as_its_reader_writes_them(app, commune):
    # Found walking docs/fr/exploitation.md: after `commune member set` the members table read
    # "2000" and "2.5" on the French page, and left out the token quota altogether.
    make_person(commune, "mona", "Ville C", "cooperative-admin")
    commune.admin.set_member_quotas(
        "Ville C", {"requests_per_day": 2000, "tokens_per_month": 1000000, "wh_per_month": 2.5}
    )
    page = browser(app, "mona").get("/admin").page
    assert '<th scope="col">Jetons par mois</th>' in page
    nnbsp = "\u202f"
    row = f"<td>2{nnbsp}000</td><td>1{nnbsp}000{nnbsp}000</td><td>2,5</td>"  # as the CLI
    assert row in page, page[page.index("Usage déclaré") :][:600]


def test_the_administration_page_shows_a_decimal_quota_with_all_its_decimals(app, commune):
    # At two decimals, a member's 0.001 Wh read "0,00" (no cap at all, it seemed) and a
    # user's 2.125 Wh "2,13", a cap never set.
    make_person(commune, "mona", "Ville D", "member-admin")
    commune.admin.set_member_quotas("Ville D", {"wh_per_month": 0.001})
    commune.admin.set_user_quotas("mona", {"wh_per_month": 2.125})  # hers, read only
    page = browser(app, "mona").get("/admin").page
    assert "<td>—</td><td>—</td><td>0,001</td>" in page, page
    assert "— · — · 2,125" in page, page
    english = browser(app, "mona").get("/admin", headers={"Accept-Language": "en"}).page
    assert "<td>0.001</td>" in english and "2.125" in english


def test_a_key_needs_the_password_again_and_a_reset_revokes_the_keys(app, commune):
    """A stolen session made a key without the password (POST /keys), and the key still
    opened /api/collections once the operator reset the password and every session ended
    (review finding). The key form asks for the password again, its wrong guesses counted
    as the sign-in's; a reset revokes the person's keys."""
    from fastapi.testclient import TestClient

    api = TestClient(app, base_url="https://testserver")
    carol = browser(app, "carol")
    carol.get("/account")
    made = len(commune.admin.keys())
    for typed in ({}, {"password": "not the password"}):
        r = carol.post("/keys", {"label": "volée", **typed})
        said = _form(r.page, "/keys")
        assert (
            r.status_code == 403
            and "Votre mot de passe est faux\u00a0: aucune clé n'a été créée" in said
        )
        assert 'value="volée"' in said and 'id="new-key"' not in r.page
    r = carol.post("/keys", {"label": "x"}, headers={"Accept-Language": "en"})
    assert "Your password is wrong: no key was made." in r.page
    assert len(commune.admin.keys()) == made
    # Counted as the sign-in's guesses: past the limit, 429, and still no key.
    app.state.failed_sign_ins.limit = 3
    assert carol.post("/keys", {"label": "x"}).status_code == 429
    app.state.failed_sign_ins.limit = 20
    app.state.failed_sign_ins.clear()
    r = carol.post("/keys", {"label": "script", "password": PASSWORD})
    secret = re.search(r'<code id="new-key">(cmn_[^<]+)</code>', r.page).group(1)
    bearer = {"Authorization": f"Bearer {secret}"}
    assert api.get("/api/collections", headers=bearer).status_code == 200
    # The operator resets the password: the sessions end, and the keys are revoked with them.
    assert commune.admin.set_password("carol", "a brand new passphrase") == 2
    assert api.get("/api/collections", headers=bearer).status_code == 401
    assert carol.get("/account").status_code == 303
    # One's own change offers it, ticked; unticked, the keys stay.
    with commune.engine.begin() as conn:
        from commune.govern.accounts import set_password

        set_password(conn, "carol", PASSWORD)
    carol = browser(app, "carol")
    page = carol.get("/account").page
    assert 'name="revoke_keys" type="checkbox" value="1" checked' in page
    kept = carol.post("/keys", {"label": "gardée", "password": PASSWORD}).page
    kept = re.search(r'<code id="new-key">(cmn_[^<]+)</code>', kept).group(1)
    r = carol.post("/account/password", {"current": PASSWORD, "new": "another passphrase"})
    assert r.headers["location"] == "/account?done=password"
    keep = {"Authorization": f"Bearer {kept}"}
    assert api.get("/api/collections", headers=keep).status_code == 200
    carol.get("/account")  # the new session's page, and its token
    r = carol.post(
        "/account/password",
        {"current": "another passphrase", "new": PASSWORD, "revoke_keys": "1"},
    )
    assert r.headers["location"] == "/account?done=password-keys"
    assert (
        "Mot de passe changé, et vos clés d'API révoquées." in carol.get(r.headers["location"]).page
    )
    assert api.get("/api/collections", headers=keep).status_code == 401


def test_cookies_set_from_a_sibling_subdomain_sign_nobody_in(app):
    """The session and CSRF cookies had no __Host- prefix: a sibling subdomain could plant
    commune_csrf for the whole domain, and its own page then signed the victim in to the
    attacker's account (a login CSRF; review finding). Over HTTPS their names carry the
    prefix, which a browser accepts only from this host itself; a planted commune_csrf is
    not read. Plain HTTP on the machine itself keeps the old names."""
    from fastapi.testclient import TestClient

    victim = TestClient(app, base_url="https://commune.example.org", follow_redirects=False)
    # What evil.example.org set with Domain=example.org, and its form repeats.
    victim.cookies.set("commune_csrf", "planted", domain="commune.example.org")
    form = {"user": "carol", "password": PASSWORD, "csrf": "planted", "next": "/"}
    r = victim.post("/signin", data=form)
    assert r.status_code == 403 and not victim.cookies.get(SESSION)
    r = TestClient(app, base_url="https://commune.example.org").get("/signin")
    names = [c.split("=")[0] for c in r.headers.get_list("set-cookie")]
    assert names == ["__Host-commune_csrf"]
    assert "Path=/" in r.headers["set-cookie"] and "Secure" in r.headers["set-cookie"]
    # On the machine itself over plain HTTP (the demo), the names stay as they were.
    local = TestClient(app, base_url="http://127.0.0.1:8000", follow_redirects=False)
    r = local.get("/signin")
    assert [c.split("=")[0] for c in r.headers.get_list("set-cookie")] == ["commune_csrf"]
    csrf = r.headers["set-cookie"].split(";")[0].split("=", 1)[1]
    form = {"user": "carol", "password": PASSWORD, "csrf": csrf, "next": "/"}
    local.cookies.set("commune_csrf", csrf)  # a browser sends a Secure one to 127.0.0.1
    r = local.post("/signin", data=form)
    assert r.status_code == 303 and r.headers["set-cookie"].startswith("commune_session=")


def test_a_refusal_that_opens_with_a_persons_name_keeps_it_as_written(app, commune):
    """Found on /admin: « Root est administrateur de la coopérative, au-dessus du rôle de
    mona. », a person's name capitalised as the sentence's first word."""
    from commune.web.render import sentence

    make_person(commune, "mona", "Ville C", "member-admin")
    make_person(commune, "root", "Ville C", "cooperative-admin")
    mona = browser(app, "mona")
    mona.get("/admin")
    caps = {"user": "root", "requests_per_day": "5", "tokens_per_month": "", "wh_per_month": ""}
    for language, said in (
        ("fr", "root est administrateur de la coopérative, au-dessus du rôle de mona."),
        ("en", "root is cooperative-admin, above mona's role."),
    ):
        r = mona.post("/admin/users/caps", caps, headers={"Accept-Language": language})
        alert = re.search(r'id="caps-error">(.*?)<', r.page, re.S).group(1)
        assert r.status_code == 403 and html.unescape(alert) == said, alert
    # A word that opens a message is still capitalised, a name only when it opens it.
    assert sentence("la collection 'x' est privée") == "La collection 'x' est privée."


def test_a_session_cookie_of_the_old_name_is_deleted_at_sign_in_and_ended_at_sign_out(app, commune):
    """Since the __Host- prefix, a session cookie of the old name (set before the upgrade)
    was ignored but left in the browser, its session open on the server: sign-out ended
    only the new one, and the old cookie, copied from the computer and renamed, still
    opened the account until it expired (review finding). Sign-in deletes it; sign-out
    ends its session too."""
    from commune.web import sessions

    store = app.state.web_sessions
    carol = browser(app)
    old = store.open(commune.admin.actor("carol"), 1.0)
    carol.client.cookies.set(sessions.COOKIE, old)  # from before the upgrade
    r = carol.sign_in("carol")
    gone = [c for c in r.headers.get_list("set-cookie") if c.startswith(f"{sessions.COOKIE}=")]
    assert gone and "Max-Age=0" in gone[0] and "Secure" in gone[0], r.headers
    carol.client.cookies.set(sessions.COOKIE, old)  # a browser that kept it all the same
    carol.get("/")
    assert carol.post("/signout").status_code == 303
    assert store.find(old) is None


def test_a_cooperative_admin_shares_a_collection_with_peers_on_the_administration_page(
    app, commune
):
    """Only `commune share` shared a collection with peer cooperatives, on the operator's
    host. The administration page offers it to the cooperative's admins, through the same
    library call (registry.may decides), with what is shared now; a refusal is said in the
    form with what was typed kept, and changes nothing."""
    from commune.store.audit import entries

    make_person(commune, "mona", "Ville C", "member-admin")
    make_person(commune, "dora", "Ville C", "contributor")
    dora = browser(app, "dora")
    dora.get("/contribute")
    r = dora.post(
        "/contribute",
        {"collection": "brouillons-c", "licence": "CC-BY-4.0"},
        files=[("files", ("budget.txt", b"Projet de budget 2027.", "text/plain"))],
    )
    assert r.status_code == 200  # brouillons-c: private to Ville C
    # A member admin: not offered, and refused by the library when posted anyway.
    mona = browser(app, "mona")
    assert "Partage avec les coopératives pairs" not in mona.get("/admin").page
    r = mona.post("/admin/collections/peers", {"collection": "mairie"})
    assert r.status_code == 403 and 'id="peers-error"' in r.page
    assert commune.shares() == []

    alice = browser(app, "alice")
    page = alice.get("/admin").page
    assert "Partage avec les coopératives pairs" in page
    assert "Aucune collection n'est partagée avec les pairs." in page
    assert "<legend>Clauses en plus de l'attribution</legend>" in page
    assert '<label for="peers-non-commercial">usage non commercial seulement</label>' in page
    # A private collection: refused in French in the form, what was typed kept, nothing shared.
    typed = {"collection": "brouillons-c", "non-commercial": "1", "kind-town": "1"}
    r = alice.post("/admin/collections/peers", typed)
    said = re.search(r'id="peers-error">(.*?)<', r.page, re.S).group(1)
    assert r.status_code == 400 and "privée" in said, said
    assert 'id="peers-collection" name="collection"' in r.page
    assert 'value="brouillons-c" aria-describedby="peers-help peers-error"' in r.page
    assert 'id="peers-non-commercial" name="non-commercial" value="1" checked' in r.page
    assert 'id="peers-kind-town" name="kind-town" value="1" checked' in r.page
    assert 'id="peers-share-alike" name="share-alike" value="1" checked' not in r.page
    assert commune.shares() == []
    # Shared: as `commune share mairie --policy non-commercial --kinds town` shares it.
    r = alice.post("/admin/collections/peers", {**typed, "collection": "mairie"})
    assert r.status_code == 303 and r.headers["location"] == "/admin?done=shared"
    assert commune.shares() == [
        {
            "collection": "mairie",
            "attribution": True,
            "non_commercial": True,
            "share_alike": False,
            "tdm_reserved": False,
            "kinds": ["town"],
        }
    ]
    page = alice.get(r.headers["location"]).page
    assert "La collection est partagée avec les pairs." in page
    assert "<td>mairie</td><td>attribution, usage non commercial seulement</td>" in page
    with commune.engine.connect() as conn:
        last = entries(conn, limit=1000)[-1]
    assert (last["actor"], last["action"], last["subject"]) == (
        "alice",
        "peer-share",
        "collection mairie",
    )
    # In English too.
    alice.post("/language", {"language": "en", "next": "/admin"})
    page = alice.get("/admin").page
    assert "Sharing with peer cooperatives" in page and "Shared with peers now" in page
    # Stopped: no longer shared; stopping again is refused in the form.
    r = alice.post("/admin/collections/peers", {"collection": "mairie", "off": "1"})
    assert r.status_code == 303 and commune.shares() == []
    r = alice.post("/admin/collections/peers", {"collection": "mairie", "off": "1"})
    assert r.status_code == 404 and 'id="peers-error"' in r.page


def test_a_member_admin_refused_the_peering_form_reads_it_in_french_and_nothing_false(app, commune):
    """A member admin posting the peering form anyway is refused in the section: the refusal
    said "Administering the cooperative" in English on a French page, and the section beneath
    it said that no collection was shared with peers while one was."""
    commune.share("mairie", policy="non-commercial")
    make_person(commune, "mona", "Ville C", "member-admin")
    mona = browser(app, "mona")
    mona.get("/admin")
    r = mona.post("/admin/collections/peers", {"collection": "mairie", "off": "1"})
    said = html.unescape(re.search(r'id="peers-error">(.*?)<', r.page, re.S).group(1))
    assert r.status_code == 403
    assert said.startswith("Administrer la coopérative demande le rôle"), said
    assert "Aucune collection n'est partagée avec les pairs." not in r.page
    assert [s["collection"] for s in commune.shares()] == ["mairie"]


def test_a_key_made_on_the_web_can_be_given_an_expiry(app, commune):
    """`commune key create --expires-days` gave a key an end; the web's key forms (one's own
    account, the administration page) could not: a key made there for a season's work lived
    until someone thought of revoking it. The forms take the days now, in one line refused."""
    make_person(commune, "mona", "Ville C", "member-admin")
    mona = browser(app, "mona")
    assert 'name="expires_days"' in _form(mona.get("/account").page, "/keys")
    r = mona.post("/keys", {"label": "saison", "expires_days": "30", "password": PASSWORD})
    assert r.status_code == 200 and 'id="new-key"' in r.page
    (made,) = [k for k in commune.admin.keys() if k["label"] == "saison"]
    assert round((made["expires_at"] - made["created_at"]).total_seconds() / 86400) == 30
    assert "expire le" in r.page  # the table says when
    # For someone one administers, from the administration page.
    mona.get("/admin")
    r = mona.post(
        "/keys",
        {
            "user": "carol",
            "label": "import",
            "expires_days": "7",
            "back": "admin",
            "password": PASSWORD,
        },
    )
    assert r.status_code == 200
    (made,) = [k for k in commune.admin.keys() if k["label"] == "import"]
    assert round((made["expires_at"] - made["created_at"]).total_seconds() / 86400) == 7
    # Refused in one line, in the page's language, what was typed kept, no key made.
    before = len(commune.admin.keys())
    for typed in ("0", "trente", "40000", "1,5"):
        r = mona.post("/keys", {"label": "x", "expires_days": typed, "password": PASSWORD})
        said = re.search(r'<p class="error" role="alert" id="key-error">(.*?)</p>', r.page)
        assert r.status_code == 400 and said, typed
        assert said.group(1) == (
            f"Expire après\u00a0: «\u00a0{typed}\u00a0» n'est pas un nombre de jours de 1 à "
            "36\u202f500\u00a0: donnez-en un, ou laissez le champ vide pour une clé qui "
            "n'expire pas."
        )
        assert f'value="{typed}"' in _form(r.page, "/keys")
    r = mona.post(
        "/keys",
        {"label": "x", "expires_days": "0", "password": PASSWORD},
        headers={"Accept-Language": "en"},
    )
    assert "is not a number of days from 1 to 36,500" in r.page
    assert len(commune.admin.keys()) == before
    # Empty: a key that does not expire, as before.
    mona.post("/keys", {"label": "sans fin", "expires_days": "", "password": PASSWORD})
    (made,) = [k for k in commune.admin.keys() if k["label"] == "sans fin"]
    assert made["expires_at"] is None


def test_removing_a_member_admin_says_first_what_they_lose(app, commune):
    """A member admin removed another, meaning to take back their admin role: the row's
    « Retirer » did it at once, and the person could not be added back (their name stays
    taken), their password, keys and caps gone with them. The page now says what removing
    ends, and that it is final, before it is done; nothing changes until it is confirmed."""
    from commune.govern.members import authenticate

    make_person(commune, "mona", "Ville C", "member-admin")
    secret = make_person(commune, "max", "Ville C", "member-admin")
    commune.admin.set_user_quotas("max", {"requests_per_day": 20, "wh_per_month": 2.5})
    mona = browser(app, "mona")
    mona.get("/admin")
    r = mona.post("/admin/users/remove", {"user": "max", "reason": "changement de poste"})
    assert r.status_code == 200
    text = re.sub(r"<[^>]+>", " ", r.page)
    text = re.sub(r"[ \n]+", " ", text)  # not \s: the no-break spaces are the page's
    assert "Retirer max\u00a0?" in text
    assert "Retirer max (administrateur de membre, Ville C) est définitif." in text
    assert "son mot de passe\u00a0: elle ne peut plus se connecter" in text
    assert "1 clé d'API active, révoquée" in text
    assert (
        "son rôle, administrateur de membre, et ses plafonds (Requêtes par jour\u00a0: 20 · "
        "Wh par mois\u00a0: 2,5)" in text
    )
    assert "Son nom reste pris\u00a0: elle ne peut pas être ajoutée de nouveau sous ce nom." in text
    # Not "change their role instead": mona's page has no role form for max, her equal.
    assert "demandez plutôt à un rôle au-dessus du sien de le changer" in text
    confirm = _form(r.page, "/admin/users/remove")
    assert 'name="confirmed" value="1"' in confirm and "Retirer max définitivement" in confirm
    # Nothing done yet: max still signs in, key and password alike.
    assert browser(app, "max").get("/account").status_code == 200
    with commune.engine.connect() as conn:
        assert authenticate(conn, secret).user == "max"
    # In English too.
    r = mona.post(
        "/admin/users/remove",
        {"user": "max", "reason": "new post"},
        headers={"Accept-Language": "en"},
    )
    assert "Removing max (member admin, Ville C) cannot be undone." in html.unescape(r.text)
    # Confirmed: removed, as before.
    r = mona.post(
        "/admin/users/remove",
        {"user": "max", "reason": "changement de poste", "confirmed": "1"},
    )
    assert r.status_code == 303 and r.headers["location"] == "/admin?done=removed"
    assert Browser(app).sign_in("max").status_code == 401
    # The page said true: the name is not given again.
    r = mona.post("/admin/users", {"name": "max", "member": "Ville C", "role": "member-admin"})
    assert r.status_code == 400 and "un nom reste pris" in r.page
    # A refused reason is said in the row's form, as before, no confirmation asked.
    r = mona.post("/admin/users/remove", {"user": "mona", "reason": "x"})
    assert 'id="remove-error"' in r.page and 'name="confirmed"' not in r.page


def test_a_follow_up_is_read_after_the_question_it_follows_without_script(app):
    """« Et pour le bac jaune ? » after « Quand passe le camion des ordures ? » was asked
    alone; the page now sends back the last question that stood alone, and a follow-up is
    read after it (commune/conversation.py, as /v1 reads a chat), said under the answer."""
    b = browser(app, "carol")
    b.get("/")
    first = b.post("/ask", {"question": "Quand passe le camion des ordures ?"}).page
    follows = re.search(r'name="follows" value="([^"]*)"', first)
    assert follows and follows.group(1) == "Quand passe le camion des ordures ?"
    then = b.post("/ask", {"question": "Et pour le bac jaune ?", "follows": follows.group(1)})
    assert then.status_code == 200
    assert 'id="followed"' in then.page
    assert "Lu comme la suite de votre question « Quand passe le camion des ordures ? »" in (
        then.page.replace("\u00a0", " ").replace("\u202f", " ")
    )
    # A follow-up of a follow-up still follows the question that stood alone.
    assert 'name="follows" value="Quand passe le camion des ordures ?"' in then.page
    # A question that stands alone is read alone, and is the one the next follows.
    alone = b.post(
        "/ask",
        {"question": "Où vont les cartons ?", "follows": "Quand passe le camion des ordures ?"},
    ).page
    assert 'id="followed"' not in alone
    assert 'name="follows" value="Où vont les cartons ?"' in alone
    # Nor across languages: an English follow-up of a French question is read alone.
    english = b.post(
        "/ask",
        {"question": "And the yellow bin?", "follows": "Quand passe le camion des ordures ?"},
    ).page
    assert 'id="followed"' not in english


def test_the_removal_page_offers_changing_the_role_only_to_whom_may_change_it(app, commune):
    """The page asking before a removal told a member admin removing another member admin
    « changez-le plutôt dans la page d'administration », their role taken back instead: her
    page has no role form on her equal's row, and changing it was refused (only a higher role
    changes an equal's). She is told whom to ask; who may change it is told to."""
    make_person(commune, "mona", "Ville C", "member-admin")
    make_person(commune, "max", "Ville C", "member-admin")
    make_person(commune, "lea", "Ville C", "curator")  # alice: cooperative admin (app)
    make_person(commune, "bruno", "Ville A", "cooperative-admin")
    instead = "changez-le plutôt dans la page d'administration"

    def asked(who: str, user: str) -> str:
        b = browser(app, who)
        b.get("/admin")
        r = b.post("/admin/users/remove", {"user": user, "reason": "changement de poste"})
        assert r.status_code == 200 and 'name="confirmed"' in r.page
        return re.sub(r"[ \n]+", " ", re.sub(r"<[^>]+>", " ", r.page))  # no-break spaces kept

    said = asked("mona", "max")
    assert instead not in said
    assert (
        "Pour lui retirer seulement son rôle, demandez plutôt à un rôle au-dessus du sien de le "
        "changer\u00a0: elle garde son compte, son mot de passe et ses clés. Votre rôle, aussi "
        "haut que le sien, ne le change pas. Demandez à un administrateur de la coopérative ou à "
        "l'opérateur." in said
    )
    mona = browser(app, "mona")
    assert mona.post("/admin/roles", {"user": "max", "role": "reader"}).status_code == 403
    # A cooperative admin's equal: the operator only.
    said = asked("alice", "bruno")
    assert instead not in said and "ne le change pas. Demandez à l'opérateur." in said
    # Whoever may change it is still told to, and can.
    for who, user in (("mona", "lea"), ("alice", "max")):
        said = asked(who, user)
        assert instead in said and "Demandez" not in said, (who, user)
        b = browser(app, who)
        b.get("/admin")
        assert b.post("/admin/roles", {"user": user, "role": "reader"}).status_code == 303
    # A reader has no role to take away: neither is said.
    said = asked("mona", "lea")
    assert instead not in said and "au-dessus du sien" not in said


def test_a_key_expiry_of_thousands_of_digits_is_refused_in_its_form(app, commune):
    """« Expire après (jours) » given a long run of digits (a paste gone wrong, a crafted
    form) answered 500, an error page and no form: Python reads no more than 4,300 digits
    as a number. It is refused in the form's line, as 40000 is, and no key is made."""
    make_person(commune, "mona", "Ville C", "member-admin")
    mona = browser(app, "mona")
    mona.get("/account")
    before = len(commune.admin.keys())
    r = mona.post("/keys", {"label": "x", "expires_days": "9" * 5000, "password": PASSWORD})
    said = re.search(r'<p class="error" role="alert" id="key-error">(.*?)</p>', r.page)
    assert r.status_code == 400 and said, r.status_code
    assert said.group(1).startswith("Expire après\u00a0: «\u00a0999")
    assert said.group(1).endswith("n'expire pas.")
    assert len(commune.admin.keys()) == before
    # Thirty days behind as many zeros are thirty days.
    typed = "0" * 5000 + "30"
    r = mona.post("/keys", {"label": "zéros", "expires_days": typed, "password": PASSWORD})
    assert r.status_code == 200 and 'id="new-key"' in r.page
    (made,) = [k for k in commune.admin.keys() if k["label"] == "zéros"]
    assert round((made["expires_at"] - made["created_at"]).total_seconds() / 86400) == 30


def _same_text_under_another_licence(commune, tmp_path):  # type: ignore[no-untyped-def]
    """dora's page sent again with the same text (blank lines added) under another licence:
    the revisions waiting for review."""
    page = tmp_path / "piscine.md"
    page.write_text("# Piscine\n\nLa piscine ouvre le mercredi à 14 h.\n", encoding="utf-8")
    dora = commune.actor("dora")
    commune.add([page], collection="mairie", licence="etalab-2.0", actor=dora)
    page.write_text("# Piscine\n\n\nLa piscine ouvre le mercredi à 14 h.\n\n", encoding="utf-8")
    commune.add([page], collection="mairie", licence="CC-BY-4.0", actor=dora)
    return commune.pending()


def test_a_revision_whose_text_did_not_change_says_what_did(app, commune, tmp_path):
    # Found walking the product as a curator: a file sent again with the same text (a PDF
    # saved anew, here blank lines) under another licence read "only what is recorded with it
    # did (its licence, its publisher)", and its publisher had not changed; a file whose
    # licence and publisher were the same read it too, and its curator looked for a change.
    make_person(commune, "dora", "Ville A", "contributor")
    make_person(commune, "cyril", "Ville A", "curator")
    [waiting] = _same_text_under_another_licence(commune, tmp_path)
    cyril = browser(app, "cyril")
    review = cyril.get(f"/curation/{waiting['id']}").page
    assert (
        "Le texte n'a pas changé. Ce qui a changé\u00a0: sa licence, son fichier (sa mise en "
        "forme ou ses métadonnées, pas le texte qui en est lu)."
    ) in review
    assert "son éditeur" not in review
    cyril.client.headers["Accept-Language"] = "en"
    review = cyril.get(f"/curation/{waiting['id']}").page
    assert "The text did not change. What changed: its licence, its file (" in review


def test_a_documents_history_says_what_changed_where_its_text_did_not(app, commune, tmp_path):
    # The review page and `commune review show` named what changed beside the text, while
    # the document's page still said of the same revision, in its history, « seul ce qui est
    # enregistré avec lui a changé (sa licence, son éditeur) », its publisher unchanged. It
    # names it from the same list now, in either language.
    make_person(commune, "dora", "Ville A", "contributor")
    make_person(commune, "carl", "Ville A", "reader")
    [waiting] = _same_text_under_another_licence(commune, tmp_path)
    assert commune.review(waiting["id"], "approve", "vérifiée") == "published"
    [doc] = [d for d in commune.documents("mairie") if d["title"] == "Piscine"]
    carl = browser(app, "carl")
    history = carl.get(f"/documents/{doc['id']}").page.split("<h2>Révisions</h2>")[1]
    assert (
        "Le texte n'a pas changé. Ce qui a changé\u00a0: sa licence, son fichier (sa mise en "
        "forme ou ses métadonnées, pas le texte qui en est lu)."
    ) in history
    assert "son éditeur" not in history
    carl.client.headers["Accept-Language"] = "en"
    history = carl.get(f"/documents/{doc['id']}").page.split("<h2>Revisions</h2>")[1]
    assert "The text did not change. What changed: its licence, its file (" in history
    assert "its publisher" not in history


def test_a_contributor_sending_a_file_the_collection_publishes_already_is_told(app, commune):
    # Found walking the product as a contributor: the same file sent under a second name was
    # published as a second document, each passage then found twice, and nobody was told;
    # the note naming the first document was said to the operator only.
    make_person(commune, "dora", "Ville A", "contributor")
    dora = browser(app, "dora")
    dora.get("/contribute")
    text = "Le marché couvert ouvre le dimanche de 8 h à 13 h.".encode()
    r = dora.post(
        "/contribute",
        {"collection": "vie-a", "licence": "etalab-2.0"},
        files=[("files", ("marche.txt", text, "text/plain"))],
    )
    [first] = [d for d in commune.documents() if d["title"].startswith("Le marché couvert")]
    r = dora.post(
        "/contribute",
        {"collection": "vie-a", "licence": "etalab-2.0"},
        files=[("files", ("marche-copie.txt", text, "text/plain"))],
    )
    assert r.status_code == 200
    assert (
        f"marche-copie.txt\u00a0: les mêmes octets que le document {first['id']}, à une autre "
        "adresse\u00a0: chaque passage serait trouvé deux fois (demandez à un curateur de la "
        "collection de retirer l'un des deux)"
    ) in r.page, r.page
    assert "commune retire" not in r.page  # a command the contributor has not


def test_a_contributor_reads_why_a_curator_approved_their_revision(app, commune):
    # Found walking the product as a contributor: a file sent without a licence, approved by
    # a curator who set one, read « publiée — » on the contributor's list; the curator's
    # reason, which the guide says the contributor reads for each decision, was not there.
    make_person(commune, "dora", "Ville A", "contributor")
    make_person(commune, "cyril", "Ville A", "curator")
    dora = browser(app, "dora")
    dora.get("/contribute")
    files = [("files", ("tri.txt", b"Le verre se trie dans les bornes vertes.", "text/plain"))]
    dora.post("/contribute", {"collection": "mairie"}, files=files)  # no licence: it waits
    [waiting] = commune.pending()
    commune.review(
        waiting["id"],
        "approve",
        "licence Etalab confirmée par le service",
        commune.actor("cyril"),
        licence="etalab-2.0",
    )
    mine = html.unescape(dora.get("/contribute").page)
    row = re.search(r"<tr><td>Le verre se trie.*?</tr>", mine, re.S)
    assert row and "publiée" in row.group(0), mine
    assert "cyril\u00a0: licence Etalab confirmée par le service" in row.group(0), row.group(0)


def test_a_revision_sent_by_another_member_with_the_same_text_says_its_contributor_changed(
    app, commune, tmp_path
):
    # Found reviewing dfc0312b: Ville B's contributor sending the same file under the same
    # name as Ville A's is a revision held for a curator to confirm it replaces Ville A's; its
    # page said « Rien n'a changé : ni le texte ni ce qui est enregistré avec lui », though
    # its contributor, the reason it waits, had.
    make_person(commune, "dora", "Ville A", "contributor")
    make_person(commune, "bea", "Ville B", "contributor")
    make_person(commune, "cyril", "Ville A", "curator")
    text = "La piscine ouvre le mercredi à 14 h.".encode()
    files = [("files", ("piscine.txt", text, "text/plain"))]
    form = {"collection": "mairie", "licence": "etalab-2.0"}
    dora = browser(app, "dora")
    dora.get("/contribute")
    dora.post("/contribute", form, files=files)
    bea = browser(app, "bea")
    bea.get("/contribute")
    bea.post("/contribute", form, files=files)
    [waiting] = commune.pending()
    page = browser(app, "cyril").get(f"/curation/{waiting['id']}").page
    assert "Le texte n'a pas changé. Ce qui a changé\u00a0: son contributeur.</p>" in page, page
    assert "Rien n'a changé" not in page


def test_a_follow_up_s_earlier_question_carries_its_language_on_a_page_in_another(app):
    """On the English page, « Et pour le bac jaune ? » after a French question was said to be
    read after “Quand passe le camion des ordures ?” with no lang: a screen reader read the
    French words with the page's English voice (WCAG 3.1.2), where the answer's own sentences
    are marked."""
    b = browser(app, "carol")
    english = {"Accept-Language": "en"}
    b.get("/", headers=english)
    first = "Quand passe le camion des ordures ?"
    r = b.post("/ask", {"question": "Et pour le bac jaune ?", "follows": first}, headers=english)
    assert '<html lang="en">' in r.text
    said = re.search(r'<p class="help" id="followed">(.*?)</p>', r.text, re.S)
    assert said, r.text[-3000:]
    assert f'<span lang="fr">{html.escape(first, quote=False)}</span>' in said.group(1)
    assert said.group(1).startswith("Read as a follow-up of your question “")
    # On the French page, nothing to mark.
    b.get("/")
    r = b.post("/ask", {"question": "Et pour le bac jaune ?", "follows": first})
    said = re.search(r'<p class="help" id="followed">(.*?)</p>', r.text, re.S)
    assert said and "<span" not in said.group(1)


def test_a_follow_up_after_a_refused_or_failed_question(app, commune):
    """As docs/web.md says: a question the charter refused stood alone, and a follow-up is
    read after it (« Et pour un rhume ? » after a refused medical question is refused too,
    not answered with whatever « un rhume » finds); a question that failed leaves the one
    before it."""
    (commune.settings.home / "charter.toml").write_text(
        'version = "1"\n[[utility.refuse]]\nname = "avis-medical"\nwords = ["ordonnance"]\n'
        'message_fr = "Pas d\'avis médicaux."\nmessage_en = "No medical advice."\n',
        encoding="utf-8",
    )
    b = browser(app, "carol")
    b.get("/")
    first = "Quand passe le camion des ordures ?"
    refused = "Faut-il une ordonnance pour un antibiotique ?"
    r = b.post("/ask", {"question": refused, "follows": first})
    assert "Pas d'avis médicaux." in r.page
    assert f'name="follows" value="{refused}"' in r.page
    r = b.post("/ask", {"question": "Et pour un rhume ?", "follows": refused})
    assert f"Lu comme la suite de votre question « {refused} »" in r.page.replace("\u00a0", " ")
    assert "Pas d'avis médicaux." in r.page
    # Failed (too long): the question before stays the one a follow-up is read after.
    r = b.post("/ask", {"question": "x" * 2500, "follows": first})
    assert r.status_code != 200 and f'name="follows" value="{first}"' in r.page


def test_a_follow_up_read_alone_leaves_the_question_it_could_not_follow(app):
    """« And the yellow bin? » after a French question is read alone (another
    language); it is no question a follow-up can follow (commune/conversation.py skips it, as
    /v1 does in a chat), and the page made it the one sent back: « Et pour le carton ? »,
    asked next, was read alone, where /v1 reads it after the French question."""
    b = browser(app, "carol")
    b.get("/")
    first = "Quand passe le camion des ordures ?"
    r = b.post("/ask", {"question": "And the yellow bin?", "follows": first})
    assert 'id="followed"' not in r.page
    assert f'name="follows" value="{first}"' in r.page
    assert f'data-follows="{first}"' in r.page
    r = b.post("/ask", {"question": "Et pour le carton ?", "follows": first})
    assert f"Lu comme la suite de votre question « {first} »" in r.page.replace("\u00a0", " ")


def test_a_cooperative_admin_records_and_undoes_a_departure_on_the_page_and_its_people_are_told(
    app, commune, monkeypatch
):
    """Members are managed on /admin, where a departure could not be recorded: it is, with
    the same library call as `commune member leave` (refusals in the form, in French, nothing
    recorded), undone there before its day; and a departed member's person who signs in
    with the right password is told why it opens nothing, not "wrong password"."""
    import json
    from datetime import UTC, datetime

    from commune.govern import members as m
    from commune.store.audit import entries

    alice = browser(app, "alice")
    alice.get("/admin")
    r = alice.post("/admin/members/leave", {"member": "Ville C", "on": "2026-02-30"})
    form = _form(r.page, "/admin/members/leave")
    assert r.status_code == 400 and 'id="leave-error"' in form
    assert "Le jour d'un départ doit s'écrire comme 2027-03-31" in form, form
    assert [x["left_on"] for x in commune.admin.members()] == [None, None]
    r = alice.post("/admin/members/leave", {"member": "Ville C", "on": "2099-01-01", "reason": "x"})
    assert r.status_code == 303 and r.headers["location"] == "/admin?done=leave"
    page = alice.get("/admin?done=leave").page
    assert "Départ enregistré\u00a0: le membre paie les mois où il en faisait partie" in page
    assert "part le 2099-01-01" in page and "/admin/members/stay" in page
    # Its undoing keeps its reason in the audit log, as `commune member stay --reason` does:
    # the page's form had no field for it.
    assert 'name="reason"' in _form(page, "/admin/members/stay")
    r = alice.post("/admin/members/stay", {"member": "Ville C", "reason": "vote annulé"})
    assert r.status_code == 303 and [x["left_on"] for x in commune.admin.members()] == [None, None]
    with commune.engine.connect() as conn:
        stayed = [e for e in entries(conn) if e["action"] == "member-stay"]
    assert [json.loads(e["details"])["reason"] for e in stayed] == ["vote annulé"]
    commune.admin.leave("Ville C", datetime(2099, 1, 1, tzinfo=UTC))
    monkeypatch.setattr(m, "now", lambda: datetime(2099, 1, 1, tzinfo=UTC))
    carol = browser(app)
    r = carol.sign_in("carol")
    assert r.status_code == 401
    assert "Ville C a quitté la coopérative le 2099-01-01" in r.page, r.page[-800:]
    r = carol.sign_in("carol", "pas le bon mot de passe")
    assert "Ville C" not in r.page  # a wrong password learns nothing of the member


def test_an_answer_shows_a_box_title_before_its_first_words(app, commune, tmp_path):
    """The page shows a box's title before the words it quotes from the box's start, as the
    answer's text does (answering/answer.py, `lead`), inside the sentence's own language."""
    page = tmp_path / "mariage.md"
    page.write_text(
        "# Mariage\n\n## À noter\n\n"
        "le nombre de témoins du mariage est de 2 minimum et 4 maximum.\n",
        encoding="utf-8",
    )
    commune.add([page], collection="mairie", licence="etalab-2.0")
    alice = browser(app, "alice")
    alice.get("/")  # the form's token
    question = {"question": "Combien de témoins pour le mariage ?", "mode": "extractive"}
    answer = alice.post("/ask", question).page
    assert "À noter\u00a0: le nombre de témoins du mariage est de 2 minimum et 4 maximum." in (
        answer
    ), answer


def test_a_members_last_admin_is_kept_on_the_administration_page(app, commune):
    """Alice, a cooperative admin of Ville A, took the role of Ville C's only member admin
    away (or removed her) from the administration page, and Ville C had nobody of its own
    to manage its people. The form says why not and what to do first, in the reader's
    language; once another admin of Ville C is appointed, it is done."""
    make_person(commune, "mona", "Ville C", "member-admin")
    alice = browser(app, "alice")
    alice.get("/admin")
    for language, said in (
        (
            "fr",
            "mona est le dernier administrateur de Ville C\u00a0: sans administrateur, "
            "personne de Ville C ne gérerait plus ses personnes (nommez d'abord un autre "
            "administrateur de Ville C\u00a0: faites d'une personne de Ville C son "
            "administrateur de membre)",
        ),
        (
            "en",
            "mona is the last admin of Ville C: without one, nobody of Ville C would manage "
            "its people (appoint another admin of Ville C first: make a person of Ville C "
            "its member admin)",
        ),
    ):
        headers = {"Accept-Language": language}
        for action, data in (
            ("/admin/roles", {"user": "mona", "role": "reader"}),
            ("/admin/users/remove", {"user": "mona", "reason": "x"}),
            ("/admin/users/remove", {"user": "mona", "reason": "x", "confirmed": "1"}),
        ):
            r = alice.post(action, data, headers=headers)
            assert r.status_code == 400, (action, r.status_code)
            assert said in re.sub(r"[ \n]+", " ", r.page), r.page  # no-break spaces kept
    assert commune.admin.actor("mona").role == "member-admin"
    assert alice.post("/admin/roles", {"user": "carol", "role": "member-admin"}).status_code == 303
    assert alice.post("/admin/roles", {"user": "mona", "role": "reader"}).status_code == 303


def test_a_departed_members_collection_is_not_opened_wider_from_the_administration_page(
    app, commune, tmp_path, monkeypatch
):
    """A cooperative admin asked to make a departed member's shared collection public was
    sent to that member's admins, who no longer sign in. The form says why nobody does it
    in its stead, in the reader's language, and whom to ask; the collection stays shared."""
    from commune.govern import members as m

    note = tmp_path / "compost.md"
    note.write_text("# Compost\n\nLe compostage de la ville C.\n", encoding="utf-8")
    commune.add([note], collection="c-shared", member="Ville C", visibility="shared",
                licence="CC-BY-4.0")  # fmt: skip
    commune.admin.leave("Ville C", datetime(2099, 1, 1, tzinfo=UTC))
    monkeypatch.setattr(m, "now", lambda: datetime(2099, 1, 2, tzinfo=UTC))
    alice = browser(app, "alice")
    alice.get("/admin")
    for language, said in (
        (
            "fr",
            "Ville C a quitté la coopérative le 2099-01-01\u00a0: personne n'ouvre plus "
            "largement sa collection 'c-shared' à sa place (demandez à l'opérateur)",
        ),
        (
            "en",
            "Ville C left the cooperative on 2099-01-01: nobody opens its collection "
            "'c-shared' wider in its stead (ask the operator)",
        ),
    ):
        r = alice.post(
            "/admin/collections/visibility",
            {"collection": "c-shared", "visibility": "public"},
            headers={"Accept-Language": language},
        )
        assert r.status_code == 403
        assert said in re.sub(r"[ \n]+", " ", r.page), r.page  # no-break spaces kept
    assert {c["name"]: c["visibility"] for c in commune.collections()}["c-shared"] == "shared"
