#!/usr/bin/env python3
"""Take the README's screenshots from a running demo server, in headless Chromium.

    $VENV/bin/python scripts/screenshots.py --url http://localhost:8069 \
        --db billing_demo --out docs/screenshots  NAME=PATH [NAME=PATH ...]

Logs in as admin/admin, opens each PATH (e.g. ``/odoo/action-...``, or a
report as HTML: ``/report/html/account.report_invoice/ID``) and saves
``NAME.png``. ``NAME=PATH@SELECTOR`` clicks SELECTOR once the page is loaded
and shoots what it opens (a dialog, a list). Below 500 px (``--width 390``) a
phone's screen is emulated: headless Chromium never opens a window that
narrow. Uses
Chromium's DevTools protocol through ``websocket-client``.
``scripts/demo_screenshots.py`` prepares the demo and takes the docs' set.
"""

import argparse
import base64
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

import websocket


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def login(url, db, user, password):
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    payload = json.dumps(
        {"jsonrpc": "2.0", "params": {"db": db, "login": user, "password": password}}
    ).encode()
    request = urllib.request.Request(
        f"{url}/web/session/authenticate",
        data=payload,
        headers={"Content-Type": "application/json"},
    )
    opener.open(request, timeout=60).read()
    return next(cookie.value for cookie in jar if cookie.name == "session_id")


class Chrome:
    def __init__(self, width, height):
        self.port = free_port()
        self.profile = tempfile.mkdtemp()
        binary = shutil.which("chromium") or shutil.which("google-chrome")
        self.process = subprocess.Popen(
            [
                binary,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--hide-scrollbars",
                f"--user-data-dir={self.profile}",
                f"--window-size={width},{height}",
                f"--remote-debugging-port={self.port}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for __ in range(100):
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{self.port}/json"
                ) as resp:
                    targets = json.load(resp)
                page = next(t for t in targets if t["type"] == "page")
                break
            except (OSError, StopIteration):
                time.sleep(0.2)
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60)
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(
            json.dumps({"id": self.next_id, "method": method, "params": params})
        )
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                return message.get("result", {})

    def wait_for(self, expression, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            result = self.call(
                "Runtime.evaluate", expression=expression, returnByValue=True
            )
            if result.get("result", {}).get("value"):
                return
            time.sleep(0.3)
        raise TimeoutError(expression)

    def emulate_phone(self, width, height):
        """Headless Chromium's window is never narrower than 500 px."""
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=True,
        )

    def close(self):
        self.ws.close()
        self.process.terminate()
        self.process.wait(timeout=10)
        shutil.rmtree(self.profile, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://localhost:8069")
    parser.add_argument("--db", default="billing_demo")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--out", default="docs/screenshots")
    parser.add_argument("--width", type=int, default=1440)
    parser.add_argument("--height", type=int, default=1000)
    parser.add_argument("shots", nargs="+", metavar="NAME=PATH")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    session = login(args.url, args.db, args.user, args.password)
    host = urllib.parse.urlparse(args.url).hostname
    chrome = Chrome(args.width, args.height)
    try:
        chrome.call("Network.enable")
        chrome.call(
            "Network.setCookie", name="session_id", value=session, domain=host, path="/"
        )
        if args.width < 500:
            chrome.emulate_phone(args.width, args.height)
        for shot in args.shots:
            name, path = shot.split("=", 1)
            path, __, click = path.partition("@")
            chrome.call("Page.navigate", url=args.url + path)
            if path.startswith("/report/"):
                # A report rendered as HTML (e.g. /report/html/account.report_invoice/7)
                chrome.wait_for("!!document.querySelector('.page, .article')")
            else:
                chrome.wait_for(
                    "!!document.querySelector('.o_form_view, .o_list_view, "
                    ".o_kanban_view, .o_pivot, .o_graph_view') && "
                    "!document.querySelector('.o_loading_indicator, .o-loading')"
                )
            if click:
                time.sleep(1)
                chrome.call(
                    "Runtime.evaluate",
                    expression=f"document.querySelector({json.dumps(click)}).click()",
                )
                time.sleep(1.5)
                chrome.wait_for(
                    "!document.querySelector('.o_loading_indicator, .o-loading')"
                )
            time.sleep(1.5)
            # Notifications of earlier events (a run processed) hide the page.
            chrome.call(
                "Runtime.evaluate",
                expression="document.querySelectorAll('.o_notification')"
                ".forEach((n) => n.remove())",
            )
            shot_data = chrome.call("Page.captureScreenshot", format="png")
            target = os.path.join(args.out, f"{name}.png")
            with open(target, "wb") as image:
                image.write(base64.b64decode(shot_data["data"]))
            print(f"saved {target}")
    finally:
        chrome.close()


if __name__ == "__main__":
    main()
