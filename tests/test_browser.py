"""
The web view in a real browser: headless Chromium (Debian's C{chromium}
and C{chromium-driver}; C{.ci/run} installs them) driven by selenium,
against a simulator process: every page loads with real credentials and
shows what the simulator has; an order entered over FIX reaches the ladder
and the session's journal without a reload; a FIX Text holding a script
shows as text and never runs; a wrong password gets 401; without
JavaScript the pages still show their content.
"""

import os
import shutil
import time

from twisted.trial import unittest

import exsim
from exsim.testing import FixClient

try:
    from selenium import webdriver
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:  # pragma: no cover (the test extra installs selenium)
    webdriver = None

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")

#: Seconds to wait for the page to show a change.
WAIT = 30


def _skipReason():
    if webdriver is None:
        return "selenium is not installed (the test extra installs it)"
    if CHROMIUM is None or DRIVER is None:
        return ("chromium and chromium-driver are not installed (.ci/run installs them: "
                "apt-get install chromium chromium-driver)")
    return None


def browser(javascript=True):
    """
    A headless Chromium.
    """
    # Selenium must not try to download a browser or a driver.
    os.environ.setdefault("SE_OFFLINE", "true")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1280,900", "--disable-extensions"):
        options.add_argument(argument)
    if not javascript:
        options.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2}
        )
    return webdriver.Chrome(options=options, service=Service(DRIVER))


class BrowserTests(unittest.TestCase):
    skip = _skipReason()

    def setUp(self):
        server = self.server = exsim.API().create_server()
        self.addCleanup(server.delete)
        server.create_engine("e1")
        server.create_book("AAPL", "e1")
        server.create_endpoint("fix1", "e1", "fix", listen="tcp:0:interface=127.0.0.1")
        host, port = server.start_web("tcp:0:interface=127.0.0.1")
        self.base = "http://%s:%d" % (host, port)
        self.authorized = "http://%s:%s@%s:%d" % (server.user, server.password, host, port)
        self.driver = browser()
        self.addCleanup(self.driver.quit)
        fixHost, fixPort = server.get_endpoint_address("fix1")
        self.fix = FixClient(fixHost, fixPort, sender_comp_id="ALICE", target_comp_id="EXSIM")
        self.addCleanup(self.fix.close)
        self.fix.logon()

    def order(self, clOrdId, price, side="1", text=None):
        fields = [(11, clOrdId), (55, "AAPL"), (54, side), (60, "20240301-12:00:00"),
                  (38, 5), (40, "2"), (44, price), (59, "0")]
        if text is not None:
            fields.append((58, text))
        self.fix.send("D", fields)
        self.fix.wait_for("8", **{"11": clOrdId})

    def open(self, path):
        self.driver.get(self.authorized + path)
        self.waitFor(lambda d: d.find_element(By.ID, "live").text == "live", "the live stream to connect")

    def waitFor(self, condition, what):
        try:
            return WebDriverWait(self.driver, WAIT, poll_frequency=0.1).until(condition)
        except TimeoutException:
            self.fail("no %s within %d s; page: %s" % (what, WAIT, self.driver.page_source[:3000]))

    def text(self, element="main"):
        return self.driver.find_element(By.TAG_NAME, element).text

    def test_everyPage(self):
        self.order("c1", "10.25")
        self.open("/")
        overview = self.text()
        for expected in ("AAPL", "fix1", "fix1/ALICE", "matching"):
            self.assertIn(expected, overview)
        self.driver.find_element(By.LINK_TEXT, "AAPL").click()
        self.waitFor(lambda d: d.find_element(By.TAG_NAME, "h1").text == "Book AAPL", "the book page")
        self.assertIn("10.25", self.driver.find_element(By.ID, "ladder").text)
        self.open("/session/fix1/ALICE")
        self.assertIn("NewOrderSingle", self.driver.find_element(By.ID, "messages").text)
        self.assertIn("ClOrdID=c1", self.driver.find_element(By.ID, "messages").text)
        self.open("/events")
        self.assertIn("session_logon", self.driver.find_element(By.ID, "events").text)

    def test_liveWithoutReload(self):
        """
        An order entered over FIX reaches the ladder and the session's
        journal of open pages: no reload (a mark left in the page stays).
        """
        self.open("/book/AAPL")
        self.driver.execute_script("window.exsimMark = 42")
        self.order("c1", "10.37")
        self.waitFor(lambda d: "10.37" in d.find_element(By.ID, "ladder").text, "ladder update")
        self.assertIn("fix1/ALICE", self.driver.find_element(By.ID, "orders").text)
        self.assertEqual(self.driver.execute_script("return window.exsimMark"), 42)
        self.open("/session/fix1/ALICE")
        self.driver.execute_script("window.exsimMark = 43")
        self.order("c2", "10.38")
        self.waitFor(lambda d: "ClOrdID=c2" in d.find_element(By.ID, "messages").text, "journal update")
        first = self.driver.find_element(By.CSS_SELECTOR, "#messages tr").text
        self.assertIn("ExecutionReport", first)
        self.assertEqual(self.driver.execute_script("return window.exsimMark"), 43)
        self.open("/events")
        self.driver.execute_script("window.exsimMark = 44")
        self.order("c3", "10.39")
        self.waitFor(lambda d: "c3" in d.find_element(By.ID, "events").text, "events update")
        self.assertEqual(self.driver.execute_script("return window.exsimMark"), 44)

    def test_scriptShownAsText(self):
        """
        A FIX Text holding a script shows as text and does not run, on the
        page as served and as updated live.
        """
        script = "<script>window.exsimHacked = 1</script>"
        self.order("c1", "10.25", text=script)
        self.open("/session/fix1/ALICE")
        self.assertIn("Text=" + script, self.driver.find_element(By.ID, "messages").text)
        self.order("c2", "10.26", text=script.replace("1", "2") + '<img src=x onerror="window.exsimHacked=3">')
        self.waitFor(lambda d: "ClOrdID=c2" in d.find_element(By.ID, "messages").text, "journal update")
        self.assertIn('onerror="window.exsimHacked=3"', self.driver.find_element(By.ID, "messages").text)
        self.assertIsNone(self.driver.execute_script("return window.exsimHacked"))

    def test_wrongPassword(self):
        host = self.base.split("//")[1]
        self.driver.get("http://%s:%s@%s/" % (self.server.user, "wrong", host))
        status = self.driver.execute_script(
            "var e = performance.getEntriesByType('navigation')[0]; return e ? e.responseStatus : null"
        )
        self.assertEqual(status, 401)
        self.assertNotIn("fix1", self.driver.page_source)

    def test_withoutJavaScript(self):
        """
        With JavaScript off, pages show their content as served.
        """
        self.order("c1", "10.25")
        driver = browser(javascript=False)
        self.addCleanup(driver.quit)
        driver.get(self.authorized + "/")
        self.assertIn("fix1/ALICE", driver.find_element(By.ID, "sessions").text)
        self.assertEqual(driver.find_element(By.ID, "live").text, "static")
        driver.get(self.authorized + "/book/AAPL")
        self.assertIn("10.25", driver.find_element(By.ID, "ladder").text)
        time.sleep(0.5)
        self.assertEqual(driver.find_element(By.ID, "live").text, "static")
