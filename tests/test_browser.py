"""The web page in a real browser: Debian's headless Chromium driven through chromedriver."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.conftest import make_key, serve

CHROMIUM = shutil.which("chromium")
DRIVER = shutil.which("chromedriver")

# On CI the browser is installed by `make test` (scripts/ensure-chromium.sh): there a
# missing browser is a failure, elsewhere a skip that says how to get it.
if not (CHROMIUM and DRIVER) and not os.environ.get("CI"):
    pytest.skip("needs Debian's chromium and chromium-driver", allow_module_level=True)


@pytest.fixture
def page_url(commune, corpus):  # type: ignore[no-untyped-def]
    from commune.api.app import create_app

    commune.add([corpus], collection="mairie", licence="etalab-2.0")
    secret = make_key(commune, "carol", "Ville C")
    with serve(create_app(commune)) as url:
        yield f"{url}/", secret


@pytest.fixture
def browser(tmp_path):  # type: ignore[no-untyped-def]
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    assert CHROMIUM and DRIVER, "chromium and chromedriver are missing: run make test as root"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'chrome'}",
        "--window-size=1000,900",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


def test_a_person_asks_a_question_and_reads_the_cited_answer(page_url, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    url, secret = page_url
    browser.get(url)
    wait = WebDriverWait(browser, 30)
    key = browser.find_element(By.ID, "key")
    key.send_keys(secret)
    browser.find_element(By.ID, "question").click()  # leaving the field saves the key
    wait.until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "#collection option[value=mairie]"))
    )
    browser.find_element(By.ID, "question").send_keys("Quand passe le camion des ordures ?")
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#sources li")))
    answer = browser.find_element(By.ID, "answer").text
    assert "mardi matin" in answer and "[1]" in answer
    source = browser.find_element(By.CSS_SELECTOR, "#sources li")
    assert "Gestion des déchets" in source.text and "etalab-2.0" in source.text
    assert "Licence Ouverte / Open Licence 2.0" in source.get_attribute("title")
    energy = browser.find_element(By.ID, "energy").text
    # CPU time x configured watts: an estimate, and the page says so.
    assert "mWh" in energy and "estimée / estimated" in energy
    browser.find_element(By.CSS_SELECTOR, "#why summary").click()
    steps = [
        li.text.split(" — ")[0] for li in browser.find_elements(By.CSS_SELECTOR, "#decisions li")
    ]
    assert steps == ["refuse", "reduce", "regulate", "responsibility", "redirect"]
    browser.save_screenshot(str(tmp_path / "page.png"))
