"""The dashboard (GET /) in a real browser: Debian's headless chromium,
driven by chromedriver through python3-selenium.

- the page loads from the daemon alone and shows data (the built-in
  dataset plus the other provinces' pairs of datasets/china);
- exactly the covered countries are shaded on the #map (data-pairs equal to
  query.coverage by country), #covered-count equals graph.stats;
- a change over RPC (a pair into a new country) reaches the page through
  /events, without a reload;
- it fits a laptop screen (1366x768) without sideways scrolling;
- a screenshot goes to $TN_DASHBOARD_PNG (default: the build directory's
  dashboard.png; docs/dashboard.png is made this way).
"""
import os
import subprocess
import sys
import time
import unittest

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

from tnharness import Daemon, cli_path, source_dir

WAIT = 30.0


def browser(width, height):
    opts = Options()
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--no-first-run", "--disable-extensions", "--hide-scrollbars",
              "--window-size=%d,%d" % (width, height), "--lang=en-US",
              "--disable-background-networking", "--disable-component-update",
              "--disable-default-apps", "--disable-sync"):
        opts.add_argument(a)
    opts.binary_location = "/usr/bin/chromium"
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)


def wait_for(fn, what, timeout=WAIT):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(0.1)
    raise AssertionError("timed out waiting for %s (last: %r)" % (what, last))


class DashboardInBrowser(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon(http="127.0.0.1:0").start()
        # The other provinces' pairs, as an office would load them: the gap
        # list then shows where peers already succeeded.
        china = os.path.join(source_dir(), "datasets", "china")
        subprocess.run([cli_path(), "--port", str(cls.d.port), "import",
                        "--nodes", os.path.join(china, "nodes.csv"),
                        "--pairs", os.path.join(china, "pairs.csv")],
                       check=True, stdout=subprocess.DEVNULL, timeout=120)
        cls.url = "http://127.0.0.1:%d/" % cls.d.http_port
        cls.rpc = cls.d.client()
        cls.drv = browser(1920, 1080)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.drv.quit()
        finally:
            cls.rpc.close()
            cls.d.stop()

    def shaded(self):
        """{iso2: pairs} of the map's elements that carry data-pairs, and
        the iso2 of those whose fill differs from an uncovered country's."""
        return self.drv.execute_script("""
            const none = getComputedStyle(document.querySelector('#map [data-iso2]:not([data-pairs]):not(.home)')).fill;
            const pairs = {}, filled = [];
            for (const e of document.querySelectorAll('#map [data-iso2]')) {
              if (e.hasAttribute('data-pairs')) pairs[e.getAttribute('data-iso2')] = +e.getAttribute('data-pairs');
              if (!e.classList.contains('home') && getComputedStyle(e).fill !== none) filled.push(e.getAttribute('data-iso2'));
            }
            return [pairs, filled];""")

    def test_dashboard(self):
        drv = self.drv
        drv.get(self.url)
        wait_for(lambda: drv.execute_script("return document.body.dataset.state") == "ready",
                 "the page to load its data")
        logs = drv.execute_script("return document.body.dataset.state")
        self.assertEqual(logs, "ready")

        # Exactly the covered countries are shaded, with their pair counts.
        cov = self.rpc.call("query.coverage", [{"by": "country"}])
        stats = self.rpc.call("graph.stats")
        covered = {c["id"]: c["pairs"] for c in cov["items"]}
        on_map = set(drv.execute_script(
            "return [...document.querySelectorAll('#map [data-iso2]')].map(e => e.getAttribute('data-iso2'))"))
        self.assertGreater(len(on_map), 190, "one map element per country")
        self.assertEqual(len(on_map), len(drv.execute_script(
            "return document.querySelectorAll('#map [data-iso2]')")), "no country twice")
        pairs, filled = self.shaded()
        expect = {k: v for k, v in covered.items() if k in on_map}
        self.assertEqual(pairs, expect)
        self.assertEqual(sorted(filled), sorted(expect))
        self.assertGreaterEqual(len(expect), len(covered) - 1)   # Tuvalu has no shape at 50m
        self.assertEqual(drv.find_element("id", "covered-count").text,
                         "%d/%d" % (stats["home"]["countries"], cov["total"]["countries"]))
        self.assertEqual(cov["total"]["covered"], stats["home"]["countries"])
        self.assertEqual(drv.find_element("id", "home-pairs").text, str(stats["home"]["pairs"]))
        # Idle units are visible in the heat map.
        gaps = self.rpc.call("query.gaps", [{"limit": 5}])
        idle = drv.execute_script(
            "return [...document.querySelectorAll('#heat g.unit.idle')].map(g => g.getAttribute('data-unit'))")
        self.assertEqual(sorted(idle), sorted(u["id"] for u in gaps["idle_units"]))
        # Partners by centrality are listed.
        wait_for(lambda: len(drv.find_elements("css selector", "#partners li")) == 10, "top partners")
        self.assertTrue(drv.execute_script(
            "return document.querySelector('#live').classList.contains('on')"), "the /events stream is open")

        # The whole page as a 1920-wide screen shows it.
        png = os.environ.get("TN_DASHBOARD_PNG") or os.path.join(os.getcwd(), "dashboard.png")
        height = drv.execute_script("return document.documentElement.scrollHeight")
        drv.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": 1920, "height": height, "deviceScaleFactor": 1, "mobile": False})
        time.sleep(0.5)
        self.assertTrue(drv.save_screenshot(png), png)
        drv.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        print("screenshot:", png)

        # A change over RPC shows up without a reload.
        drv.execute_script("window.__tnNoReload = 42")
        country = next(c for c in ["IS", "CL", "NZ", "KZ", "SE"] if c not in covered and c in on_map)
        self.rpc.call("node.upsert", [{"node": {"id": country + "-test-city", "kind": "city",
                                                "name": "Test City", "country": country}}])
        epoch = self.rpc.call("pair.upsert", [{"pair": {"a": "CN-430100", "b": country + "-test-city"}}])["epoch"]
        wait_for(lambda: drv.execute_script("return document.body.dataset.epoch") == str(epoch),
                 "the page to reach epoch %d" % epoch)
        self.assertEqual(drv.execute_script("return window.__tnNoReload"), 42, "the page was reloaded")
        pairs, filled = self.shaded()
        self.assertEqual(pairs.get(country), 1)
        self.assertIn(country, filled)
        self.assertEqual(drv.find_element("id", "covered-count").text,
                         "%d/%d" % (stats["home"]["countries"] + 1, cov["total"]["countries"]))

    def test_laptop(self):
        drv = browser(1366, 768)
        try:
            drv.get(self.url)
            wait_for(lambda: drv.execute_script("return document.body.dataset.state") == "ready", "load")
            width = drv.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
            self.assertLessEqual(width[0], width[1], "no sideways scrolling")
            box = drv.execute_script("const r = document.getElementById('map').getBoundingClientRect();"
                                     "return [r.width, r.height]")
            self.assertGreater(box[0], 600)
            self.assertGreater(box[1], 250)
        finally:
            drv.quit()


if __name__ == "__main__":
    unittest.main(verbosity=2, argv=[sys.argv[0]] + sys.argv[1:])
