"""The web application in a real browser: Debian's headless Chromium through chromedriver.

Each page met is audited with axe-core (pinned, from the npm registry: scripts/ensure-axe.sh)
and must have no serious or critical violation; each is kept as a screenshot in
$COMMUNE_ARTIFACTS/screenshots (default: the system's temporary folder), outside the
repository.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import PASSWORD, make_person, serve
from tests.fixtures import headless_chromium

CHROMIUM = shutil.which("chromium")
DRIVER = shutil.which("chromedriver")
AXE = Path(__file__).resolve().parent.parent / ".cache" / "axe-core-4.10.3" / "axe.min.js"
ARTIFACTS = Path(os.environ.get("COMMUNE_ARTIFACTS") or Path(tempfile.gettempdir()) / "commune")
SHOTS = ARTIFACTS / "screenshots"

# On CI the browser and axe-core are installed by `make test` (scripts/ensure-chromium.sh,
# scripts/ensure-axe.sh): there a missing one is a failure, elsewhere a skip that says how.
if not (CHROMIUM and DRIVER and AXE.exists()) and not os.environ.get("CI"):
    pytest.skip(
        "needs Debian's chromium and chromium-driver, and axe-core (make test installs them)",
        allow_module_level=True,
    )

QUESTION = "Quand passe le camion des ordures ?"


@pytest.fixture
def site(commune, corpus):  # type: ignore[no-untyped-def]
    from commune.api.app import create_app

    commune.add([corpus], collection="mairie", licence="etalab-2.0")
    commune.set_curation_rules("mairie", 1, "curator")
    make_person(commune, "amelie", "Ville A", "contributor")
    make_person(commune, "cyril", "Ville A", "curator")
    make_person(commune, "alice", "Ville A", "cooperative-admin")
    with serve(create_app(commune)) as url:
        yield url


@pytest.fixture
def browser(tmp_path):  # type: ignore[no-untyped-def]
    assert AXE.exists(), "axe-core is missing: run bash scripts/ensure-axe.sh"
    driver = headless_chromium(tmp_path / "chrome", 1100)
    driver.set_script_timeout(60)
    yield driver
    driver.quit()


def audit(driver, name: str) -> None:  # type: ignore[no-untyped-def]
    """Screenshot the page, then run axe-core on it: no serious or critical violation."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / f"{name}.png"))
    driver.execute_script(AXE.read_text(encoding="utf-8"))  # WebDriver's scripts pass the CSP
    violations = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document).then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact,"
        " help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))))"
        ".catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e)}]));"
    )
    bad = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert not bad, f"{name} ({driver.current_url}): {bad}"


def contrast(one: str, other: str) -> float:
    """WCAG's contrast ratio of two CSS colours as a browser gives them ("rgb(r, g, b)")."""
    import re

    def luminance(colour: str) -> float:
        channels = [int(c) / 255 for c in re.findall(r"\d+", colour)[:3]]
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def wait(driver, seconds: float = 30):  # type: ignore[no-untyped-def]
    from selenium.common.exceptions import (
        NoSuchElementException,
        StaleElementReferenceException,
        WebDriverException,
    )
    from selenium.webdriver.support.ui import WebDriverWait

    class Waiting(WebDriverWait):  # type: ignore[misc]
        def until(self, method, message=""):  # type: ignore[no-untyped-def]
            def looked(d):  # type: ignore[no-untyped-def]
                try:
                    return method(d)
                except WebDriverException as exc:
                    # Chromium's own word for a stale element, met when the page is replaced
                    # between finding a node and reading it (a busy machine widens the gap):
                    # not a StaleElementReferenceException, so it failed the wait at once.
                    if "does not belong to the document" in (exc.msg or ""):
                        return False
                    raise

            return super().until(looked, message)

    # A page being replaced by the next one: look again.
    ignored = (NoSuchElementException, StaleElementReferenceException)
    return Waiting(driver, seconds, ignored_exceptions=ignored)


def sign_in(driver, url: str, user: str) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    driver.delete_all_cookies()
    driver.get(f"{url}/signin")
    driver.find_element(By.ID, "user").send_keys(user)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form[action='/signin'] button[type=submit]").click()
    # The next page parsed and its script run, not only its address changed: a test that
    # looked for the question box as the address changed missed it on a busy machine.
    wait(driver).until(
        lambda d: (
            "/signin" not in d.current_url
            and d.execute_script("return document.readyState") == "complete"
        )
    )


def test_a_new_user_asks_contributes_and_sees_it_through_curation(site, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    browser.get(f"{site}/")
    assert "/signin" in browser.current_url
    audit(browser, "signin")
    sign_in(browser, site, "amelie")

    # While the answer is on its way (a model may take a minute), the page says so, where
    # the empty box said nothing: here a request that never answers, then the page again.
    audit(browser, "ask")
    browser.execute_script("window.fetch = () => new Promise(() => {});")
    browser.find_element(By.ID, "question").send_keys(QUESTION)
    browser.find_element(By.CSS_SELECTOR, "#ask button[type=submit]").click()
    waiting = browser.find_element(By.ID, "waiting")
    assert waiting.is_displayed() and waiting.text == "Recherche de la réponse dans les documents…"
    # A status of its own, outside the answer's region that is aria-busy meanwhile.
    assert waiting.get_attribute("role") == "status"
    assert not waiting.find_elements(By.XPATH, "ancestor::*[@aria-busy]")
    browser.get(f"{site}/")
    # Ask in French: the answer streams in (the page stays at /: the script asked), cited.
    browser.find_element(By.ID, "question").send_keys(QUESTION)
    browser.find_element(By.CSS_SELECTOR, "#ask button[type=submit]").click()
    wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#sources li")))
    assert browser.current_url == f"{site}/"
    assert browser.find_element(By.ID, "waiting").text == ""
    answer = browser.find_element(By.ID, "answer").text
    assert "mardi matin" in answer and "[1]" in answer
    card = browser.find_element(By.CSS_SELECTOR, "#sources li")
    assert "Gestion des déchets" in card.text and "etalab-2.0" in card.text
    assert "Licence Ouverte / Open Licence 2.0" in card.text  # the attribution line
    energy = browser.find_element(By.ID, "energy").text
    assert "mWh" in energy and "estimée" in energy
    browser.find_element(By.CSS_SELECTOR, "#why summary").click()
    steps = [
        li.text.split(" (")[0] for li in browser.find_elements(By.CSS_SELECTOR, "#decisions li")
    ]
    assert steps[:3] == ["Refuser", "Réduire", "Réguler"]
    audit(browser, "ask-answer")
    # Issue 24: a command line streams in as code (as the whole answer then shows it), not as
    # text between backquotes; the page's own script, given the deltas the stream sends.
    shown = browser.execute_script(
        "const s = document.getElementById('streamed'); s.replaceChildren();"
        "showPiece(s, 'Lancez\u00a0:'); showPiece(s, ' `commune backup /srv/<b>x</b>` [2]');"
        "showPiece(s, ' `nameserver 192.0.2.1` […] [3]');"  # its listing goes on: the mark
        "return [s.textContent, [...s.querySelectorAll('code.code')].map(c => c.textContent),"
        " s.querySelectorAll('b').length];"
    )
    assert shown == [
        "Lancez\u00a0: commune backup /srv/<b>x</b> [2] nameserver 192.0.2.1 […] [3]",
        ["commune backup /srv/<b>x</b>", "nameserver 192.0.2.1"],
        0,
    ]

    # The card leads to the passage in the document view.
    card.find_element(By.TAG_NAME, "a").click()
    wait(browser).until(lambda d: "/documents/" in d.current_url)
    target = browser.current_url.split("#")[1]
    assert "mardi matin" in browser.find_element(By.ID, target).text
    assert "Révision 1" in browser.page_source
    audit(browser, "document")

    # Switch language.
    browser.find_element(By.CSS_SELECTOR, "button[name=language][value=en]").click()
    wait(browser).until(lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en")
    assert "Revisions" in browser.page_source
    browser.find_element(By.CSS_SELECTOR, "button[name=language][value=fr]").click()
    wait(browser).until(lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "fr")

    # Contribute a file with a licence: it waits for curation.
    browser.get(f"{site}/contribute")
    audit(browser, "contribute")
    doc = tmp_path / "liseuses.txt"
    doc.write_text(
        "La médiathèque prête des liseuses électroniques pour trois semaines, gratuitement.",
        encoding="utf-8",
    )
    browser.find_element(By.ID, "files").send_keys(str(doc))
    browser.find_element(By.CSS_SELECTOR, "input[name=licence][value='CC-BY-4.0']").click()
    browser.find_element(By.CSS_SELECTOR, "#contribute button[type=submit]").click()
    wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#results li")))
    result = browser.find_element(By.CSS_SELECTOR, "#results li").text
    assert "liseuses.txt" in result and "attend la curation" in result
    audit(browser, "contribute-result")

    # Another person, a curator, approves it with a reason.
    sign_in(browser, site, "cyril")
    browser.get(f"{site}/curation")
    audit(browser, "curation")
    browser.find_element(By.PARTIAL_LINK_TEXT, "liseuses").click()
    wait(browser).until(lambda d: "/curation/" in d.current_url)
    assert "trois semaines" in browser.find_element(By.CSS_SELECTOR, "pre.diff").text
    audit(browser, "revision")
    browser.find_element(By.ID, "decision-approve").click()
    browser.find_element(By.ID, "reason").send_keys("Source vérifiée auprès de la médiathèque.")
    # A refused decision is said in its form, what was typed kept (web/forms.py): audited.
    browser.find_element(By.ID, "licence").send_keys("FOO")
    browser.find_element(By.CSS_SELECTOR, "form[action^='/curation/'] button").click()
    wait(browser).until(ec.presence_of_element_located((By.ID, "decision-error")))
    audit(browser, "refused-form")
    browser.find_element(By.ID, "licence").clear()
    browser.find_element(By.CSS_SELECTOR, "form[action^='/curation/'] button").click()
    wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "p.done")))
    assert "publiée" in browser.find_element(By.CSS_SELECTOR, "p.done").text

    # The contributor finds it in an answer.
    sign_in(browser, site, "amelie")
    browser.find_element(By.ID, "question").send_keys(
        "La médiathèque prête-t-elle des liseuses électroniques ?"
    )
    browser.find_element(By.CSS_SELECTOR, "#ask button[type=submit]").click()
    wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#sources li")))
    assert "trois semaines" in browser.find_element(By.ID, "answer").text


def test_the_month_dashboard_statement_and_administration(site, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    sign_in(browser, site, "alice")
    browser.find_element(By.ID, "question").send_keys(QUESTION)
    browser.find_element(By.CSS_SELECTOR, "#ask button[type=submit]").click()
    wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#sources li")))
    browser.get(f"{site}/dashboard")
    assert len(browser.find_elements(By.CSS_SELECTOR, "svg.chart")) == 4
    assert browser.find_element(By.CSS_SELECTOR, ".totals li strong").text != "0"
    audit(browser, "dashboard")
    browser.get(f"{site}/statement")
    month = datetime.now(UTC).strftime("%Y-%m")
    assert month in browser.find_element(By.TAG_NAME, "h1").text
    assert "Ville A" in browser.find_element(By.TAG_NAME, "table").text
    link = browser.find_element(By.PARTIAL_LINK_TEXT, "CSV").get_attribute("href")
    assert link.endswith(f"/statement.csv?month={month}")
    audit(browser, "statement")
    for name in ("commons", "admin", "account", "transparency"):
        browser.get(f"{site}/{name}")
        audit(browser, name)
    browser.get(f"{site}/commons?q=piscine")
    audit(browser, "commons-search")
    browser.get(f"{site}/account")
    browser.find_element(By.ID, "key-expires").send_keys("30")  # as --expires-days 30
    browser.find_element(By.ID, "key-password").send_keys(PASSWORD)  # asked again
    browser.find_element(By.CSS_SELECTOR, "form[action='/keys'] button").click()
    wait(browser).until(ec.presence_of_element_located((By.ID, "new-key")))
    assert browser.find_element(By.ID, "new-key").text.startswith("cmn_")
    assert "expire le" in browser.find_element(By.CSS_SELECTOR, "table tbody").text
    audit(browser, "account-new-key")
    browser.get(f"{site}/documents/99999")
    audit(browser, "error")


def test_keyboard_alone_asks_and_contributes(site, browser, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec

    sign_in(browser, site, "amelie")
    keys = ActionChains(browser)

    def focused():  # type: ignore[no-untyped-def]
        return browser.switch_to.active_element

    def tab_to(element_id: str, limit: int = 40) -> None:
        for _ in range(limit):
            ActionChains(browser).send_keys(Keys.TAB).perform()
            if focused().get_attribute("id") == element_id:
                outline = focused().value_of_css_property("outline-style")
                assert outline != "none", f"#{element_id} shows no focus"
                # Seen, too: 3:1 at least against the white it is drawn on (WCAG 1.4.11);
                # the amber ring was 2.1:1.
                ring = focused().value_of_css_property("outline-color")
                assert contrast(ring, "rgb(255, 255, 255)") >= 3, f"#{element_id}: {ring}"
                return
        raise AssertionError(f"Tab never reached #{element_id}")

    browser.get(f"{site}/")
    keys.send_keys(Keys.TAB).perform()
    assert "skip" in (focused().get_attribute("class") or "")  # the first stop: skip the menu
    tab_to("question")
    ActionChains(browser).send_keys(QUESTION).perform()
    tab_to("mode")
    ActionChains(browser).send_keys(Keys.TAB, Keys.ENTER).perform()  # the Ask button
    wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#sources li")))
    assert "mardi matin" in browser.find_element(By.ID, "answer").text
    # The focus stays on the button while the answer streams in, and after: the script
    # disabled it, which dropped the focus to the page's body (a screen reader's place lost).
    wait(browser).until(lambda d: focused().get_attribute("class") == "primary")
    ActionChains(browser).send_keys(Keys.TAB).perform()
    first_source = browser.find_element(By.CSS_SELECTOR, "#sources li a")
    assert focused().get_attribute("href") == first_source.get_attribute("href")  # next stop

    browser.get(f"{site}/contribute")
    doc = tmp_path / "horaires.txt"
    doc.write_text("La piscine ouvre le dimanche de 9 h à 13 h.", encoding="utf-8")
    tab_to("files")
    focused().send_keys(str(doc))  # a file chooser is the system's: WebDriver fills it
    tab_to("licence-none")  # the licence group: arrows choose within it
    for _ in range(12):
        if (
            browser.find_element(By.CSS_SELECTOR, "input[name=licence]:checked").get_attribute(
                "value"
            )
            == "etalab-2.0"
        ):
            break
        ActionChains(browser).send_keys(Keys.ARROW_DOWN).perform()
    assert focused().get_attribute("value") == "etalab-2.0"
    for _ in range(40):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        if focused().tag_name == "button" and focused().get_attribute("class") == "primary":
            break
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#results li")))
    assert "horaires.txt" in browser.find_element(By.CSS_SELECTOR, "#results li").text


def test_an_ended_session_takes_the_script_to_the_sign_in_page(site, browser, tmp_path):
    """The script followed the sign-in redirect and showed nothing (ask), or put the whole
    sign-in page among the results (contribute); back from it, the question was gone."""
    from selenium.webdriver.common.by import By

    sign_in(browser, site, "amelie")
    browser.get(f"{site}/contribute")  # the page is open while the session ends
    browser.delete_cookie("commune_session")
    doc = tmp_path / "horaires.txt"
    doc.write_text("La mairie ouvre le samedi matin.", encoding="utf-8")
    browser.find_element(By.ID, "files").send_keys(str(doc))
    browser.find_element(By.CSS_SELECTOR, "input[name=licence][value='CC-BY-4.0']").click()
    browser.find_element(By.CSS_SELECTOR, "#contribute button[type=submit]").click()
    wait(browser).until(lambda d: "/signin" in d.current_url)
    sign_in(browser, site, "amelie")
    browser.get(f"{site}/")
    browser.delete_cookie("commune_session")
    browser.find_element(By.ID, "question").send_keys(QUESTION)
    browser.find_element(By.CSS_SELECTOR, "#ask button[type=submit]").click()
    wait(browser).until(lambda d: "/signin" in d.current_url)
    assert browser.find_elements(By.ID, "password")  # the sign-in form, ready
    # Signed in again from that page, the question typed is back in its box (it was lost),
    # once: the page opened after it starts empty.
    browser.find_element(By.ID, "user").send_keys("amelie")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form[action='/signin'] button[type=submit]").click()
    wait(browser).until(lambda d: "/signin" not in d.current_url)
    box = wait(browser).until(lambda d: d.find_element(By.ID, "question"))
    assert box.get_attribute("value") == QUESTION
    browser.get(f"{site}/")
    assert browser.find_element(By.ID, "question").get_attribute("value") == ""


def test_a_question_kept_through_sign_in_is_not_shown_to_the_next_person(site, browser):
    """On a shared computer, a clerk's session ended as they asked and they walked away: the
    next person signing in on that tab found the clerk's question (a resident's name, an
    address) in their own box."""
    from selenium.webdriver.common.by import By

    sign_in(browser, site, "amelie")
    browser.get(f"{site}/")
    browser.delete_cookie("commune_session")
    browser.find_element(By.ID, "question").send_keys(QUESTION)
    browser.find_element(By.CSS_SELECTOR, "#ask button[type=submit]").click()
    wait(browser).until(lambda d: "/signin" in d.current_url)
    browser.find_element(By.ID, "user").send_keys("cyril")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form[action='/signin'] button[type=submit]").click()
    wait(browser).until(lambda d: "/signin" not in d.current_url)
    box = wait(browser).until(lambda d: d.find_element(By.ID, "question"))
    assert "cyril" in browser.find_element(By.CSS_SELECTOR, ".who").text
    assert box.get_attribute("value") == ""
    # Nor later to the clerk, once another person's page has been opened on the tab.
    browser.get(f"{site}/")
    assert browser.find_element(By.ID, "question").get_attribute("value") == ""


def test_a_listing_wider_than_a_phone_scrolls_by_keyboard(commune, corpus, browser):
    """A command line wider than a phone scrolls inside its own box, in the answer and on the
    document's page: axe-core's scrollable-region-focusable (serious) found neither box
    reachable by the keyboard at 360 px, so a reader without a mouse could not read the end
    of the command."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    from commune.api.app import create_app

    (corpus / "lancer.md").write_text(
        "# Lancer le service\n\nPour lancer le service de la mairie, tapez :\n\n```\n"
        "commune --home /srv/commune-mairie key create accueil --label guichet\n"
        "commune --home /srv/commune-mairie serve --host 127.0.0.1 --port 8000 --no-auth\n"
        "```\n\nLe service répond alors sur le port 8000.\n",
        encoding="utf-8",
    )
    commune.add([corpus], collection="mairie", licence="etalab-2.0")
    make_person(commune, "amelie", "Ville A", "contributor")
    with serve(create_app(commune)) as site:
        sign_in(browser, site, "amelie")
        browser.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": 360, "height": 800, "deviceScaleFactor": 1, "mobile": True},
        )
        browser.get(f"{site}/")
        browser.find_element(By.ID, "question").send_keys("Comment lancer le service ?")
        browser.find_element(By.CSS_SELECTOR, "#ask button[type=submit]").click()
        wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#sources li")))
        codes = browser.find_elements(By.CSS_SELECTOR, "#answer code.code")
        assert any("--no-auth" in c.get_attribute("textContent") for c in codes)
        audit(browser, "phone-answer-listing")
        browser.find_element(By.PARTIAL_LINK_TEXT, "Lancer le service").click()
        wait(browser).until(lambda d: "/documents/" in d.current_url)
        assert browser.find_elements(By.CSS_SELECTOR, "pre.code")
        audit(browser, "phone-document-listing")


def test_a_member_admin_sets_how_contributions_are_approved_on_a_phone(commune, corpus, browser):
    """The administration page's curation rules, as a member admin of Ville A meets them on a
    phone (360 px), in French then in English: the form of their member's collection, by
    keyboard alone, its outcome said where the page opens; what the page refuses them
    (/payouts, the cooperative's) said in their language, with its true reason."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    from commune.api.app import create_app

    commune.add([corpus], collection="mairie", licence="etalab-2.0")
    make_person(commune, "marc", "Ville A", "member-admin")
    make_person(commune, "amelie", "Ville A", "contributor")
    commune.add([corpus / "pool.txt"], collection="ville-a", member="Ville A", licence="MIT")
    # Set by the operator's CLI: two contributors approve (a role the page does not offer).
    commune.set_curation_rules("ville-a", 2, "contributor")
    waiting = corpus.parent / "waiting"
    waiting.mkdir()
    (waiting / "horaires.txt").write_text(
        "La piscine ouvre le dimanche de 9 h à 13 h.", encoding="utf-8"
    )
    commune.add([waiting], collection="ville-a", licence="CC-BY-4.0", actor=commune.actor("amelie"))
    with serve(create_app(commune)) as site:
        sign_in(browser, site, "marc")
        browser.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": 360, "height": 800, "deviceScaleFactor": 1, "mobile": True},
        )
        browser.get(f"{site}/admin")
        rows = browser.find_elements(
            By.XPATH, "//h2[.='Comment les contributions sont approuvées']"
        )
        assert rows, browser.find_element(By.TAG_NAME, "main").text
        approvals = browser.find_element(By.CSS_SELECTOR, "input[name=approvals]")
        assert approvals.get_attribute("value") == "2"
        role = Select(browser.find_element(By.CSS_SELECTOR, "select[name=role]"))
        assert role.first_selected_option.get_attribute("value") == "contributor"
        assert browser.execute_script("return document.documentElement.scrollWidth") <= 360
        audit(browser, "phone-admin-rules")
        for _ in range(80):  # the keyboard: Tab to the collection's approvals field
            ActionChains(browser).send_keys(Keys.TAB).perform()
            if browser.switch_to.active_element.get_attribute("name") == "approvals":
                break
        else:
            raise AssertionError("Tab never reached the approvals field")
        ActionChains(browser).key_down(Keys.CONTROL).send_keys("a").key_up(Keys.CONTROL).send_keys(
            "0", Keys.TAB
        ).perform()
        assert browser.switch_to.active_element.get_attribute("name") == "role"
        ActionChains(browser).send_keys(Keys.TAB, Keys.ENTER).perform()  # its Change button
        wait(browser).until(lambda d: "done=rules" in d.current_url)
        done = browser.find_element(By.CSS_SELECTOR, "p.done").text
        assert "règles de curation ont changé" in done and "1 révision" in done, done
        assert (
            browser.find_element(By.CSS_SELECTOR, "input[name=approvals]").get_attribute("value")
            == "0"
        )
        audit(browser, "phone-admin-rules-done")
        # The cooperative's payouts statement: refused, in French, for the true reason.
        browser.get(f"{site}/payouts")
        main = browser.find_element(By.TAG_NAME, "main").text
        assert "administrateur de la coopérative ou plus" in main, main
        assert "member" not in main, main
        audit(browser, "phone-payouts-refused")
        browser.find_element(By.CSS_SELECTOR, "button[name=language][value=en]").click()
        wait(browser).until(
            lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
        )
        browser.get(f"{site}/admin")
        assert browser.find_elements(By.XPATH, "//h2[.='How contributions are approved']")
        assert browser.execute_script("return document.documentElement.scrollWidth") <= 360
        audit(browser, "phone-admin-rules-en")


def test_a_cooperative_admin_adds_another_members_person_without_a_password(commune, browser):
    """The administration page as a cooperative admin of Ville B meets it, in French: the
    form for Ville A's people offers no password (the policy would refuse it) and says who
    gives the first one; a refusal in it is said in it; a document not found is headed
    « Introuvable », not as a crash."""
    from selenium.webdriver.common.by import By

    from commune.api.app import create_app

    make_person(commune, "alice", "Ville B", "cooperative-admin")
    make_person(commune, "marc", "Ville A", "member-admin")
    with serve(create_app(commune)) as site:
        sign_in(browser, site, "alice")
        browser.get(f"{site}/admin")
        own, other = browser.find_elements(By.CSS_SELECTOR, "form[action='/admin/users']")
        assert own.find_elements(By.NAME, "password")
        assert not other.find_elements(By.NAME, "password")
        help_text = browser.find_element(By.ID, "user-other-help").text
        assert "des administrateurs de ce membre" in help_text, help_text
        audit(browser, "admin-other-member")
        other.find_element(By.ID, "other-name").send_keys("marc")  # a name already taken
        other.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait(browser).until(lambda d: d.find_elements(By.ID, "user-other-error"))
        said = browser.find_element(By.ID, "user-other-error").text
        assert "existe déjà" in said, said
        audit(browser, "admin-other-member-refused")
        browser.find_element(By.ID, "other-name").clear()
        browser.find_element(By.ID, "other-name").send_keys("paul")
        browser.find_element(By.CSS_SELECTOR, "input[name=form][value=user-other]").find_element(
            By.XPATH, ".."
        ).find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait(browser).until(lambda d: "done=user" in d.current_url)
        assert commune.admin.user_exists("paul")
        browser.get(f"{site}/documents/99999")
        assert browser.find_element(By.TAG_NAME, "h1").text == "Introuvable"
        audit(browser, "error-not-found")


def test_a_refusal_the_script_shows_is_tied_to_its_forms_fields(site, browser, tmp_path):
    """With the script, a question of blanks, or a contribution to a collection of a name
    refused, was said in the answer's or the results' place, tied to no field: a screen
    reader on the question box (or the collection field) did not hear why, where the page
    without script ties it (aria-describedby, _form.html). The next success unties it."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    sign_in(browser, site, "amelie")
    box = browser.find_element(By.ID, "question")
    box.send_keys("   ")
    browser.find_element(By.CSS_SELECTOR, "#ask button[type=submit]").click()
    said = wait(browser).until(ec.presence_of_element_located((By.ID, "ask-error")))
    assert "Écrivez d'abord une question." in said.text
    assert box.get_attribute("aria-describedby") == "question-help ask-error"
    box.send_keys(QUESTION)
    browser.find_element(By.CSS_SELECTOR, "#ask button[type=submit]").click()
    wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#sources li")))
    assert box.get_attribute("aria-describedby") == "question-help"
    assert not browser.find_elements(By.ID, "ask-error")

    browser.get(f"{site}/contribute")
    doc = tmp_path / "horaires.txt"
    doc.write_text("La médiathèque ouvre le lundi à neuf heures.", encoding="utf-8")
    browser.find_element(By.ID, "files").send_keys(str(doc))
    collection = browser.find_element(By.ID, "collection")
    collection.clear()
    collection.send_keys("mairie/../x")
    browser.find_element(By.CSS_SELECTOR, "#contribute button[type=submit]").click()
    said = wait(browser).until(ec.presence_of_element_located((By.ID, "contribute-error")))
    assert "nouvelle collection" in said.text
    assert collection.get_attribute("aria-describedby") == "collection-help contribute-error"
    assert browser.find_element(By.ID, "files").get_attribute("aria-describedby") == (
        "contribute-error"
    )
    audit(browser, "contribute-refused-script")


def test_a_month_fields_calendar_button_shows_the_focus_ring(site, browser):
    """Found by keyboard on /statement: after the month and the year, Tab stops on the month
    field's calendar button, inside the field, which was then not :focus-visible: only
    Chromium's thin default ring showed where the focus was, not the pages' own."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    sign_in(browser, site, "alice")
    browser.get(f"{site}/statement")
    inside = "const e = document.activeElement; return e.id === 'month' && !e.matches(':focus');"
    for _ in range(60):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        if browser.execute_script(inside):
            break
    else:
        raise AssertionError("Tab never reached the month field's calendar button")
    field = browser.switch_to.active_element
    assert field.value_of_css_property("outline-style") == "solid"
    assert contrast(field.value_of_css_property("outline-color"), "rgb(255, 255, 255)") >= 3


def test_a_refused_form_gives_the_focus_to_its_field_that_says_why(commune, corpus, browser):
    """Found with the keyboard alone on a curator's review: approving a revision sent without
    a licence was refused in its form, and the page came back with the focus at its top: the
    keyboard went through the menu and the diff again to reach the licence field, and a
    screen reader heard the page's title, not the refusal. The focus is now on the form's
    first field, whose description is the refusal; typed there, Enter sends it again."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    from commune.api.app import create_app

    commune.add([corpus], collection="mairie", licence="etalab-2.0")
    commune.set_curation_rules("mairie", 1, "curator")
    make_person(commune, "amelie", "Ville A", "contributor")
    make_person(commune, "cyril", "Ville A", "curator")
    sent = corpus.parent / "sent"
    sent.mkdir()
    (sent / "fete.txt").write_text("La fête du jardin a lieu le 21 juin.", encoding="utf-8")
    commune.add([sent], collection="mairie", actor=commune.actor("amelie"))  # no licence
    [waiting] = commune.pending()
    with serve(create_app(commune)) as site:
        sign_in(browser, site, "cyril")
        browser.get(f"{site}/curation/{waiting['id']}")
        # Approve is chosen already: the reason, then Tab to the button and Enter.
        browser.find_element(By.ID, "reason").send_keys("Annonce vérifiée.", Keys.TAB, Keys.ENTER)
        wait(browser).until(lambda d: d.find_elements(By.ID, "decision-error"))
        assert "n'a pas de licence" in browser.find_element(By.ID, "decision-error").text
        focused = browser.switch_to.active_element
        assert focused.get_attribute("id") == "licence"
        assert focused.get_attribute("aria-describedby") == "decision-error"
        audit(browser, "refused-form-focus")
        ActionChains(browser).send_keys("etalab-2.0", Keys.ENTER).perform()
        wait(browser).until(lambda d: "done=published" in d.current_url)


def test_a_decision_sent_after_the_session_ended_is_said_not_recorded(commune, corpus, browser):
    """A curator's session ended while they wrote their reason: sent, the decision led to the
    sign-in page, which said nothing; signed in again, the revision's page was as before,
    and whether the decision had counted could not be told. The sign-in page now says that
    nothing was recorded and to send it again, in the person's language."""
    from selenium.webdriver.common.by import By

    from commune.api.app import create_app

    commune.add([corpus], collection="mairie", licence="etalab-2.0")
    commune.set_curation_rules("mairie", 1, "curator")
    make_person(commune, "amelie", "Ville A", "contributor")
    make_person(commune, "cyril", "Ville A", "curator")
    sent = corpus.parent / "sent"
    sent.mkdir()
    (sent / "fete.txt").write_text("La fête du jardin a lieu le 21 juin.", encoding="utf-8")
    commune.add([sent], collection="mairie", licence="CC-BY-4.0", actor=commune.actor("amelie"))
    [waiting] = commune.pending()
    with serve(create_app(commune)) as site:
        sign_in(browser, site, "cyril")
        browser.get(f"{site}/curation/{waiting['id']}")
        browser.find_element(By.ID, "decision-request-changes").click()
        browser.find_element(By.ID, "reason").send_keys("Ajoutez l'heure.")
        browser.delete_cookie("commune_session")  # the session ends meanwhile
        browser.find_element(By.CSS_SELECTOR, "form[action^='/curation/'] button").click()
        wait(browser).until(lambda d: "/signin" in d.current_url)
        said = browser.find_element(By.CSS_SELECTOR, "main [role=alert]")
        said = said.get_attribute("textContent")
        assert said == (
            "Votre session avait pris fin\u00a0: ce que vous avez envoyé n'a pas été enregistré. "
            "Connectez-vous, puis envoyez-le de nouveau."
        ), said
        audit(browser, "signin-unsent")
        assert commune.pending()[0]["status"] == "proposed"  # nothing was done
        browser.find_element(By.ID, "user").send_keys("cyril")
        browser.find_element(By.ID, "password").send_keys(PASSWORD)
        browser.find_element(By.CSS_SELECTOR, "form[action='/signin'] button[type=submit]").click()
        wait(browser).until(lambda d: d.current_url.endswith(f"/curation/{waiting['id']}"))


def test_reloading_after_an_answer_keeps_the_question_and_the_answer(site, browser):
    """A resident reloaded the page once the answer had come (or their phone did, coming back
    to the tab): the box was empty and the answer gone, since the script had brought it in.
    Both are back, for the person who asked only."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select

    sign_in(browser, site, "amelie")
    browser.get(f"{site}/")
    browser.find_element(By.ID, "question").send_keys(QUESTION)
    Select(browser.find_element(By.ID, "mode")).select_by_value("extractive")
    browser.find_element(By.CSS_SELECTOR, "#ask button[type=submit]").click()
    wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#sources li")))
    browser.refresh()
    wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#sources li")))
    assert browser.find_element(By.ID, "question").get_attribute("value") == QUESTION
    assert browser.find_element(By.ID, "mode").get_attribute("value") == "extractive"
    assert browser.find_element(By.ID, "result").is_displayed()
    assert "mardi matin" in browser.find_element(By.ID, "answer").text
    # Another person signed in on the same tab, going back to that page, finds their own
    # empty page: not the answer, nor the question that Chromium put back in its box itself.
    browser.find_element(By.CSS_SELECTOR, "form[action='/signout'] button").click()
    wait(browser).until(lambda d: "/signin" in d.current_url)
    browser.find_element(By.ID, "user").send_keys("cyril")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form[action='/signin'] button[type=submit]").click()
    wait(browser).until(lambda d: "/signin" not in d.current_url)
    browser.back()
    browser.back()
    # Until the server's page is there: the one shown first, from the back-forward cache,
    # still names amelie until the script has it asked again.
    wait(browser).until(
        lambda d: (
            "cyril" in d.find_element(By.CSS_SELECTOR, ".who").text
            and d.execute_script("return document.readyState") == "complete"
        )
    )
    assert browser.find_element(By.ID, "question").get_attribute("value") == ""
    assert not browser.find_element(By.ID, "answer-block").text


def test_back_after_signing_out_does_not_show_the_signed_in_page(site, browser):
    """A clerk signed out at the counter's shared computer; the next person pressed the
    browser's back button and found the clerk's page again, their name and « Se déconnecter »
    at its top, the question and its answer below: Chromium keeps a page in its back-forward
    cache despite its Cache-Control: no-store. Back now asks the server again: the sign-in
    page."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    sign_in(browser, site, "amelie")  # taken to the question page
    browser.find_element(By.ID, "question").send_keys(QUESTION)
    browser.find_element(By.CSS_SELECTOR, "#ask button[type=submit]").click()
    wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#sources li")))
    # Back from a source's page, the answer is still there (reloaded, put back by the script).
    browser.find_element(By.CSS_SELECTOR, "#sources li a").click()
    wait(browser).until(lambda d: "/documents/" in d.current_url)
    browser.back()
    wait(browser).until(
        lambda d: (
            d.execute_script("return performance.getEntriesByType('navigation')[0].type")
            == "reload"
            and "mardi matin" in d.find_element(By.ID, "answer").text
        )
    )
    assert browser.find_element(By.ID, "question").get_attribute("value") == QUESTION
    browser.find_element(By.CSS_SELECTOR, "form[action='/signout'] button").click()
    wait(browser).until(lambda d: "/signin" in d.current_url)
    browser.back()
    wait(browser).until(lambda d: "/signin" in d.current_url and d.find_elements(By.ID, "password"))
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "amelie" not in body and "mardi matin" not in body
    assert browser.find_elements(By.ID, "password")


def test_a_wrong_password_gives_the_focus_back_to_the_password(site, browser):
    """A clerk mistyped their password with the keyboard: the sign-in page came back with the
    focus at its top, and they went through the language buttons again to reach the field.
    The focus is now on the password, the name typed kept; typed there, Enter signs in."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(f"{site}/signin")
    browser.find_element(By.ID, "user").send_keys("amelie", Keys.TAB, "faux", Keys.ENTER)
    wait(browser).until(
        lambda d: (
            d.find_elements(By.ID, "signin-error")
            and d.switch_to.active_element.get_attribute("id") == "password"
        )
    )
    focused = browser.switch_to.active_element
    assert focused.get_attribute("id") == "password"
    assert focused.get_attribute("aria-describedby") == "signin-error"
    assert browser.find_element(By.ID, "user").get_attribute("value") == "amelie"
    ActionChains(browser).send_keys(PASSWORD, Keys.ENTER).perform()
    wait(browser).until(lambda d: "/signin" not in d.current_url)
    # An API key refused: the focus is on the key, in its section left open.
    browser.find_element(By.CSS_SELECTOR, "form[action='/signout'] button").click()
    wait(browser).until(lambda d: "/signin" in d.current_url)
    browser.find_element(By.CSS_SELECTOR, "details summary").click()
    browser.find_element(By.ID, "key").send_keys("cmn_faux_faux", Keys.ENTER)
    wait(browser).until(
        lambda d: (
            d.find_elements(By.ID, "signin-error")
            and d.switch_to.active_element.get_attribute("id") == "key"
        )
    )


def test_a_question_pasted_past_the_limit_is_said_cut(site, browser):
    """A resident pasted a long letter into the question box: the box kept its first 2,000
    characters without a word. The page now says it as it happens."""
    from selenium.webdriver.common.by import By

    sign_in(browser, site, "amelie")
    box = browser.find_element(By.ID, "question")
    full = browser.find_element(By.ID, "question-full")
    box.send_keys("Bonjour")
    assert full.text == ""
    browser.execute_script(
        "arguments[0].focus(); document.execCommand('insertText', false, arguments[1])",
        box,
        "Mon enfant est né hier à la maternité. " * 60,
    )
    assert len(box.get_attribute("value")) == 2000
    assert full.get_attribute("textContent") == (
        "Votre question a atteint la limite de 2\u202f000 caractères\u00a0: "
        "la suite n'a pas été prise."
    )


def test_changing_the_language_keeps_the_question_being_typed(site, browser):
    """An English-speaking resident wrote their question on the French page, then pressed
    « English » to read the page in their language: it came back with an empty box."""
    from selenium.webdriver.common.by import By

    sign_in(browser, site, "amelie")
    question = "When does the rubbish lorry come?"
    browser.find_element(By.ID, "question").send_keys(question)
    browser.find_element(By.CSS_SELECTOR, "button[name=language][value=en]").click()
    # The page's script puts the question back once the page is parsed, after <html lang>.
    wait(browser).until(
        lambda d: (
            d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
            and d.find_element(By.ID, "question").get_attribute("value") == question
        )
    )
    # Once: the page opened after it starts empty.
    browser.get(f"{site}/")
    assert browser.find_element(By.ID, "question").get_attribute("value") == ""


def test_changing_the_language_after_an_answer_keeps_the_question_and_the_answer(site, browser):
    """A resident read their answer on the French page, then pressed « English »: the page came
    back with the question in its box but the answer gone, to be asked again. The answer is
    put back too, said to be in the language it was written in (its labels are the French
    page's), kept for a reload; and for the person who asked only: the next one signed in on
    the tab finds an empty page."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select

    sign_in(browser, site, "amelie")
    browser.find_element(By.ID, "question").send_keys(QUESTION)
    Select(browser.find_element(By.ID, "mode")).select_by_value("extractive")
    browser.find_element(By.CSS_SELECTOR, "#ask button[type=submit]").click()
    wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#sources li")))
    browser.find_element(By.CSS_SELECTOR, "button[name=language][value=en]").click()

    def back_in_english(d):  # type: ignore[no-untyped-def]
        return (
            d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
            and d.execute_script("return document.readyState") == "complete"
            and d.find_elements(By.CSS_SELECTOR, "#sources li")
        )

    wait(browser).until(back_in_english)
    assert browser.find_element(By.ID, "question").get_attribute("value") == QUESTION
    assert browser.find_element(By.ID, "mode").get_attribute("value") == "extractive"
    assert browser.find_element(By.ID, "result").is_displayed()
    assert "mardi matin" in browser.find_element(By.ID, "answer").text
    assert browser.find_element(By.ID, "answer-block").get_attribute("lang") == "fr"
    assert browser.find_element(By.CSS_SELECTOR, "button[type=submit].primary").text == "Ask"
    audit(browser, "answer-kept-across-language")
    browser.refresh()  # kept for a reload too, as any answer
    wait(browser).until(back_in_english)
    assert "mardi matin" in browser.find_element(By.ID, "answer").text
    # Asked again: in English now, no longer marked French.
    browser.find_element(By.CSS_SELECTOR, "#ask button[type=submit]").click()
    wait(browser).until(
        lambda d: (
            d.find_element(By.ID, "result").get_attribute("aria-busy") == "false"
            and d.find_elements(By.CSS_SELECTOR, "#sources li")
        )
    )
    block = browser.find_element(By.ID, "answer-block")
    assert not browser.execute_script("return arguments[0].hasAttribute('lang')", block)
    assert "Sources" in browser.find_element(By.ID, "result").text
    # Another person on the tab: neither the question nor the answer.
    browser.find_element(By.CSS_SELECTOR, "button[name=language][value=fr]").click()
    wait(browser).until(lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "fr")
    browser.find_element(By.CSS_SELECTOR, "form[action='/signout'] button").click()
    wait(browser).until(lambda d: "/signin" in d.current_url and d.find_elements(By.ID, "password"))
    browser.find_element(By.ID, "user").send_keys("cyril")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form[action='/signin'] button[type=submit]").click()
    wait(browser).until(
        lambda d: (
            "/signin" not in d.current_url
            and d.execute_script("return document.readyState") == "complete"
        )
    )
    assert browser.find_element(By.ID, "question").get_attribute("value") == ""
    assert not browser.find_element(By.ID, "answer-block").text
    assert browser.execute_script("return sessionStorage.length") == 0


def test_a_follow_up_asked_with_script_is_read_after_the_question_it_follows(site, browser):
    """The streamed answer's card gives the page the question a follow-up is read after: « Et
    pour le bac jaune ? », asked next, is answered as the suite of the question before it,
    and said so; after a reload too (the answer put back from the tab's history)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    sign_in(browser, site, "amelie")
    browser.get(f"{site}/")
    browser.find_element(By.ID, "question").send_keys(QUESTION)
    browser.find_element(By.CSS_SELECTOR, "#ask button[type=submit]").click()
    wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#sources li")))
    follows = browser.find_element(By.CSS_SELECTOR, "#ask input[name=follows]")
    assert follows.get_attribute("value") == QUESTION
    browser.refresh()  # put back from the history: the next question still follows it
    wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#sources li")))
    box = browser.find_element(By.ID, "question")
    box.clear()
    box.send_keys("Et pour le bac jaune ?")
    browser.find_element(By.CSS_SELECTOR, "#ask button[type=submit]").click()
    wait(browser).until(ec.presence_of_element_located((By.ID, "followed")))
    said = browser.find_element(By.ID, "followed").text.replace("\u00a0", " ")
    assert said == f"Lu comme la suite de votre question « {QUESTION} »."
    assert (
        browser.find_element(By.CSS_SELECTOR, "#ask input[name=follows]").get_attribute("value")
        == QUESTION
    )
    audit(browser, "follow-up")


def test_an_answer_kept_across_a_language_change_is_not_left_on_the_sign_in_page(site, browser):
    """A clerk read an answer, walked away, and their session ended; the next person pressed
    « English » on the page left open. The answer went into the tab's storage for the page
    that follows, and that page was the sign-in page, which never put it back: the clerk's
    answer (a resident's case) stayed there, in sessionStorage (the console; the session the
    browser saves to disk), whereas the tab's history entry forgets it there. The sign-in page
    forgets it too; the question alone waits for its person, as when a session ends as one
    asks, and the answer is asked again."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    sign_in(browser, site, "amelie")
    browser.find_element(By.ID, "question").send_keys(QUESTION)
    browser.find_element(By.CSS_SELECTOR, "#ask button[type=submit]").click()
    wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#sources li")))
    assert "mardi matin" in browser.find_element(By.ID, "answer").text
    browser.delete_cookie("commune_session")  # the session ends, the page stays open
    browser.find_element(By.CSS_SELECTOR, "button[name=language][value=en]").click()
    # A page for nobody signed in: the form refused (its token was the session's), then the
    # sign-in page it leads to.
    for step in ("refused", "signin"):
        if step == "signin":
            browser.find_element(By.CSS_SELECTOR, "main a[href^='/signin']").click()
        wait(browser).until(
            lambda d: (
                not d.find_elements(By.ID, "ask")
                and d.execute_script("return document.readyState") == "complete"
            )
        )
        assert not browser.find_elements(By.CSS_SELECTOR, ".who")
        stored = browser.execute_script(
            "return Object.keys(sessionStorage).map((k) => sessionStorage.getItem(k)).join()"
        )
        assert "mardi matin" not in stored and "sources" not in stored, step
    assert browser.find_elements(By.ID, "password")
    # Its person signing in again finds the question, not the answer, to be asked again.
    browser.find_element(By.ID, "user").send_keys("amelie")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form[action='/signin'] button[type=submit]").click()
    box = wait(browser).until(lambda d: d.find_element(By.ID, "question"))
    wait(browser).until(lambda d: d.execute_script("return document.readyState") == "complete")
    assert box.get_attribute("value") == QUESTION
    assert not browser.find_element(By.ID, "answer-block").text
    assert browser.execute_script("return sessionStorage.length") == 0


def test_without_script_the_answer_page_opens_at_the_answer_on_a_phone(site, browser):
    """Asked with script off on a phone (360 px): the page that came back opened at its top,
    the menu and the question form filling the screen, the answer out of sight below; the
    keyboard went through the menu and the form again to reach it. It now opens at the
    answer, and Tab goes on from there."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.set_window_size(360, 700)
    sign_in(browser, site, "amelie")
    browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    browser.get(f"{site}/")
    browser.find_element(By.ID, "question").send_keys(QUESTION)
    browser.find_element(By.CSS_SELECTOR, "#ask button[type=submit]").click()
    wait(browser).until(
        lambda d: (
            "/ask" in d.current_url
            and d.find_elements(By.ID, "answer")
            and d.execute_script("return document.readyState") == "complete"
            and d.execute_script("return window.scrollY") > 0
        )
    )
    top = browser.find_element(By.ID, "result").rect["y"]
    scrolled = browser.execute_script("return window.scrollY")
    assert scrolled > 0 and abs(top - scrolled) < 50, (top, scrolled)
    ActionChains(browser).send_keys(Keys.TAB).perform()
    assert browser.switch_to.active_element.get_attribute("class") == "cite"


def test_on_a_phone_asking_shows_that_the_answer_is_on_its_way(site, browser):
    """On a phone (360 by 640), the « Demander » button sat at the foot of the screen: pressed,
    the note saying the answer was being looked for, and then the answer, came below it, out
    of sight, and the page seemed not to have heard. The note is now brought into view."""
    from selenium.webdriver.common.by import By

    browser.set_window_size(360, 640)
    sign_in(browser, site, "amelie")
    browser.find_element(By.ID, "question").send_keys(QUESTION)
    button = browser.find_element(By.CSS_SELECTOR, "#ask button[type=submit]")
    # Scrolled as a thumb leaves it: the button at the screen's foot.
    browser.execute_script("arguments[0].scrollIntoView({block: 'end'})", button)
    browser.execute_script("window.fetch = () => new Promise(() => {});")  # never answers
    button.click()
    waiting = browser.find_element(By.ID, "waiting")
    wait(browser).until(lambda d: waiting.text == "Recherche de la réponse dans les documents…")
    seen = browser.execute_script(
        "const r = arguments[0].getBoundingClientRect();"
        "return [r.top, r.bottom, window.innerHeight, window.scrollY];",
        waiting,
    )
    assert seen[0] >= 0 and seen[1] <= seen[2] + 1, seen  # in view, to the pixel


def test_the_next_person_on_the_tab_cannot_read_the_last_question_kept_in_its_history(
    site, browser
):
    """The question and its answer are kept in the tab's history entry (to be put back on
    reload), and were left there after signing out: at the town hall's shared computer, the
    next person, back on that entry (the sign-in page, or their own page once signed in),
    read the clerk's question and answer in history.state (the browser's console; the
    session Chromium saves to disk too). They are forgotten once another person's page, or
    the sign-in page, is shown on that entry."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    sign_in(browser, site, "amelie")
    browser.find_element(By.ID, "question").send_keys(QUESTION)
    browser.find_element(By.CSS_SELECTOR, "#ask button[type=submit]").click()
    wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#sources li")))
    assert QUESTION in str(browser.execute_script("return history.state"))
    browser.find_element(By.CSS_SELECTOR, "form[action='/signout'] button").click()
    wait(browser).until(lambda d: "/signin" in d.current_url and d.find_elements(By.ID, "password"))
    browser.find_element(By.ID, "user").send_keys("cyril")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form[action='/signin'] button[type=submit]").click()
    wait(browser).until(lambda d: "/signin" not in d.current_url)
    browser.back()
    browser.back()  # the entry of the answer: cyril's page now
    wait(browser).until(
        lambda d: (
            "cyril" in d.find_element(By.CSS_SELECTOR, ".who").text
            and d.execute_script("return document.readyState") == "complete"
        )
    )
    kept = str(browser.execute_script("return history.state"))
    assert QUESTION not in kept and "mardi matin" not in kept


def test_removing_a_member_admin_is_confirmed_on_a_page_that_names_what_they_lose(commune, browser):
    """A member admin's « Retirer » on another member admin's row removed them at once, for
    good. It now leads to a page, audited here as the browser shows it, that names what they
    lose; « Garder » goes back with nothing done, « Retirer … définitivement » removes."""
    from selenium.webdriver.common.by import By

    from commune.api.app import create_app

    make_person(commune, "mona", "Ville C", "member-admin")
    make_person(commune, "max", "Ville C", "member-admin")
    with serve(create_app(commune)) as site:
        sign_in(browser, site, "mona")
        for keep in (True, False):
            browser.get(f"{site}/admin")
            form = browser.find_element(
                By.XPATH, "//form[@action='/admin/users/remove'][input[@value='max']]"
            )
            form.find_element(By.NAME, "reason").send_keys("changement de poste")
            form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
            wait(browser).until(lambda d: d.find_elements(By.ID, "lost"))
            assert browser.find_element(By.TAG_NAME, "h1").text == "Retirer max ?"
            assert "Son nom reste pris" in browser.find_element(By.TAG_NAME, "main").text
            if keep:
                audit(browser, "admin-remove-confirm")
                browser.find_element(By.LINK_TEXT, "Garder max").click()
                wait(browser).until(lambda d: d.current_url.endswith("/admin"))
                assert "max" in [p["name"] for p in commune.admin.people()]
            else:
                browser.find_element(
                    By.XPATH, "//button[normalize-space()='Retirer max définitivement']"
                ).click()
                wait(browser).until(lambda d: "done=removed" in d.current_url)
                assert "max" not in [p["name"] for p in commune.admin.people()]


def test_a_contribution_refused_as_busy_or_too_large_keeps_the_form_without_script(
    home, corpus, browser, tmp_path
):
    """With script off, a contribution refused by the overload guard (503) or as too large
    (413), both before its body is read, led "Back to the form" to an empty form: the
    licence, the publisher and the files chosen again. The page now says the browser kept
    them and to go back with its Back button; there, the form is as it was filled, and sent
    again as it is, it goes through."""
    from selenium.webdriver.common.by import By

    from commune.api.app import create_app
    from commune.core import Commune
    from tests.test_load import _guard

    home.mkdir(parents=True)
    (home / "commune.toml").write_text(
        "[limits]\nmax_concurrent_requests = 1\nmax_file_mb = 0.02\nmax_upload_mb = 0.02\n"
    )
    small, big = tmp_path / "marche.txt", tmp_path / "gros.txt"
    small.write_text("Le marché a lieu le samedi matin sur la place.\n", encoding="utf-8")
    big.write_text("Le marché a lieu le samedi matin sur la place.\n" * 1000, encoding="utf-8")
    kept = "Votre navigateur a gardé ce que vous avez rempli\u00a0: revenez au formulaire"

    def fill(doc) -> None:  # type: ignore[no-untyped-def]
        browser.get(f"{site}/contribute")
        browser.find_element(By.ID, "files").send_keys(str(doc))
        publisher = browser.find_element(By.ID, "publisher")
        publisher.clear()
        publisher.send_keys("Médiathèque")
        browser.find_element(By.CSS_SELECTOR, "label[for=licence-2]").click()
        browser.find_element(By.CSS_SELECTOR, "#contribute button[type=submit]").click()

    def refused(status: str) -> None:
        # The refusal's own page, by its title: the contribute page has a heading too, and a
        # wait for "main h1" could be met by it before the browser left it (CI, 413).
        wait(browser).until(lambda d: f"({status})" in d.title)
        said = browser.find_element(By.CSS_SELECTOR, "[role=alert]").get_attribute("textContent")
        assert browser.find_element(By.TAG_NAME, "h1").text == "Requête refusée", said
        assert status in browser.title and kept in said, (browser.title, said)
        browser.back()  # as the page says
        wait(browser).until(lambda d: d.find_elements(By.ID, "publisher"))
        assert browser.find_element(By.ID, "publisher").get_attribute("value") == "Médiathèque"
        assert browser.find_element(By.ID, "licence-2").is_selected()
        assert browser.find_element(By.ID, "files").get_attribute("value") != ""

    with Commune(home) as c:
        c.add([corpus], collection="mairie", licence="etalab-2.0")
        make_person(c, "amelie", "Ville A", "contributor")
        app = create_app(c)
        with serve(app) as site:
            sign_in(browser, site, "amelie")
            browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
            guard = _guard(app)
            guard.in_flight = guard.limit  # every slot taken by answers in flight
            fill(small)
            refused("503")
            guard.in_flight = 0  # the answers done: the form sent again as it came back
            browser.find_element(By.CSS_SELECTOR, "#contribute button[type=submit]").click()
            wait(browser).until(lambda d: "marche.txt" in d.find_element(By.ID, "results").text)
            fill(big)
            refused("413")


def test_a_question_refused_as_busy_without_script_is_not_said_to_be_kept(home, corpus, tmp_path):
    """The page a form refused as busy gets without script said "Your browser has kept what
    you filled in" on /ask too. The question's box has its autocomplete off (ask.html), and
    Chromium gives it back only from its back-forward cache, which a page leaves after a
    while or when room is needed: without it, the box came back empty under that promise.
    The page now says to type it again if its box is empty; a contribution's form, which the
    browser restores without that cache, is still said to be kept, and is."""
    from selenium.webdriver.common.by import By

    from commune.api.app import create_app
    from commune.core import Commune
    from tests.test_load import _guard

    home.mkdir(parents=True)
    (home / "commune.toml").write_text("[limits]\nmax_concurrent_requests = 1\n")
    doc = tmp_path / "marche.txt"
    doc.write_text("Le marché a lieu le samedi matin sur la place.\n", encoding="utf-8")
    driver = headless_chromium(tmp_path / "chrome", 1100, "--disable-features=BackForwardCache")
    try:
        with Commune(home) as c:
            c.add([corpus], collection="mairie", licence="etalab-2.0")
            make_person(c, "amelie", "Ville A", "contributor")
            app = create_app(c)
            with serve(app) as site:
                sign_in(driver, site, "amelie")
                driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
                driver.get(f"{site}/")
                guard = _guard(app)
                guard.in_flight = guard.limit  # every slot taken by answers in flight
                driver.find_element(By.ID, "question").send_keys(QUESTION)
                driver.find_element(By.CSS_SELECTOR, "#ask button[type=submit]").click()
                wait(driver).until(lambda d: "(503)" in d.title)
                said = driver.find_element(By.CSS_SELECTOR, "[role=alert]").text
                assert "Votre navigateur a gardé" not in said, said
                assert "si sa case est vide, tapez-la de nouveau" in said, said
                driver.back()
                wait(driver).until(lambda d: d.find_elements(By.ID, "question"))
                assert driver.find_element(By.ID, "question").get_attribute("value") == ""
                driver.get(f"{site}/contribute")
                driver.find_element(By.ID, "files").send_keys(str(doc))
                driver.find_element(By.ID, "publisher").send_keys("Médiathèque")
                driver.find_element(By.CSS_SELECTOR, "#contribute button[type=submit]").click()
                wait(driver).until(lambda d: "(503)" in d.title)
                said = driver.find_element(By.CSS_SELECTOR, "[role=alert]").text
                assert "Votre navigateur a gardé ce que vous avez rempli" in said, said
                driver.back()
                wait(driver).until(lambda d: d.find_elements(By.ID, "publisher"))
                assert "Médiathèque" in str(
                    driver.find_element(By.ID, "publisher").get_attribute("value")
                )
                assert driver.find_element(By.ID, "files").get_attribute("value") != ""
                guard.in_flight = 0
    finally:
        driver.quit()
