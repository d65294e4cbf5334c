#!/usr/bin/python3
"""Drives alertcapd's web console in headless Chromium (Selenium).

    console.py URL TOKEN OUTDIR ALERT_CAPTURE RULE ALERT_FILE OTHER_NODE

Prints one line per check, "ok DESCRIPTION" or "not ok DESCRIPTION: WHY",
which tests/integration/75-web-console.sh counts. Screenshots of each
view go to OUTDIR, downloads to OUTDIR/downloads. Every wait is bounded.
"""
import json
import os
import sys
import time
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import (StaleElementReferenceException,
                                        TimeoutException, WebDriverException)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

URL, TOKEN, OUT, ALERT_CAPTURE, RULE, ALERT_FILE, OTHER = sys.argv[1:8]
WAIT = 15
FAILED = 0


def check(cond, what, why=""):
    global FAILED
    if cond:
        print("ok " + what, flush=True)
    else:
        FAILED += 1
        print("not ok %s: %s" % (what, why), flush=True)


def api(method, path, body=None):
    """The REST API itself, for what the page is compared with."""
    req = urllib.request.Request(URL + path, method=method,
                                 headers={"Authorization": "Bearer " + TOKEN})
    if body is not None:
        req.data = json.dumps(body).encode()
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.read()


def browser():
    opts = webdriver.ChromeOptions()
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
              "--disable-gpu", "--window-size=1400,1000",
              "--no-first-run", "--disable-extensions"):
        opts.add_argument(a)
    opts.binary_location = "/usr/bin/chromium"
    downloads = os.path.join(OUT, "downloads")
    os.makedirs(downloads, exist_ok=True)
    opts.add_experimental_option("prefs", {
        "download.default_directory": downloads,
        "download.prompt_for_download": False})
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"),
                         options=opts)
    d.set_page_load_timeout(30)
    d.set_script_timeout(30)
    d.execute_cdp_cmd("Page.setDownloadBehavior",
                      {"behavior": "allow", "downloadPath": downloads})
    return d, downloads


def shot(d, name):
    time.sleep(0.3)  # a poll may be redrawing
    d.save_screenshot(os.path.join(OUT, name + ".png"))


def wait(d, cond, what, timeout=WAIT):
    try:
        return WebDriverWait(d, timeout, poll_frequency=0.1).until(cond)
    except TimeoutException:
        check(False, what, "timed out after %d s" % timeout)
        return None


def text_of(d, css):
    try:
        return d.find_element(By.CSS_SELECTOR, css).text
    except WebDriverException:
        return ""


def click(d, css):
    """Clicks css, found afresh while a poll redraws the list under it."""
    for _ in range(50):
        try:
            d.find_element(By.CSS_SELECTOR, css).click()
            return
        except StaleElementReferenceException:
            time.sleep(0.1)
    d.find_element(By.CSS_SELECTOR, css).click()


def fact(d, key):
    return text_of(d, '[data-fact="%s"]' % key)


def row(d, name):
    return '#captures tr[data-name="%s"]' % name


def add_capture(d, name, iface, filters, **fields):
    """Fills the Add form: filters is a list of dicts of row fields."""
    d.get(URL + "/#/add")
    wait(d, EC.presence_of_element_located((By.ID, "add-form")), "the form")
    f = d.find_element(By.ID, "add-form")
    f.find_element(By.NAME, "name").send_keys(name)
    f.find_element(By.NAME, "interface").send_keys(iface)
    for k, v in fields.items():
        el = f.find_element(By.NAME, k)
        el.clear()
        el.send_keys(str(v))
    for i, flt in enumerate(filters):
        d.find_element(By.ID, "add-filter").click()
        for k, v in flt.items():
            el = f.find_element(By.CSS_SELECTOR,
                                '[data-field="filters[%d].%s"]' % (i, k))
            if k == "protocol":
                Select(el).select_by_value(v)
            else:
                el.send_keys(v)
    return f


def status_is(d, name, status, reason=None):
    def cond(_):
        t = text_of(d, row(d, name) + " .status-cell")
        return status in t and (reason is None or reason in t)
    return cond


def main():
    d, downloads = browser()
    try:
        run(d, downloads)
        check(True, "the browser session ran to its end")
    except Exception as e:  # counted, with what stopped it
        check(False, "the browser session ran to its end",
              "%s: %s" % (type(e).__name__, str(e).splitlines()[0]))
    finally:
        logs = d.get_log("browser")
        with open(os.path.join(OUT, "browser.log"), "w") as f:
            for e in logs:
                f.write(json.dumps(e) + "\n")
        # The page's own errors, and any CSP violation; the network's
        # expected answers (401 before signing in, the 400 of the bad
        # port range) are the API doing its job.
        bad = [e for e in logs if e.get("source") in
               ("javascript", "security", "console-api") and
               e.get("level") == "SEVERE"]
        csp = [e for e in logs if "Content Security Policy" in
               e.get("message", "") or "Content-Security-Policy" in
               e.get("message", "")]
        net = [e for e in logs if e.get("source") == "network" and not
               (" 401 " in e["message"] or "status of 401" in e["message"]
                or "status of 400" in e["message"])]
        check(not bad, "no console errors", json.dumps(bad)[:400])
        check(not csp, "no Content-Security-Policy violations",
              json.dumps(csp)[:400])
        check(not net, "no unexpected failed requests", json.dumps(net)[:400])
        d.quit()
    return 1 if FAILED else 0


def run(d, downloads):
    # Sign in: the API says 401, the page asks for the token.
    d.get(URL + "/")
    dlg = wait(d, EC.visibility_of_element_located((By.ID, "signin")),
               "the sign-in box")
    check(dlg is not None, "the page asks for a token (the API said 401)")
    shot(d, "signin")
    d.find_element(By.ID, "token").send_keys(TOKEN)
    d.find_element(By.ID, "signin-ok").click()
    t = wait(d, EC.presence_of_element_located((By.ID, "captures")),
             "the list")
    check(t is not None, "signed in, the captures list shows")
    check(d.execute_script("return sessionStorage.getItem('alertcap.token')")
          == TOKEN and d.get_cookies() == [],
          "the token is in sessionStorage, and no cookie is set")

    # The alert's capture shows its rule and alert.
    ok = wait(d, EC.presence_of_element_located(
        (By.CSS_SELECTOR, row(d, ALERT_CAPTURE))), "the alert's capture")
    trig = text_of(d, row(d, ALERT_CAPTURE))
    check(ok is not None and "rule " + RULE in trig and
          "alert ContainerLoss" in trig,
          "a capture an alert started shows its rule and alert", trig)

    # Add: an interface, two filter rows, limits.
    f = add_capture(d, "web1", "lo", [
        {"protocol": "Any", "remote_ip": "127.0.0.1"},
        {"protocol": "UDP", "remote_port": "53;5353"}],
        max_bytes_per_packet=128, max_bytes_per_session=1048576,
        time_limit_s=4)
    opts = [o.get_attribute("value") for o in
            d.find_elements(By.CSS_SELECTOR, "#ifaces option")]
    check("lo" in opts, "the interface list comes from GET /v1/interfaces",
          str(opts))
    shot(d, "add")
    f.find_element(By.ID, "add-submit").click()
    wait(d, lambda _: "Running" in fact(d, "Status") or
         "Stopped" in fact(d, "Status"), "the new capture's detail")
    rec = json.loads(api("GET", "/v1/captures/web1"))
    check(len(rec["filters"]) == 2 and rec["max_bytes_per_packet"] == 128
          and rec["time_limit_s"] == 4 and
          rec["filters"][1]["protocol"].upper() == "UDP" and
          rec["filters"][1]["remote_port"] == "53;5353",
          "the form's capture has its filters and limits",
          json.dumps(rec)[:300])
    check("Running" in fact(d, "Status"), "it is Running",
          fact(d, "Status"))
    shot(d, "detail-running")
    wait(d, lambda _: "Stopped" in fact(d, "Status") and "TimeExceeded" in
         fact(d, "Stop reason"), "TimeExceeded", 20)
    check("TimeExceeded" in fact(d, "Stop reason"),
          "then Stopped with TimeExceeded, live on the page")
    ev = text_of(d, "#events")
    check("NotStarted" in ev and "Running" in ev and "Stopped" in ev,
          "the detail shows the events as a timeline", ev)
    shot(d, "detail")

    # Another, stopped by hand from the list.
    f = add_capture(d, "long1", "lo", [], time_limit_s=600)
    f.find_element(By.ID, "add-submit").click()
    wait(d, lambda _: "Running" in fact(d, "Status"), "long1 running")
    d.get(URL + "/#/captures")
    wait(d, status_is(d, "long1", "Running"), "long1 in the list")
    click(d, row(d, "long1") + " input")
    shot(d, "captures")
    click(d, "#action-stop")
    r = wait(d, status_is(d, "long1", "Stopped", "ManualStop"),
             "long1 stopped")
    check(r is not None, "Stop from the list: Stopped, ManualStop")

    # Delete through the confirmation.
    click(d, "#action-delete")
    dlg = wait(d, EC.visibility_of_element_located((By.ID, "confirm")),
               "the confirmation")
    msg = text_of(d, "#confirm-text")
    check(dlg is not None and "file is kept" in msg,
          "Delete asks first and says the file is kept", msg)
    shot(d, "delete-confirm")
    d.find_element(By.ID, "confirm-cancel").click()
    time.sleep(0.5)
    check(d.find_elements(By.CSS_SELECTOR, row(d, "long1")),
          "Cancel keeps the capture")
    click(d, "#action-delete")
    wait(d, EC.visibility_of_element_located((By.ID, "confirm")),
         "the confirmation again")
    d.find_element(By.ID, "confirm-ok").click()
    gone = wait(d, lambda _: not d.find_elements(By.CSS_SELECTOR,
                                                 row(d, "long1")),
                "long1 gone")
    check(gone is not None, "Delete removes it from the list")
    try:
        api("GET", "/v1/captures/long1")
        check(False, "the API forgot it too", "still there")
    except urllib.error.HTTPError as e:
        check(e.code == 404, "the API forgot it too", str(e.code))

    # Download: the bytes the API serves.
    wait(d, EC.presence_of_element_located(
        (By.CSS_SELECTOR, row(d, "web1") + " input")), "web1 in the list")
    click(d, row(d, "web1") + " input")
    click(d, "#action-download")
    want = api("GET", "/v1/captures/web1/file")
    got, deadline = None, time.time() + WAIT
    while time.time() < deadline:
        files = [x for x in os.listdir(downloads) if x.startswith("web1")
                 and not x.endswith(".crdownload")]
        if files:
            with open(os.path.join(downloads, files[0]), "rb") as fh:
                got = fh.read()
            if len(got) == len(want):
                break
        time.sleep(0.1)
    check(got == want and len(want) > 0,
          "Download saves exactly the bytes of GET .../file (%d)" % len(want),
          "got %s bytes" % (None if got is None else len(got)))

    # An invalid port range: the API's message at that field.
    f = add_capture(d, "bad1", "lo", [
        {"protocol": "TCP", "local_port": "80"},
        {"protocol": "UDP", "remote_port": "90-80"}])
    f.find_element(By.ID, "add-submit").click()
    err = wait(d, EC.presence_of_element_located(
        (By.CSS_SELECTOR, '[data-error-for="filters[1].remote_port"]')),
        "the field's error")
    inp = d.find_element(By.CSS_SELECTOR,
                         '[data-field="filters[1].remote_port"]')
    check(err is not None and err.text.startswith("filters[1].remote_port:")
          and inp.get_attribute("aria-invalid") == "true" and
          err.find_element(By.XPATH, "..") == inp.find_element(By.XPATH,
                                                                ".."),
          "an invalid port range shows the API's message at that field",
          err.text if err else "")
    shot(d, "add-error")

    # The alert's capture in detail.
    d.get(URL + "/#/capture/" + ALERT_CAPTURE)
    wait(d, lambda _: fact(d, "Rule") == RULE, "the alert's detail")
    check(fact(d, "Rule") == RULE and fact(d, "Alert") == "ContainerLoss",
          "the detail names the rule and the alert",
          fact(d, "Rule") + " / " + fact(d, "Alert"))
    shot(d, "detail-alert")

    # Rules and a dry run.
    d.get(URL + "/#/rules")
    wait(d, EC.presence_of_element_located(
        (By.CSS_SELECTOR, '#rules tr[data-rule="%s"]' % RULE)), "the rules")
    check(d.find_elements(By.CSS_SELECTOR, '#rules tr[data-rule="%s"]' %
                          RULE), "the rules view lists the loaded rule")
    ta = d.find_element(By.ID, "dryrun-alert")
    ta.clear()
    with open(ALERT_FILE) as fh:
        d.execute_script("arguments[0].value = arguments[1]", ta, fh.read())
    d.find_element(By.ID, "dryrun-run").click()
    m = wait(d, EC.presence_of_element_located(
        (By.CSS_SELECTOR, '#dryrun-matches tr[data-rule="%s"]' % RULE)),
        "the dry run's answer")
    check(m is not None and "started" in m.text,
          "the dry run shows the match and that it would start",
          m.text if m else "")
    before = json.loads(api("GET", "/v1/captures"))["captures"]
    check(len(before) == 2, "and starts nothing", str(len(before)))
    shot(d, "rules")

    # The fleet: a capture added on the other node, through this one.
    d.get(URL + "/#/nodes")
    n = wait(d, EC.presence_of_element_located(
        (By.CSS_SELECTOR, '#nodes tr[data-node="%s"]' % OTHER)), "the nodes")
    check(n is not None and "online" in n.text,
          "the nodes view lists the fleet, %s online" % OTHER,
          n.text if n else "")
    shot(d, "nodes")
    n.find_element(By.CSS_SELECTOR, "button.add").click()
    f = wait(d, EC.presence_of_element_located((By.ID, "add-form")),
             "the form for " + OTHER)
    wait(d, lambda _: Select(d.find_element(By.NAME, "node"))
         .first_selected_option.get_attribute("value") == OTHER,
         "the form's node")
    f.find_element(By.NAME, "name").send_keys("far1")
    f.find_element(By.NAME, "interface").send_keys("lo")
    el = f.find_element(By.NAME, "time_limit_s")
    el.clear()
    el.send_keys("60")
    f.find_element(By.ID, "add-submit").click()
    wait(d, lambda _: fact(d, "Node") == OTHER, "far1's detail")
    check(fact(d, "Node") == OTHER and "Running" in fact(d, "Status"),
          "a capture added for %s runs there" % OTHER,
          fact(d, "Node") + " " + fact(d, "Status"))
    far = json.loads(api("GET", "/v1/nodes/%s/captures/far1" % OTHER))
    check(far["node"] == OTHER and far["status"] == "Running",
          "and %s's API has it" % OTHER, json.dumps(far)[:200])
    click(d, "#detail-stop")
    wait(d, lambda _: "Stopped" in fact(d, "Status"), "far1 stopped")
    check("ManualStop" in fact(d, "Stop reason"),
          "Stop on the other node, from its detail")
    d.get(URL + "/#/captures")
    wait(d, EC.presence_of_element_located(
        (By.CSS_SELECTOR, row(d, "far1"))), "%s's list" % OTHER)
    check(d.find_elements(By.CSS_SELECTOR, row(d, "far1")) and
          not d.find_elements(By.CSS_SELECTOR, row(d, "web1")),
          "the list shows the node picked", text_of(d, "#captures"))
    Select(d.find_element(By.ID, "node")).select_by_value(
        d.execute_script("return ui.localNode"))
    wait(d, EC.presence_of_element_located(
        (By.CSS_SELECTOR, row(d, "web1"))), "back on this node")

    # Sign out clears the token.
    d.find_element(By.ID, "signout").click()
    check(d.execute_script("return sessionStorage.getItem('alertcap.token')")
          is None, "sign out forgets the token")


if __name__ == "__main__":
    sys.exit(main())
