"""The README's screenshot: sign in to a running Commune, ask in French, keep the page.

    .venv/bin/python scripts/screenshot.py http://127.0.0.1:8000 docs/img/ask.png

Uses Debian's chromium and chromedriver, as the browser tests do (demo sign-in by default).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile


def main() -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("out")
    parser.add_argument("--user", default="demo")
    parser.add_argument("--password", default="commune-demo-2026")
    parser.add_argument("--question", default="Comment mettre à jour la liste des paquets ?")
    args = parser.parse_args()
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        f"--user-data-dir={tempfile.mkdtemp()}",
        "--window-size=1100,1250",
    ):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": "fr-FR,fr"})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    try:
        driver.get(f"{args.url}/signin")
        driver.find_element(By.ID, "user").send_keys(args.user)
        driver.find_element(By.ID, "password").send_keys(args.password)
        driver.find_element(By.CSS_SELECTOR, "form[action='/signin'] button").click()
        WebDriverWait(driver, 30).until(ec.presence_of_element_located((By.ID, "question")))
        driver.find_element(By.ID, "question").send_keys(args.question)
        driver.find_element(By.CSS_SELECTOR, "#ask button[type=submit]").click()
        WebDriverWait(driver, 120).until(ec.presence_of_element_located((By.ID, "sources")))
        driver.find_element(By.CSS_SELECTOR, "#why summary").click()
        driver.execute_script("window.scrollTo(0, 0); document.activeElement.blur()")
        driver.save_screenshot(args.out)
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
