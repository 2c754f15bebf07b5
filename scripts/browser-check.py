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
   banner; "Identify a child" from the home page, sent once with the first name empty
   (the error summary, linking to the field), then filled in (names, date of birth as
   day/month/year, year group), the new child's page; "Add a progress note" there (the
   default "who may read it"), the banner; signing out;
b. the partner worker: sign in to the referrals inbox, accept a new referral, decline
   another (sent blank first: the error summary; then with a reason), the Accepted tab
   and a child's page from it; "Registers" in the header, "Take a register" for the
   first programme with children placed on it, sent once with the last child unticked
   (the error summary, linking to that child's radios), then with every child ticked
   (the first attended, with an engagement; the others absent), the banner; signing out;
c. the funder: sign in to the dashboard, a breakdown chosen ("By anchor") and shown: the
   table of children at each stage, the suppression ("c") explained, the funnel chart
   loaded; the CSV download's URL fetched over plain HTTP with the browser's session
   cookie (200, a CSV); signing out;
d. every other demo account: sign in, its home page (any page but an error page),
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
import urllib.error
import urllib.request
from urllib.parse import urljoin, urlparse

from selenium import webdriver
from selenium.common.exceptions import (NoSuchElementException, StaleElementReferenceException, TimeoutException,
                                        WebDriverException)
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

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
        self.statuses = {}  # URL: the status of its latest response, over the whole walk
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

    def choose(self, element_id, words):
        """Chooses an option of a select by its words."""
        el = self.find(f"//select[@id='{element_id}']", f"select #{element_id}")
        try:
            Select(el).select_by_visible_text(words)
        except NoSuchElementException:
            raise Broken(f'select #{element_id} has no option "{words}" (at {self.here()})') from None

    def fail(self, what):
        """A problem with the page of the last step that does not stop the walk."""
        print(f"       - {what}", flush=True)
        self.failures.append((f"{self.step_no:02d}", what))

    def summary_links_to(self, element_id):
        """The error summary links to #element_id, and that element is on the page."""
        self.find(f"//div[contains(@class,'error-summary')]//a[@href='#{element_id}']",
                  f"error summary link to #{element_id}")
        if not self.driver.find_elements(By.ID, element_id):
            raise Broken(f"the error summary links to #{element_id}, but there is no such element")
        if not self.driver.title.startswith("Error: "):
            self.fail(f'the title does not start with "Error: ": {self.driver.title}')

    def go(self, element):
        """Clicks a link or button that loads a new page, and waits for it."""
        old = self.driver.find_element(By.TAG_NAME, "html")
        element.click()

        def gone(_):
            # The old page's root is stale once the next page replaced it. Asked mid-way
            # through the navigation, Chromium may say so as an inspector error instead.
            try:
                old.is_enabled()
                return False
            except StaleElementReferenceException:
                return True
            except WebDriverException as e:
                if "does not belong to the document" in str(e) or "No node with given id" in str(e):
                    return True
                raise
        self.wait(gone, "the next page")
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
                self.statuses[url] = code
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

        # Identify a child, from the home page: sent first with the first name empty.
        self.go(self.link("Worklist and children", within="//header"))
        self.step("home-again", expect=["Your worklist", "Identify a child"], path="/")
        self.go(self.link("Identify a child"))
        self.step("identify-form", expect=["Identify a child", "First name", "Last name", "Date of birth",
                                           "Year group"], path="/children/new")
        first_name, last_name = "Wren", "Ottershaw"
        self.type_into("last-name", last_name)
        for part, value in (("day", "4"), ("month", "5"), ("year", "2016")):
            self.type_into(f"date-of-birth-{part}", value)
        self.type_into("year-group", "5")
        self.go(self.button("Identify the child"))
        self.step("identify-errors", expect=["There is a problem"], status=400, path="/children/new")
        self.summary_links_to("first-name")
        if self.driver.find_element(By.ID, "last-name").get_attribute("value") != last_name:
            raise Broken("the last name typed was not kept on the identify form")

        # Now properly.
        self.type_into("first-name", first_name)
        self.type_into("last-name", last_name)
        for part, value in (("day", "4"), ("month", "5"), ("year", "2016")):
            self.type_into(f"date-of-birth-{part}", value)
        self.type_into("year-group", "5")
        self.go(self.button("Identify the child"))
        new_name = f"{first_name} {last_name}"
        self.step("child-identified", expect=[new_name, "Date of birth", "4 May 2016", "Add a progress note"])
        new_path = urlparse(self.driver.current_url).path
        if not re.fullmatch(r"/children/[^/]+", new_path) or new_path == "/children/new":
            raise Broken(f"identifying the child did not lead to their page (at {self.here()})")
        h1 = self.driver.find_element(By.TAG_NAME, "h1").text.strip()
        if h1 != new_name:
            self.fail(f'the new child\'s page is headed "{h1}", not "{new_name}"')

        # A progress note on the new child's page, read by whom the form says by default.
        self.go(self.link("Add a progress note"))
        self.step("note-form", expect=["Add a progress note", "What is the note?", "Who may read it?"],
                  path=f"{new_path}/notes/new")
        if not any(r.is_selected() for r in self.driver.find_elements(By.XPATH, "//input[@name='visibility']")):
            raise Broken('no "who may read it" is chosen by default')
        note = f"Settling in well; enjoys reading with a friend (browser check {int(time.time())})."
        self.type_into("body", note)
        self.go(self.button("Add the note"))
        self.step("note-added", expect=["The note has been added.", new_name, note], path=new_path)

        # The adults around the new child: a carer with parental responsibility.
        self.go(self.link("Add an adult around the child"))
        self.step("adult-form", expect=["Add an adult around the child", "Who are they to the child?",
                                        "How are they involved?"], path=f"{new_path}/adults/new")
        self.tick("kind-1")
        self.type_into("name", "Robin Browsercarer")
        self.tick("involvement-0")
        self.tick("parental-responsibility-0")
        self.go(self.button("Add them"))
        self.step("adult-added", expect=["The adult has been added.", "Robin Browsercarer", "parental responsibility"],
                  path=new_path)

        # The agreement to take part: the form's own check first, then recorded.
        self.go(self.link("Record the agreement to take part"))
        self.step("participation-form", expect=["Agreement to take part", "Who agreed?", "When did they agree?"],
                  path=f"{new_path}/participation")
        self.type_into("agreed-by-name", "Robin Browsercarer")
        self.type_into("evidence", "Paper form, school office file")
        self.go(self.button("Record the agreement"))
        self.step("participation-errors", expect=["There is a problem", "Choose who agreed"], status=400,
                  path=f"{new_path}/participation")
        self.summary_links_to("agreed-by-0")
        self.tick("agreed-by-1")
        self.go(self.button("Record the agreement"))
        self.step("participation-recorded", expect=["The agreement to take part has been recorded.", new_name],
                  path=new_path)

        # Screening candidates from the anchor's data: the list, then one dismissed.
        self.go(self.link("Candidates", within="//header"))
        self.step("candidates", expect=["Candidates", "Flagged", "Areas at risk", "Why"], path="/candidates")
        self.go(self.button("Dismiss"))
        self.step("candidate-dismissed", expect=["The candidate has been dismissed.", "Candidates"], path="/candidates")

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

        self.registers()
        self.sign_out("partner")

    def registers(self):
        """A partner's registers: take one for the first programme with children on it."""
        self.go(self.link("Registers", within="//header"))
        self.step("registers", expect=["Registers", "Programme", "Take a register"], path="/registers")
        take = "//main//table//a[starts-with(normalize-space(), 'Take a register')]"
        count = len(self.driver.find_elements(By.XPATH, take))
        if not count:
            raise Broken('no programme on the registers page has a "Take a register" link')
        for n in range(count):
            links = self.driver.find_elements(By.XPATH, take)
            if n >= len(links):
                raise Broken(f"the registers page lists {len(links)} programmes, not {count}, the second time")
            self.go(links[n])
            self.step(f"register-form-{n + 1}", expect=["Take a register", "When was the session?",
                                                        "How long was it, in minutes?", "Who came"])
            register_path = urlparse(self.driver.current_url).path
            if "No children are placed on this programme yet." not in self.text():
                break
            print("       (no children on this programme: back to the registers, the next one)", flush=True)
            self.go(self.link("Back to registers"))
            self.step("registers-again", expect=["Registers", "Take a register"], path="/registers")
        else:
            raise Broken("no programme on the registers page has children placed on it")

        names = [lg.text.strip() for lg in self.driver.find_elements(
            By.XPATH, "//main//form//fieldset[.//input[starts-with(@name,'status:')]]/legend")]
        if not names:
            raise Broken("the register shows neither children nor that none are placed")

        def mark(i):
            if i == 0:
                self.tick(f"status-{i}-0")  # Attended
                self.choose(f"engagement-{i}", "Participating")
            else:
                self.tick(f"status-{i}-1")  # Absent

        # The last child left unticked first: the whole register comes back, nothing saved.
        last = len(names) - 1
        for i in range(last):
            mark(i)
        self.go(self.button("Save the register"))
        self.step("register-errors", expect=["There is a problem", f"Choose whether {names[last]} attended"],
                  status=400, path=register_path)
        self.summary_links_to(f"status-{last}-0")
        for i in range(last):
            chosen = f"status-{i}-0" if i == 0 else f"status-{i}-1"
            if not self.driver.find_element(By.ID, chosen).is_selected():
                raise Broken(f"what was ticked for {names[i]} was not kept")
        if last > 0 and Select(self.driver.find_element(By.ID, "engagement-0")).first_selected_option.text \
                != "Participating":
            raise Broken(f"the engagement chosen for {names[0]} was not kept")

        # Now every child.
        if last == 0:
            mark(0)
        else:
            mark(last)
        self.go(self.button("Save the register"))
        self.step("register-saved", expect=["The register has been saved.", "Registers"], path="/registers")

    def funder(self):
        self.start("funder")
        self.sign_in("funder@demo.zone")
        self.step("dashboard-funder", expect=["Dashboard", "Breakdown", "Children at each stage"], path="/dashboard")

        self.choose("groupBy", "By anchor")
        self.go(self.button("Show"))
        self.step("dashboard-by-anchor", expect=["Dashboard", "Children at each stage", "Referrals",
                                                 "Download these figures (CSV)"], path="/dashboard")
        if "groupBy=ANCHOR" not in urlparse(self.driver.current_url).query:
            self.fail(f"the breakdown chosen did not go with the form: {self.here()}")
        if Select(self.driver.find_element(By.ID, "groupBy")).first_selected_option.text != "By anchor":
            self.fail('the breakdown shown is not the one chosen ("By anchor")')

        # The table, with a row per anchor (and the total).
        rows = self.driver.find_elements(
            By.XPATH, "//h2[normalize-space()='Children at each stage']/following-sibling::*[1][self::table]//tbody/tr")
        if not rows:
            raise Broken('no table follows the heading "Children at each stage"')
        print(f"       (children at each stage: {len(rows)} rows: "
              f"{', '.join(r.find_element(By.XPATH, './th').text for r in rows)})", flush=True)

        # Suppression explained: a count below the threshold is shown as "c".
        notice = self.driver.find_elements(By.XPATH, "//main//div[contains(@class,'banner--notice')]")
        if not notice:
            self.fail("no explanation of the suppressed figures")
        elif not re.search(r"\bshown as c\b", notice[0].text) or \
                not notice[0].find_elements(By.XPATH, ".//strong[normalize-space()='c']"):
            self.fail(f'the suppression explanation does not say what "c" is: {notice[0].text!r}')

        # The funnel chart: loaded, and its request answered 200.
        img = self.find("//main//img[starts-with(@src, '/charts/funnel.svg')]", "the funnel chart (an img)")
        src = img.get_attribute("src")  # the property: absolute (urljoin would drop an empty "?")
        loaded = self.driver.execute_script("return [arguments[0].complete, arguments[0].naturalWidth]", img)
        if not loaded[0] or not loaded[1]:
            self.fail(f"the funnel chart did not load (complete {loaded[0]}, naturalWidth {loaded[1]}): {src}")
        if self.statuses.get(src) != 200:
            self.fail(f"the funnel chart's request was answered {self.statuses.get(src, 'never')}: {src}")
        else:
            print(f"       (funnel chart: 200, naturalWidth {loaded[1]})", flush=True)

        # The CSV download: its URL fetched as the browser would, with the session cookie.
        href = self.link("Download these figures (CSV)").get_attribute("href")
        url = href if urlparse(href).scheme else urljoin(self.base + "/", href)
        cookies = "; ".join(f"{c['name']}={c['value']}" for c in self.driver.get_cookies()
                            if c["name"] == "backbone_session")
        if not cookies:
            raise Broken("the browser has no backbone_session cookie")
        request = urllib.request.Request(url, headers={"Cookie": cookies, "Accept": "text/csv,*/*"})
        try:
            with urllib.request.urlopen(request, timeout=20) as r:
                code, kind, body = r.status, r.headers.get("Content-Type", ""), r.read()
        except urllib.error.HTTPError as e:
            code, kind, body = e.code, e.headers.get("Content-Type", ""), e.read()
        except OSError as e:
            code, kind, body = 0, "", str(e).encode()
        text = body.decode("utf-8", errors="replace")
        lines = [line for line in text.splitlines() if line.strip()]
        if code != 200:
            self.fail(f"the CSV download was answered {code}: {url}: {text[:200]!r}")
        elif not kind.startswith("text/csv"):
            self.fail(f"the CSV download is {kind or 'of no type'}, not text/csv: {url}")
        elif len(lines) < 2 or "," not in lines[0]:
            self.fail(f"the CSV download has no header and rows: {text[:200]!r}")
        else:
            print(f"ok   csv  [{self.journey}] GET {urlparse(url).path}?{urlparse(url).query} with the session"
                  f" cookie: 200 {kind}, {len(lines)} lines; header: {lines[0][:100]}", flush=True)

        self.sign_out("funder")

    def partner_lead(self):
        """The partner lead lands on the inbox, then changes a programme's places."""
        self.start("partnerlead")
        self.sign_in("partnerlead@demo.zone")
        self.step("home-partnerlead", expect=["Referrals", "New"], path="/inbox")
        self.go(self.link("Registers", within="//header"))
        self.step("registers-partnerlead", expect=["Registers", "Add a programme", "Change"], path="/registers")
        self.go(self.find("//a[starts-with(normalize-space(), 'Change')]", 'link "Change"'))
        self.step("programme-form", expect=["Change a programme", "Places", "Is it taking referrals?"])
        here = urlparse(self.driver.current_url).path
        self.type_into("capacity", "many")
        self.go(self.button("Save the programme"))
        self.step("programme-errors", expect=["There is a problem", "Enter the places as a whole number"], status=400,
                  path=here)
        self.summary_links_to("capacity")
        self.type_into("capacity", "40")
        self.go(self.button("Save the programme"))
        self.step("programme-saved", expect=["The programme has been saved."], path=here)
        self.sign_out("partnerlead")

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
            ("partner lead", self.partner_lead),
            ("funder", self.funder),
        ] + [
            # Their pages are being built: their home page (wherever it is) must load,
            # signed in, without an error page.
            (role, lambda a=account: self.other(a, ["Sign out"], None))
            for role, account in [("analyst", "analyst@demo.zone"), ("admin", "admin@demo.zone")]
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
