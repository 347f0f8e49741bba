"""A cookie-keeping HTTP client for the web console, and helpers to read its pages."""

from __future__ import annotations

import html.parser
import http.client
import urllib.parse


class Browser:
    """A cookie-keeping HTTP client that does not follow redirects."""

    def __init__(self, base: str):
        parsed = urllib.parse.urlparse(base)
        self.host, self.port = parsed.hostname, parsed.port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None, headers: dict | None = None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        body = urllib.parse.urlencode(form) if form is not None else None
        sent = dict(headers or {})
        sent.setdefault("User-Agent", "console-test/1.0")
        if form is not None:
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn.request(method, path, body=body, headers=sent)
        resp = conn.getresponse()
        text = resp.read().decode()
        for name, value in resp.getheaders():
            if name.lower() == "set-cookie":
                pair = value.split(";", 1)[0]
                key, _, val = pair.partition("=")
                if "Max-Age=0" in value:
                    self.cookies.pop(key, None)
                else:
                    self.cookies[key] = val
        conn.close()
        return resp.status, dict((k.lower(), v) for k, v in resp.getheaders()), text, resp.getheaders()

    def get_bytes(self, path: str):
        """GET `path` as bytes: (status, lower-cased headers, body)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        conn.request("GET", path, headers={"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())})
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body

    def get(self, path: str):
        return self.request("GET", path)

    def post(self, path: str, form: dict):
        return self.request("POST", path, form)

    def sign_in(self, access_key: str, secret: str):
        status, _, page, _ = self.get("/signin")
        assert status == 200, page
        return self.post("/signin", {"csrf": hidden(page, "csrf"), "access_key_id": access_key,
                                     "secret_access_key": secret})


class Inputs(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.values: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("name"):
            self.values[attrs["name"]] = attrs.get("value") or ""


def hidden(page: str, name: str) -> str:
    parser = Inputs()
    parser.feed(page)
    return parser.values[name]


def table_rows(page: str) -> list[str]:
    """The rows of a page's first table body, as markup."""
    if "<tbody>" not in page:
        return []
    return page.split("<tbody>", 1)[1].split("</tbody>", 1)[0].split("<tr>")[1:]
