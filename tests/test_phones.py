"""Every page fits the screen, as a cooperative admin, a member admin and a reader see it,
on a phone (360 px, the narrowest common one) and a desktop (1280 px): no page scrolls
sideways (issue 24: 11 of 24 pages did at 390 px; at 360 px the account and administration
pages still did). Wide tables scroll inside their own box, long
words break, forms stack. One browser session walks every page at both widths.

Debian's headless Chromium through chromedriver (scripts/ensure-chromium.sh), as in
tests/test_browser.py."""

from __future__ import annotations

import os
import re
import shutil

import pytest

from tests.conftest import PASSWORD, make_person, serve
from tests.fixtures import headless_chromium

CHROMIUM = shutil.which("chromium")
DRIVER = shutil.which("chromedriver")

if not (CHROMIUM and DRIVER) and not os.environ.get("CI"):
    pytest.skip(
        "needs Debian's chromium and chromium-driver (make test installs them)",
        allow_module_level=True,
    )

WIDTHS = (360, 1280)
# A word longer than any phone: a URL, a hash, a file name.
LONG = "https://www.exemple-de-collectivite.fr/" + "deliberations/" * 6 + "budget-2026.pdf"
CODE = "```\ncommune serve --port 8000 --home /srv/commune\ncommune key create alice\n```\n"


@pytest.fixture
def site(commune, corpus):  # type: ignore[no-untyped-def]
    from commune.api.app import create_app

    (corpus / "long.md").write_text(
        f"# Installer\n\nLa source est {LONG} ; la somme SHA-256 est {'ab12' * 16}.\n\n"
        f"Pour lancer le service :\n\n{CODE}\nLe service répond alors.\n",
        encoding="utf-8",
    )
    commune.add([corpus], collection="mairie", licence="etalab-2.0", source=LONG)
    commune.set_curation_rules("mairie", 1, "curator")
    pending = corpus.parent / "pending"
    pending.mkdir()
    (pending / "liseuses.txt").write_text(
        "La médiathèque prête des liseuses.\nPour trois semaines.\nGratuitement.\n",
        encoding="utf-8",
    )
    commune.add([pending], collection="mairie", licence="CC-BY-4.0")
    make_person(commune, "alice", "Ville A", "cooperative-admin")
    # The administration page's peering table, its widest policy and every member kind.
    commune.share(
        "mairie",
        policy="non-commercial,share-alike,tdm-reserved",
        kinds="town,agglomeration,association,public-body,other",
    )
    # The pages as other roles see them: a member admin's administration page (its people,
    # its collection's curation rules, its keys) and statement line; a reader's refusals.
    make_person(commune, "marc", "Ville A", "member-admin")
    make_person(commune, "rita", "Ville A", "reader")
    commune.add([pending], collection="ville-a", member="Ville A", licence="CC-BY-4.0")
    # Marc's own contribution, waiting for a curator: the contribute page lists it, with why
    # it waits (that table was wider than a phone).
    mine = corpus.parent / "mine"
    mine.mkdir()
    (mine / "cantine.txt").write_text("La cantine ouvre à midi.\n", encoding="utf-8")
    commune.add([mine], collection="mairie", licence="CC-BY-4.0", actor=commune.actor("marc"))
    with serve(create_app(commune)) as url:
        yield url


@pytest.fixture
def browser(tmp_path):  # type: ignore[no-untyped-def]
    driver = headless_chromium(tmp_path / "chrome", 1280)
    yield driver
    driver.quit()


def width(driver, px: int) -> None:  # type: ignore[no-untyped-def]
    """The page laid out as on a screen ``px`` wide (a phone's when narrow)."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": px, "height": 900, "deviceScaleFactor": 1, "mobile": px < 600},
    )


def test_no_page_is_wider_than_the_screen(site, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{site}/signin")
    browser.find_element(By.ID, "user").send_keys("alice")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form[action='/signin'] button[type=submit]").click()
    WebDriverWait(browser, 30).until(lambda d: "/signin" not in d.current_url)

    # Addresses found on the pages themselves: a document, a revision waiting for curation.
    # Each page is loaded again until its link shows (a hang guard, not a time limit): on a
    # busy machine the first load can come before the signed-in session is in place.
    def link(path: str, pattern: str) -> re.Match[str]:
        found: list[re.Match[str]] = []

        def shows(d) -> bool:  # type: ignore[no-untyped-def]
            d.get(f"{site}{path}")
            m = re.search(pattern, d.page_source)
            found[:] = [m] if m else []
            return bool(m)

        try:
            WebDriverWait(browser, 60, poll_frequency=1).until(shows)
        except Exception:
            text = browser.find_element(By.TAG_NAME, "body").text[:500]
            raise AssertionError(f"no {pattern} on {path}: {text}") from None
        return found[0]

    doc = link("/commons?collection=mairie", r'href="/documents/(\d+)"')
    rev = link("/curation", r'href="/curation/(\d+)"')
    pages = [
        "/",
        "/commons",
        "/commons?q=service",
        "/contribute",
        "/curation",
        f"/curation/{rev.group(1)}",
        f"/documents/{doc.group(1)}",
        "/dashboard",
        "/dashboard?days=90",
        "/statement",
        "/payouts",
        "/admin",
        "/account",
        "/transparency",
        "/documents/99999",
    ]
    measured: dict[str, dict[int, int]] = {}
    for px in WIDTHS:
        width(browser, px)
        for page in pages:
            browser.get(site + page)
            measured.setdefault(page, {})[px] = browser.execute_script(
                "return document.documentElement.scrollWidth"
            )
        # An answer, asked through the page's script (the streamed answer and its sources).
        browser.get(f"{site}/")
        browser.find_element(By.ID, "question").send_keys("Comment lancer le service ?")
        browser.find_element(By.CSS_SELECTOR, "#ask button[type=submit]").click()
        WebDriverWait(browser, 30).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, "#answer-block article")
        )
        measured.setdefault("/ (answer)", {})[px] = browser.execute_script(
            "return document.documentElement.scrollWidth"
        )
    for user in ("marc", "rita"):
        browser.delete_all_cookies()
        width(browser, 1280)
        browser.get(f"{site}/signin")
        browser.find_element(By.ID, "user").send_keys(user)
        browser.find_element(By.ID, "password").send_keys(PASSWORD)
        browser.find_element(By.CSS_SELECTOR, "form[action='/signin'] button[type=submit]").click()
        WebDriverWait(browser, 30).until(lambda d: "/signin" not in d.current_url)
        for px in WIDTHS:
            width(browser, px)
            for page in ("/admin", "/statement", "/account", "/contribute", "/payouts"):
                browser.get(site + page)
                if (user, page) == ("marc", "/admin"):  # its collection's rules form shows
                    assert browser.find_elements(By.CSS_SELECTOR, "input[name=approvals]")
                measured.setdefault(f"{page} ({user})", {})[px] = browser.execute_script(
                    "return document.documentElement.scrollWidth"
                )
    too_wide = {p: w for p, w in measured.items() if any(w[px] > px for px in WIDTHS)}
    assert not too_wide, f"pages wider than the screen (page: {{width: scroll width}}): {too_wide}"


# The focused control and its ring (outline, its offset) against the visible part of the
# scroll box it is in, the box itself left aside; None when the focus is in no such box.
CUT = """
const e = document.activeElement;
const box = e && e.parentElement ? e.parentElement.closest('.wide') : null;
if (!box) return null;
const style = getComputedStyle(e);
const ring = Math.max(0, parseFloat(style.outlineWidth) + parseFloat(style.outlineOffset));
const r = e.getBoundingClientRect(), b = box.getBoundingClientRect();
const left = b.left + box.clientLeft, right = left + box.clientWidth;
const shown = Math.max(0, Math.min(r.right, right) - Math.max(r.left, left)) / r.width;
const cut = r.left - ring < left - 0.5 || r.right + ring > right + 0.5;
return {name: e.getAttribute('aria-label') || (e.labels && e.labels[0] ?
        e.labels[0].textContent.trim() : '') || e.name || e.tagName,
        shown: Math.round(100 * shown), cut: cut};
"""


def test_each_control_in_a_wide_table_is_seen_when_the_keyboard_reaches_it(site, browser):
    """WCAG 2.4.11 (focus not obscured) on /admin at 360 px, as a member admin of a member of
    three people: a control of a table wider than the phone, reached by Tab, stayed where it
    was in the table's scrolling box, cut at its edge or out of it: once round the page, 6
    of the tables' 15 controls (« Qui lit ville-a » not shown at all, « Rôle minimal qui
    approuve dans ville-a » 50 %), their focus ring cut. The page's script brings each into
    view, its ring with it."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{site}/signin")
    browser.find_element(By.ID, "user").send_keys("marc")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form[action='/signin'] button[type=submit]").click()
    WebDriverWait(browser, 30).until(lambda d: "/signin" not in d.current_url)
    width(browser, 360)
    browser.get(f"{site}/admin")
    # The tables wider than the phone: otherwise nothing is cut, and the test proves nothing.
    assert (
        browser.execute_script(
            "return [...document.querySelectorAll('.wide')]"
            ".filter(b => b.scrollWidth > b.clientWidth).length"
        )
        >= 2
    )
    stops = browser.execute_script(
        "return document.querySelectorAll('.wide :is(a, button, input, select, textarea)"
        ":not([type=hidden])').length"
    )
    met, cut, first = 0, [], None
    for _ in range(stops + 100):  # once round the page: its stops outside the tables too
        ActionChains(browser).send_keys(Keys.TAB).perform()
        focused = browser.switch_to.active_element
        if first is None:
            first = focused
        elif focused == first:
            break
        seen = browser.execute_script(CUT)
        if seen is None:
            continue
        met += 1
        if seen["cut"]:
            cut.append(f"{seen['name']} ({seen['shown']} %)")
    assert met == stops, f"Tab reached {met} of the tables' {stops} controls"
    assert not cut, f"{len(cut)} of {met} controls cut when focused: {cut}"
