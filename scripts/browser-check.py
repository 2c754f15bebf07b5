#!/usr/bin/python3
"""The console in a real browser: walks a running `backbone serve --demo` in headless
Chromium (Selenium), clicking and typing as a person does, and fails on

* a browser console error (level SEVERE);
* a failed request (Network.loadingFailed), a response of 500 or more, or of 400 or
  more on anything but a deliberate form-error submission (a form with problems is
  answered 400 by design, a wrong sign-in 401: those steps say so and must get it);
* a page without its expected text, or a flow that breaks (a link or button missing);
* an axe-core violation of impact serious or critical (WCAG 2.0/2.1 A and AA, 2.2 AA)
  on any page visited.

It walks:

a. the link worker: sign in (once with a wrong password), the worklist, a search by a
   name from the page, a child's page, "Log a contact" sent once with the minutes as
   letters (the error summary, linking to the field), then filled in properly, the
   banner, signing out;
b. the partner worker: sign in to the referrals inbox, accept a new referral, decline
   another (sent blank first: the error summary; then with a reason), the Accepted tab
   and a child's page from it, signing out;
c. every other demo account: sign in, its home page (any page but an error page),
   signing out.

Each step prints one line and saves a screenshot (NN-name.png) into --shots.
Run it through scripts/browser-check, which installs, builds and starts what it needs.
"""

import argparse
import base64
import json
import os
import re
import sys
import time
import traceback
from urllib.parse import urlparse

from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, TimeoutException, WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
FAILING_IMPACTS = ("serious", "critical")
PASSWORD = "demo"
# The h1 of the console's error pages (console::Refusal::page).
ERROR_PAGES = ("Page not found", "You cannot do this", "Too many attempts", "There is a problem",
               "Sorry, there is a problem with the service")

# axe.run as WebDriver's async script: only what the report needs comes back.
AXE_RUN = """
const done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})
  .then(r => done({passes: r.passes.length, violations: r.violations.map(v => ({
      id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
      nodes: v.nodes.map(n => ({target: n.target, impact: n.impact,
                                summary: n.failureSummary || '', html: n.html}))}))}))
  .catch(e => done({error: String(e && e.stack || e)}));
"""


class Broken(Exception):
    """The walk cannot go on: an expected page, text, link or button is not there."""


class Check:
    def __init__(self, args):
        self.base = args.base.rstrip("/")
        self.shots = args.shots
        self.axe_source = open(args.axe, encoding="utf-8").read()
        self.failures = []  # (step, what)
        self.notes = 0
        self.step_no = 0
        self.urls = {}  # request id: URL, from the performance log
        self.axe_rules = 0
        self.journey = ""
        os.makedirs(self.shots, exist_ok=True)
        for f in os.listdir(self.shots):
            if re.fullmatch(r"\d\d-.*\.png", f):
                os.remove(os.path.join(self.shots, f))

        options = Options()
        options.binary_location = args.chromium
        for flag in [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1280,900",
            f"--user-data-dir={args.profile}",
        ]:
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "SEVERE", "performance": "ALL"})
        options.add_experimental_option("perfLoggingPrefs", {"enableNetwork": True, "enablePage": False})
        self.driver = webdriver.Chrome(service=Service(executable_path=args.chromedriver), options=options)
        self.driver.set_page_load_timeout(30)
        self.driver.set_script_timeout(30)
        # Chromium opens on its own new-tab page, which asks for things of its own: what
        # it asked is not the console's, so it is let go before the walk starts.
        self.driver.get("about:blank")
        self.network_log(quiet=0.5)
        self.driver.get_log("browser")
        version = self.driver.capabilities.get("browserVersion", "?")
        print(f"browser-check: Chromium {version}, {self.base}, screenshots in {self.shots}", flush=True)

    # --- pieces ---------------------------------------------------------------

    def wait(self, condition, what, timeout=15):
        try:
            return WebDriverWait(self.driver, timeout).until(condition)
        except TimeoutException:
            raise Broken(f"timed out waiting for {what} (at {self.here()})") from None

    def here(self):
        try:
            u = urlparse(self.driver.current_url)
            return u.path + (f"?{u.query}" if u.query else "")
        except WebDriverException:
            return "?"

    def find(self, xpath, what):
        try:
            return self.driver.find_element(By.XPATH, xpath)
        except NoSuchElementException:
            raise Broken(f"no {what} on {self.here()} (looked for {xpath})") from None

    def button(self, words):
        return self.find(f"//button[normalize-space()='{words}']", f'button "{words}"')

    def link(self, words, within=""):
        return self.find(f"{within}//a[normalize-space()='{words}']", f'link "{words}"')

    def type_into(self, element_id, text):
        el = self.find(f"//*[@id='{element_id}']", f"field #{element_id}")
        el.click()
        el.clear()
        if text:
            el.send_keys(text)
        return el

    def tick(self, element_id):
        """Chooses a radio or checkbox by clicking its label, as a person does."""
        label = self.find(f"//label[@for='{element_id}']", f"label of #{element_id}")
        label.click()
        box = self.driver.find_element(By.ID, element_id)
        if not box.is_selected():
            raise Broken(f"clicking the label of #{element_id} did not choose it (at {self.here()})")

    def go(self, element):
        """Clicks a link or button that loads a new page, and waits for it."""
        old = self.driver.find_element(By.TAG_NAME, "html")
        element.click()
        self.wait(EC.staleness_of(old), "the next page")
        self.wait(lambda d: d.execute_script("return document.readyState") == "complete", "the page to load")

    def open(self, path):
        self.driver.get(self.base + path)

    def text(self):
        return self.driver.find_element(By.TAG_NAME, "body").text

    # --- one step: a page loaded -------------------------------------------------

    def step(self, name, expect=(), status=200, path=None):
        """Checks the page just loaded: its text, the requests and the console since the
        last step, axe-core; saves its screenshot; prints one line. `status` is what the
        page itself must have been answered (400 or 401 for a form sent with problems)."""
        self.step_no += 1
        label = f"{self.step_no:02d}-{name}"
        problems = []

        # Requests since the last step.
        documents = []
        for entry in self.network_log():
            msg = json.loads(entry["message"])["message"]
            method, params = msg.get("method"), msg.get("params", {})
            if method == "Network.requestWillBeSent":
                self.urls[params.get("requestId")] = params.get("request", {}).get("url", "?")
            elif method == "Network.responseReceived":
                r = params.get("response", {})
                code, url, kind = int(r.get("status", 0)), r.get("url", ""), params.get("type", "")
                if url.startswith("data:"):
                    continue
                if kind == "Document":
                    documents.append((code, url))
                    if code != status:
                        problems.append(f"the page was answered {code} (expected {status}): {url}")
                elif code >= 400:
                    why = " (every browser asks a site for /favicon.ico unless a page names its icon)" \
                        if urlparse(url).path == "/favicon.ico" else ""
                    problems.append(f"request failed with {code}: {kind} {url}{why}")
            elif method == "Network.loadingFailed":
                problems.append(
                    f"request failed: {params.get('type', '')} {params.get('errorText', '')}"
                    f"{' (canceled)' if params.get('canceled') else ''}"
                    f"{' blocked: ' + params['blockedReason'] if params.get('blockedReason') else ''}"
                    f": {self.urls.get(params.get('requestId'), 'request ' + str(params.get('requestId')))}"
                )
        if not documents:
            problems.append("no page was loaded by this step")

        # The console since the last step. A page deliberately answered 4xx is reported
        # by Chromium as "Failed to load resource" for that page's own URL: that one is
        # expected, nothing else is.
        expected_console = {
            f"{url} - Failed to load resource: the server responded with a status of {code}"
            for code, url in documents
            if code == status and status != 200
        }
        for entry in self.driver.get_log("browser"):
            if entry.get("level") != "SEVERE":
                continue
            message = entry.get("message", "")
            if any(message.startswith(e) for e in expected_console):
                continue
            problems.append(f"console error ({entry.get('source', '?')}): {message}")

        # The page's own text.
        body = self.text()
        for words in expect:
            if words not in body:
                problems.append(f'expected text missing: "{words}"')
        heading = " ".join(h.text.strip() for h in self.driver.find_elements(By.TAG_NAME, "h1"))
        if not heading:
            problems.append("the page has no h1")
        elif heading in ERROR_PAGES and heading not in expect:
            problems.append(f'an error page: "{heading}": {body[:300]!r}')
        if path is not None and urlparse(self.driver.current_url).path != path:
            problems.append(f"expected to be on {path}, but on {self.here()}")

        # Accessibility.
        violations = self.axe()
        serious = [v for v in violations if v["impact"] in FAILING_IMPACTS]
        minor = [v for v in violations if v["impact"] not in FAILING_IMPACTS]

        self.screenshot(label)

        title = self.driver.title
        verdict = "ok  " if not problems and not serious else "FAIL"
        print(f"{verdict} {label}  [{self.journey}] {self.here()}  \"{title}\"  (axe: {self.axe_rules} rules,"
              f" {len(violations)} violated)", flush=True)
        for p in problems:
            print(f"       - {p}", flush=True)
            self.failures.append((label, p))
        for v in serious:
            self.failures.append((label, f"axe {v['impact']} {v['id']}: {v['help']}"))
        for v in serious + minor:
            mark = "-" if v in serious else "(note, not failing)"
            print(f"       {mark} axe {v['impact']} {v['id']}: {v['help']} ({v['helpUrl']})", flush=True)
            for n in v["nodes"]:
                target = " ".join(str(t) for t in n["target"])
                print(f"           at {target}  {n['html'][:160]}", flush=True)
                for line in n["summary"].splitlines()[:4]:
                    print(f"              {line.strip()}", flush=True)
            if v in minor:
                self.notes += 1
        if documents and documents[-1][0] >= 500:
            raise Broken(f"the service failed ({documents[-1][0]}) at {self.here()}")

    def network_log(self, quiet=0.3, longest=5.0):
        """The performance log since the last step, once the network has been quiet for
        `quiet` seconds (what a page asks for after its load, such as its icon, belongs to
        it)."""
        entries, started, last = [], time.monotonic(), time.monotonic()
        while True:
            new = self.driver.get_log("performance")
            now = time.monotonic()
            if any(json.loads(e["message"])["message"].get("method", "").startswith("Network.") for e in new):
                last = now
            entries += new
            if now - last >= quiet or now - started >= longest:
                return entries
            time.sleep(0.05)

    def leftovers(self):
        """After a broken walk: what the console and the network said since the last step."""
        try:
            for entry in self.driver.get_log("browser"):
                print(f"       console {entry.get('level')}: {entry.get('message')}", flush=True)
            for entry in self.driver.get_log("performance"):
                msg = json.loads(entry["message"])["message"]
                if msg.get("method") == "Network.responseReceived":
                    r = msg["params"].get("response", {})
                    print(f"       response {r.get('status')} {r.get('url')}", flush=True)
        except WebDriverException:
            pass

    def axe(self):
        try:
            self.driver.execute_script(self.axe_source)
            result = self.driver.execute_async_script(AXE_RUN, AXE_TAGS)
        except WebDriverException as e:
            return [{"id": "axe-did-not-run", "impact": "critical", "help": str(e).splitlines()[0],
                     "helpUrl": "", "nodes": []}]
        if "error" in result:
            return [{"id": "axe-did-not-run", "impact": "critical", "help": result["error"].splitlines()[0],
                     "helpUrl": "", "nodes": []}]
        if not result.get("passes") and not result["violations"]:
            return [{"id": "axe-did-not-run", "impact": "critical", "help": "axe-core checked no rules on this page",
                     "helpUrl": "", "nodes": []}]
        self.axe_rules = result["passes"] + len(result["violations"])
        return result["violations"]

    def screenshot(self, label):
        try:
            metrics = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
            size = metrics.get("cssContentSize") or metrics["contentSize"]
            width = max(1280, int(size["width"]))
            height = min(max(900, int(size["height"])), 10000)
            shot = self.driver.execute_cdp_cmd("Page.captureScreenshot", {
                "format": "png", "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
            })
            with open(os.path.join(self.shots, f"{label}.png"), "wb") as f:
                f.write(base64.b64decode(shot["data"]))
        except WebDriverException:
            self.driver.save_screenshot(os.path.join(self.shots, f"{label}.png"))

    # --- journeys -------------------------------------------------------------

    def sign_in(self, email):
        """From the sign-in page: types the email and password and signs in."""
        self.type_into("email", email)
        self.type_into("password", PASSWORD)
        self.go(self.button("Sign in"))

    def sign_out(self, who):
        self.go(self.find("//header//button[normalize-space()='Sign out']", 'the header\'s "Sign out" button'))
        self.step(f"signed-out-{who}", expect=["You have signed out.", "Sign in to backbone"], path="/sign-in")

    def start(self, who):
        """A fresh browser state at the sign-in page."""
        self.journey = who
        self.driver.delete_all_cookies()
        self.open("/")  # signed out: sent to the sign-in page
        self.step(f"sign-in-{who}", expect=["Sign in to backbone", "Email address", "Password"], path="/sign-in")

    def link_worker(self):
        self.start("linkworker")
        # A wrong password first: 401, the error summary, the email kept.
        self.type_into("email", "linkworker@demo.zone")
        self.type_into("password", "not the password")
        self.go(self.button("Sign in"))
        self.step("sign-in-wrong-password", expect=["There is a problem", "Enter a correct email address and password"],
                  status=401, path="/sign-in")
        self.find("//div[contains(@class,'error-summary')]//a[@href='#email']", "error summary link to #email")
        if self.driver.find_element(By.ID, "email").get_attribute("value") != "linkworker@demo.zone":
            raise Broken("the email typed was not kept on the sign-in form")

        self.sign_in("linkworker@demo.zone")
        self.step("home-linkworker", expect=["Your worklist", "Children", "Sign out"], path="/")

        # Search by a name taken from the page: the first child's last name.
        first = self.find("//h2[@id='children']/following::table[1]//tbody//a", "a child in the children table")
        full = first.text.strip()
        surname = full.split()[-1]
        self.type_into("name", surname)
        self.go(self.button("Search"))
        self.step("search-children", expect=["Your worklist", full])
        results = self.driver.find_elements(By.XPATH, "//h2[@id='children']/following::table[1]//tbody//a")
        if not results or any(surname.lower() not in r.text.lower() for r in results):
            raise Broken(f'searching for "{surname}" gave {[r.text for r in results]}')

        # The child's page.
        self.go(self.link(full, within="//h2[@id='children']/following::table[1]"))
        self.step("child-page", expect=[full, "Date of birth", "The adults around the child", "Recent contacts",
                                        "Log a contact"])
        child_path = urlparse(self.driver.current_url).path

        # Log a contact: the minutes as letters first.
        self.go(self.link("Log a contact"))
        self.step("log-contact-form", expect=["Log a contact", "When was it?", "How long was it, in minutes?",
                                              "What kind of contact was it?", "Who was it with?", "What happened?"],
                  path=f"{child_path}/contacts/new")
        self.type_into("minutes", "a while")
        self.go(self.button("Log the contact"))
        self.step("log-contact-errors", expect=["There is a problem", "Enter how long it was, in whole minutes"],
                  status=400, path=f"{child_path}/contacts/new")
        if not self.driver.title.startswith("Error: "):
            self.failures.append((f"{self.step_no:02d}", f'the title does not start with "Error: ": {self.driver.title}'))
        summary_link = self.find("//div[contains(@class,'error-summary')]//a[@href='#minutes']",
                                 "error summary link to #minutes")
        if not self.driver.find_elements(By.ID, "minutes"):
            raise Broken("the error summary links to #minutes, but there is no such field")
        if self.driver.find_element(By.ID, "minutes").get_attribute("value") != "a while":
            raise Broken("what was typed into the minutes was not kept")
        summary_link.click()  # a same-page link: the field comes into view
        if not self.driver.execute_script("return location.hash") == "#minutes":
            raise Broken("the error summary's link did not go to #minutes")

        # Now properly: the date as it stands (today, pre-filled), retyped.
        for part in ("day", "month", "year"):
            value = self.driver.find_element(By.ID, f"held-on-{part}").get_attribute("value")
            if not value:
                raise Broken(f"held-on-{part} is empty: the form should keep or pre-fill the date")
            self.type_into(f"held-on-{part}", value)
        self.type_into("minutes", "25")
        self.tick("kind-0")
        self.tick("with-whom-0")
        note = f"Met at break time to talk about the week (browser check {int(time.time())})."
        self.type_into("content", note)
        self.go(self.button("Log the contact"))
        self.step("contact-logged", expect=["The contact has been logged.", full, note], path=child_path)

        self.sign_out("linkworker")

    def partner(self):
        self.start("partner")
        self.sign_in("partner@demo.zone")
        self.step("inbox-partner", expect=["Referrals", "New", "Accepted", "Active"], path="/inbox")

        accepts = self.driver.find_elements(By.XPATH, "//main//button[normalize-space()='Accept']")
        accepted_child = None
        if accepts:
            row = accepts[0].find_element(By.XPATH, "./ancestor::tr")
            accepted_child = row.find_element(By.XPATH, "./td[1]/a").text.strip()
            self.go(accepts[0])
            self.step("referral-accepted", expect=["The referral has been accepted."], path="/inbox")

            declines = self.driver.find_elements(By.XPATH, "//main//a[normalize-space()='Decline']")
            if declines:
                self.go(declines[0])
                self.step("decline-form", expect=["Decline the referral", "Why are you declining it?"])
                decline_path = urlparse(self.driver.current_url).path
                self.go(self.button("Decline the referral"))
                self.step("decline-blank", expect=["There is a problem", "Enter why you are declining the referral"],
                          status=400, path=decline_path)
                self.find("//div[contains(@class,'error-summary')]//a[@href='#reason']",
                          "error summary link to #reason")
                self.type_into("reason", "We have no mentor free this term; a place may open after half term.")
                self.go(self.button("Decline the referral"))
                self.step("referral-declined", expect=["The referral has been declined."], path="/inbox")
            else:
                print("       (only one new referral: nothing left to decline)", flush=True)
        else:
            print("       (no new referrals: looking at the Accepted and Active tabs)", flush=True)

        # The Accepted tab (the referral just accepted is there), then Active; a child's
        # page from whichever has one.
        opened = False
        for tab in ("Accepted", "Active"):
            self.go(self.link(tab, within="//nav[@aria-label='Referrals by state']"))
            self.step(f"inbox-{tab.lower()}", expect=["Referrals"] + ([accepted_child] if tab == "Accepted"
                                                                      and accepted_child else []))
            children = self.driver.find_elements(By.XPATH, "//main//table//tbody//td[1]/a")
            if children and not opened:
                name = children[0].text.strip()
                self.go(children[0])
                self.step("child-page-partner", expect=[name.split()[0], "Support package"])
                if "Log a contact" in self.text():
                    self.failures.append((f"{self.step_no:02d}", "a partner is offered \"Log a contact\""))
                opened = True
                self.go(self.link("Referrals", within="//header"))
                self.step("inbox-again", expect=["Referrals"], path="/inbox")
        if not opened:
            raise Broken("no referral in the New, Accepted or Active tabs has a child's page to open")

        self.sign_out("partner")

    def other(self, account, expect, path):
        who = account.split("@")[0]
        self.start(who)
        self.sign_in(account)
        if urlparse(self.driver.current_url).path == "/sign-in":
            self.step(f"home-{who}", expect=expect, path=path)
            raise Broken(f"{account} did not get past the sign-in page")
        self.step(f"home-{who}", expect=expect, path=path)
        self.sign_out(who)

    def run(self):
        journeys = [
            ("link worker", self.link_worker),
            ("partner worker", self.partner),
            ("anchor lead", lambda: self.other("anchorlead@demo.zone", ["Your worklist", "Children"], "/")),
            ("partner lead", lambda: self.other("partnerlead@demo.zone", ["Referrals", "New"], "/inbox")),
        ] + [
            # Their pages are being built: their home page (wherever it is) must load,
            # signed in, without an error page.
            (role, lambda a=account: self.other(a, ["Sign out"], None))
            for role, account in [("funder", "funder@demo.zone"), ("analyst", "analyst@demo.zone"),
                                  ("admin", "admin@demo.zone")]
        ]
        for role, walk in journeys:
            print(f"-- {role}", flush=True)
            try:
                walk()
            except Broken as e:
                print(f"FAIL [{self.journey}] {e}", flush=True)
                self.leftovers()
                self.failures.append((f"after {self.step_no:02d}", f"{role}: {e}"))
                self.screenshot(f"{self.step_no + 1:02d}-broken-{self.journey}")
                self.step_no += 1
            except WebDriverException as e:
                print(f"FAIL [{self.journey}] the browser: {str(e).splitlines()[0]} at {self.here()}", flush=True)
                self.failures.append((f"after {self.step_no:02d}", f"{role}: browser error {str(e).splitlines()[0]}"))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--base", required=True, help="the service, e.g. http://127.0.0.1:8080")
    p.add_argument("--axe", required=True, help="axe-core's axe.min.js")
    p.add_argument("--shots", required=True, help="directory for the screenshots")
    p.add_argument("--chromium", default="/usr/bin/chromium")
    p.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    p.add_argument("--profile", required=True, help="a fresh Chromium user-data directory")
    args = p.parse_args()

    started = time.monotonic()
    check = None
    try:
        check = Check(args)
        check.run()
    except Exception:
        traceback.print_exc()
        print("browser-check: FAILED: the check itself broke (above)", flush=True)
        return 2
    finally:
        if check is not None:
            try:
                check.driver.quit()
            except Exception:
                pass
    took = time.monotonic() - started
    if check.failures:
        print(f"\nbrowser-check: FAILED: {len(check.failures)} problem(s) in {check.step_no} steps ({took:.0f} s):",
              flush=True)
        for where, what in check.failures:
            print(f"  {where}: {what}", flush=True)
        print(f"screenshots: {args.shots}", flush=True)
        return 1
    notes = f"; {check.notes} minor/moderate axe finding(s) noted" if check.notes else ""
    print(f"\nbrowser-check: passed: {check.step_no} steps in {took:.0f} s{notes}; screenshots in {args.shots}",
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
