#!/usr/bin/env python3
"""Opens a report page in headless Chromium and says what the browser saw.

  report-browser.py PAGE.html REPORT.json [--screenshot PNG] [--width PX] [--height PX]

Chromium is driven over the DevTools protocol on a pipe (fds 3 and 4), so
nothing listens on a port.  Scripts are disabled in the page (the report
has none and needs none), the network is watched, and the page is read
after it loaded.  Prints one JSON object:

  console_errors   console messages of level error, exceptions, CSP reports
  requests         every URL the page asked for other than itself
  charts           {name: number of data bars} of every figure[data-chart]
  svg              how many <svg> elements the page has
  scripts          how many <script> elements it has
  mismatches       [path, page value, JSON value] where data-value differs
                   from the number at data-json in REPORT.json
  text_mismatches  [path, shown text, value] where a count shown differs
  numbers          how many numbers were compared
  pdf_pages, pdf_page_size   Page.printToPDF with the page's own @page size
  text             the page's text (to look for what must show as text)
"""
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time


class Browser:
    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="tm-chromium.")
        to_child_r, self.to_child = os.pipe()
        self.from_child, from_child_w = os.pipe()
        # The child reads commands on fd 3 and writes answers on fd 4.
        def fds():
            os.dup2(to_child_r, 3)
            os.dup2(from_child_w, 4)
        self.proc = subprocess.Popen(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-extensions", "--disable-background-networking", "--disable-sync",
             "--disable-component-update", "--disable-default-apps", "--mute-audio",
             "--remote-debugging-pipe", "--user-data-dir=" + self.profile, "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=fds, pass_fds=(3, 4))
        os.close(to_child_r)
        os.close(from_child_w)
        self.buf = b""
        self.next_id = 0
        self.events = []

    def send(self, method, params=None, session=None):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.to_child, json.dumps(msg).encode() + b"\0")
        want = self.next_id
        while True:
            m = self.read()
            if m.get("id") == want:
                if "error" in m:
                    raise RuntimeError("%s: %s" % (method, m["error"]))
                return m.get("result", {})
            self.events.append(m)

    def read(self, deadline=30.0):
        end = time.time() + deadline
        while b"\0" not in self.buf:
            if time.time() > end:
                raise TimeoutError("no answer from chromium")
            chunk = os.read(self.from_child, 1 << 16)
            if not chunk:
                raise EOFError("chromium went away")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\0", 1)
        return json.loads(line)

    def wait_event(self, method, session, limit=30.0):
        end = time.time() + limit
        for m in self.events:
            if m.get("method") == method and m.get("sessionId") == session:
                return m
        while time.time() < end:
            m = self.read(limit)
            self.events.append(m)
            if m.get("method") == method and m.get("sessionId") == session:
                return m
        raise TimeoutError(method)

    def close(self):
        try:
            os.write(self.to_child, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0")
            self.proc.wait(10)
        except Exception:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


def lookup(data, path):
    for part in path.split("."):
        if part == "length" and isinstance(data, list):
            data = len(data)
        elif isinstance(data, list):
            data = data[int(part)]
        else:
            data = data[part]
    return data


PAGE_SCRIPT = r"""
(() => {
  const nums = [...document.querySelectorAll('[data-json]')].map(e =>
      [e.getAttribute('data-json'), e.getAttribute('data-value'), e.textContent, e.tagName]);
  const charts = {};
  for (const f of document.querySelectorAll('figure[data-chart]'))
    charts[f.getAttribute('data-chart')] = f.querySelectorAll('svg [data-json]').length;
  return JSON.stringify({nums, charts,
      svg: document.querySelectorAll('svg').length,
      scripts: document.querySelectorAll('script').length,
      text: document.body.innerText});
})()
"""


def main():
    page, report = sys.argv[1], sys.argv[2]
    shot = sys.argv[sys.argv.index("--screenshot") + 1] if "--screenshot" in sys.argv else None
    width = int(sys.argv[sys.argv.index("--width") + 1]) if "--width" in sys.argv else 900
    # The screenshot's height: the whole page unless cut.
    cut = int(sys.argv[sys.argv.index("--height") + 1]) if "--height" in sys.argv else None
    expected = json.load(open(report))
    url = "file://" + os.path.abspath(page)
    b = Browser()
    try:
        targets = b.send("Target.getTargets")["targetInfos"]
        target = [t for t in targets if t["type"] == "page"][0]["targetId"]
        s = b.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            b.send(domain + ".enable", session=s)
        b.send("Emulation.setScriptExecutionDisabled", {"value": True}, session=s)
        b.send("Emulation.setDeviceMetricsOverride",
               {"width": width, "height": 1200, "deviceScaleFactor": 1, "mobile": False},
               session=s)
        b.send("Page.navigate", {"url": url}, session=s)
        b.wait_event("Page.loadEventFired", s)
        seen = b.send("Runtime.evaluate", {"expression": PAGE_SCRIPT, "returnByValue": True},
                      session=s)["result"]["value"]
        seen = json.loads(seen)
        pdf = base64.b64decode(b.send("Page.printToPDF", {"preferCSSPageSize": True,
                                                          "printBackground": True},
                                      session=s)["data"])
        if shot:
            metrics = b.send("Page.getLayoutMetrics", session=s)
            height = int(metrics["cssContentSize"]["height"])
            if cut is not None:
                height = min(height, cut)
            png = b.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True,
                                                    "clip": {"x": 0, "y": 0, "width": width,
                                                             "height": height, "scale": 1}},
                         session=s)["data"]
            open(shot, "wb").write(base64.b64decode(png))
        # Let late console and network events arrive.
        b.send("Runtime.evaluate", {"expression": "1"}, session=s)
    finally:
        b.close()

    errors, requests = [], []
    for m in b.events:
        meth, p = m.get("method"), m.get("params", {})
        if meth == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            errors.append(json.dumps(p.get("args")))
        elif meth == "Runtime.exceptionThrown":
            errors.append(json.dumps(p.get("exceptionDetails")))
        elif meth == "Log.entryAdded" and p["entry"].get("level") == "error":
            errors.append(p["entry"].get("text"))
        elif meth == "Network.requestWillBeSent" and p["request"]["url"] != url:
            requests.append(p["request"]["url"])

    mismatches, text_mismatches = [], []
    for path, value, text, tag in seen["nums"]:
        want = lookup(expected, path)
        got = None if value == "null" else float(value)
        if (want is None) != (got is None) or (want is not None and abs(float(want) - got) > 1e-9):
            mismatches.append([path, value, want])
        # A count or a share shown as a number must read as that number.
        if tag == "SPAN" and want is not None and re.fullmatch(r"[0-9]+([.,][0-9])?%?", text):
            if abs(float(text.rstrip("%").replace(",", ".")) - float(want)) > 1e-9:
                text_mismatches.append([path, text, want])
    sizes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([0-9.]+) ([0-9.]+)\s*\]", pdf)
    print(json.dumps({
        "console_errors": errors, "requests": requests, "charts": seen["charts"],
        "svg": seen["svg"], "scripts": seen["scripts"], "mismatches": mismatches,
        "text_mismatches": text_mismatches, "numbers": len(seen["nums"]),
        "pdf_pages": len(re.findall(rb"/Type\s*/Page[^s]", pdf)),
        "pdf_page_size": [round(float(x)) for x in sizes[0]] if sizes else None,
        "text": seen["text"]}))


if __name__ == "__main__":
    main()
