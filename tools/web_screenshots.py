"""
Screenshots of the web view's pages for the documentation
(docs/web-overview.png, docs/web-book.png, docs/web-session.png,
docs/web-events.png): a simulator with a busy book, a FIX session and an
OUCH session, each page in headless Chromium (Debian's chromium and
chromium-driver, driven by selenium).

    .venv/bin/python tools/web_screenshots.py [--out docs]
"""

import argparse
import os
import shutil
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import exsim  # noqa: E402
from exsim.testing import FixClient, OuchClient  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "docs"))
    options = parser.parse_args()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    server = exsim.API().create_server()
    try:
        server.create_engine("e1")
        server.create_book("AAPL", "e1")
        server.set_book_property("AAPL", "reference_price", "150")
        server.set_book_property("AAPL", "activity", "slow")
        server.create_endpoint("fix1", "e1", "fix", listen="tcp:0:interface=127.0.0.1")
        server.create_endpoint("ouch1", "e1", "ouch", listen="tcp:0:interface=127.0.0.1")
        host, port = server.start_web("tcp:0:interface=127.0.0.1")
        fix = FixClient(*server.get_endpoint_address("fix1"), sender_comp_id="CLIENT1")
        fix.logon()
        for n, (side, price) in enumerate([("1", "149.95"), ("2", "150.10"), ("1", "150.10")]):
            fix.send("D", [(11, "c%d" % n), (55, "AAPL"), (54, side), (60, "20240301-12:00:00"),
                           (38, 100 * (n + 1)), (40, "2"), (44, price), (59, "0")])
            fix.wait_for("8", **{"11": "c%d" % n})
        ouch = OuchClient(*server.get_endpoint_address("ouch1"), "alice", "")
        ouch.login()
        ouch.enter_order("T1", "sell", 300, "AAPL", "150.25")
        ouch.wait_for("A", token="T1")
        time.sleep(3)  # some background activity
        chrome = webdriver.ChromeOptions()
        chrome.binary_location = shutil.which("chromium")
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                         "--window-size=1280,860", "--hide-scrollbars"):
            chrome.add_argument(argument)
        driver = webdriver.Chrome(options=chrome, service=Service(shutil.which("chromedriver")))
        try:
            base = "http://%s:%s@%s:%d" % (server.user, server.password, host, port)
            for name, path in (("overview", "/"), ("book", "/book/AAPL"),
                               ("session", "/session/fix1/CLIENT1"), ("events", "/events")):
                driver.get(base + path)
                time.sleep(1.5)
                target = os.path.join(options.out, "web-%s.png" % (name,))
                driver.save_screenshot(target)
                print(target)
        finally:
            driver.quit()
            fix.close()
            ouch.close()
    finally:
        server.delete()


if __name__ == "__main__":
    main()
