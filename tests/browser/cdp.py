"""A minimal Chrome DevTools Protocol driver for the browser tests: the system Chromium, headless,
driven over its DevTools WebSocket with ``websocket-client``. No downloaded browser build.

Only what ``tests/test_browser.py`` needs: open a page, set the viewport, emulate print media,
evaluate JavaScript, print to PDF, press keys, and collect console errors.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

# The flags that work on this machine and on CI (root in a container: no sandbox).
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--mute-audio", "--font-render-hinting=none",
]


def find_chromium() -> str | None:
    """The system Chromium: ``$CHROMIUM`` if set, else ``chromium`` / ``chromium-browser`` on PATH."""
    env = os.environ.get("CHROMIUM")
    if env:
        return env if Path(env).exists() else None
    for name in ("chromium", "chromium-browser"):
        p = shutil.which(name)
        if p:
            return p
    return None


class CdpError(RuntimeError):
    pass


class Browser:
    """One headless Chromium process with one page target."""

    def __init__(self, executable: str, timeout: float = 30.0):
        import websocket  # websocket-client

        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="ixl-chromium-")
        self.proc = subprocess.Popen(
            [executable, *CHROMIUM_FLAGS, f"--user-data-dir={self.profile}", "--remote-debugging-port=0",
             "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = Path(self.profile) / "DevToolsActivePort"
        t0 = time.monotonic()
        while not (port_file.exists() and port_file.read_text().strip().count("\n") >= 1):
            if self.proc.poll() is not None:
                raise CdpError(f"chromium exited with code {self.proc.returncode} before opening DevTools")
            if time.monotonic() - t0 > timeout:
                self.close()
                raise CdpError("chromium did not open its DevTools port")
            time.sleep(0.05)
        port = port_file.read_text().split("\n")[0].strip()
        import urllib.request

        targets = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=timeout).read())
        page = next(t for t in targets if t["type"] == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=timeout,
                                              suppress_origin=True)
        self._id = 0
        self.events: list[dict] = []
        for domain in ("Page", "Runtime", "Log"):
            self.send(f"{domain}.enable")

    # ------------------------------------------------------------------ protocol
    def send(self, method: str, **params):
        self._id += 1
        mid = self._id
        self.ws.send(json.dumps({"id": mid, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == mid:
                if "error" in msg:
                    raise CdpError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def wait_event(self, method: str, timeout: float | None = None) -> dict:
        for i, e in enumerate(self.events):
            if e["method"] == method:
                return self.events.pop(i)
        t_end = time.monotonic() + (timeout or self.timeout)
        while time.monotonic() < t_end:
            msg = json.loads(self.ws.recv())
            if msg.get("method") == method:
                return msg
            if "method" in msg:
                self.events.append(msg)
        raise CdpError(f"timeout waiting for {method}")

    # ------------------------------------------------------------------ helpers
    def viewport(self, width: int, height: int = 900) -> None:
        self.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                  mobile=False)

    def media(self, media: str = "") -> None:
        self.send("Emulation.setEmulatedMedia", media=media)

    def open(self, url: str) -> None:
        """Navigate and wait for the load event (and for fonts and images to settle)."""
        self.events.clear()
        self.send("Page.navigate", url=url)
        self.wait_event("Page.loadEventFired")
        self.eval("document.fonts ? document.fonts.ready.then(() => true) : true")

    def eval(self, expression: str):
        """Evaluate JavaScript in the page (promises awaited) and return its JSON value."""
        r = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            raise CdpError(f"JS error: {d.get('exception', {}).get('description') or d.get('text')}")
        return r["result"].get("value")

    def console_errors(self) -> list[str]:
        """Errors seen since the last ``open``: console.error, uncaught exceptions, failed loads."""
        self.send("Runtime.evaluate", expression="0")  # flush pending events
        out = []
        for e in self.events:
            m, p = e["method"], e.get("params", {})
            if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append("console.error: " + " ".join(str(a.get("value", a.get("description", "")))
                                                         for a in p.get("args", [])))
            elif m == "Runtime.exceptionThrown":
                d = p.get("exceptionDetails", {})
                out.append("exception: " + str(d.get("exception", {}).get("description") or d.get("text")))
            elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                en = p["entry"]
                out.append(f"log ({en.get('source')}): {en.get('text')} {en.get('url', '')}".strip())
        return out

    def pdf(self) -> bytes:
        r = self.send("Page.printToPDF", printBackground=True, preferCSSPageSize=True)
        return base64.b64decode(r["data"])

    def screenshot(self, path: Path, full_page: bool = True) -> None:
        params = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
            h = self.eval("Math.ceil(document.documentElement.scrollHeight)")
            w = self.eval("window.innerWidth")
            params["clip"] = {"x": 0, "y": 0, "width": w, "height": h, "scale": 1}
        r = self.send("Page.captureScreenshot", **params)
        Path(path).write_bytes(base64.b64decode(r["data"]))

    def press_tab(self, shift: bool = False) -> None:
        mods = 8 if shift else 0
        for kind in ("rawKeyDown", "keyUp"):
            self.send("Input.dispatchKeyEvent", type=kind, key="Tab", code="Tab", windowsVirtualKeyCode=9,
                      nativeVirtualKeyCode=9, modifiers=mods)

    def close(self) -> None:
        try:
            if getattr(self, "ws", None) is not None:
                self.ws.close()
        finally:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(10)
            shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
