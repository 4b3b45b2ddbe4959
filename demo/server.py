"""The demo clinic's website: one page with the chat widget, as a clinic's own site would embed it.

    python -m demo.server [--port 8080] [--assistant-url http://127.0.0.1:5005]

Serves `/` (demo/index.html filled from the clinic profile) and `/clinic-chat.js` (the built
widget, widget/dist/clinic-chat.js, as a clinic would host its copy). The widget talks to the
assistant at --assistant-url, a different origin, like on a real clinic site.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Optional, Tuple

from clinic.profile import PROJECT_ROOT, current_profile

PAGE = Path(__file__).with_name("index.html")
WIDGET = PROJECT_ROOT / "widget" / "dist" / "clinic-chat.js"
NOT_BUILT = (
    b"The chat widget has not been built: run `make setup` (npm ci, then node widget/build.mjs)."
)
PLACEHOLDER = re.compile(r"\{([a-z0-9_]+)\}")


def render_page(assistant_url: str) -> bytes:
    """index.html with the clinic's details, HTML-escaped, and the widget's config object."""
    profile = current_profile()
    config = {"serverUrl": assistant_url, "clinicName": profile.name, "phone": profile.phone}
    values = {
        name: html.escape(value)
        for name, value in {
            "clinic_name": profile.name,
            "conditions_treated": profile.conditions_treated,
            "consultation_fee": profile.consultation_fee,
            "session_minutes": profile.session_minutes,
            "phone": profile.phone,
            "phone_e164": profile.phone_e164,
            "email": profile.email,
            "address": profile.address,
            "hours": profile.hours.summary,
        }.items()
    }
    # JSON inside a <script>: "<" escaped so no value can close the tag.
    values["config_json"] = json.dumps(config).replace("<", "\\u003c")
    # One pass, so a value that contains "{…}" is never filled in again.
    page = PLACEHOLDER.sub(lambda match: values[match.group(1)], PAGE.read_text(encoding="utf-8"))
    return page.encode("utf-8")


def handler_for(assistant_url: str) -> type:
    class DemoSite(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self._respond(with_body=True)

        def do_HEAD(self) -> None:  # noqa: N802
            self._respond(with_body=False)

        def _respond(self, with_body: bool) -> None:
            status, content_type, body = self._route(self.path.split("?", 1)[0])
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-cache")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "no-referrer")
            self.end_headers()
            if with_body:
                self.wfile.write(body)

        def _route(self, path: str) -> Tuple[int, str, bytes]:
            if path == "/":
                return 200, "text/html; charset=utf-8", render_page(assistant_url)
            if path == "/clinic-chat.js":
                if not WIDGET.exists():
                    return 503, "text/plain; charset=utf-8", NOT_BUILT
                return 200, "application/javascript; charset=utf-8", WIDGET.read_bytes()
            return 404, "text/plain; charset=utf-8", b"Not found"

        def log_message(self, format: str, *args: object) -> None:
            status = args[1] if len(args) > 1 else ""
            sys.stderr.write(f"demo: {self.command} {self.path.split('?', 1)[0]} {status}\n")

    return DemoSite


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo.server")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--assistant-url", default="http://127.0.0.1:5005")
    args = parser.parse_args(argv)
    handler = handler_for(args.assistant_url.rstrip("/"))
    server = ThreadingHTTPServer((args.host, args.port), handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"demo: the clinic page is at http://{args.host}:{server.server_address[1]}/", flush=True)
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()
        print("demo: stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
