"""Test support for the HTTP API: a small requests wrapper.

    api = ApiClient(server.url, KEY)
    status, body = api.post("/rooms/lobby/messages", {"name": "bot", "text": "hi"})
"""

import requests

from support import timeout

KEY = "test-key-0123456789abcdef"
OTHER_KEY = "second-key-fedcba9876543210"


class ApiClient:
    def __init__(self, url, key=KEY):
        self.url = url.rstrip("/")
        self.key = key
        self.session = requests.Session()

    def request(self, method, path, body=None, key="default", headers=None, raw=None,
                params=None):
        """``(status, JSON body)``; ``raw`` sends bytes as they are."""
        sent = dict(headers or {})
        key = self.key if key == "default" else key
        if key is not None:
            sent.setdefault("Authorization", "Bearer " + key)
        kwargs = {}
        if raw is not None:
            kwargs["data"] = raw
        elif body is not None:
            kwargs["json"] = body
        resp = self.session.request(method, self.url + "/api" + path, headers=sent,
                                    params=params, timeout=timeout(10), **kwargs)
        assert resp.headers["Content-Type"] == "application/json", resp.headers
        return resp.status_code, resp.json()

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, body=None, **kwargs):
        return self.request("POST", path, body, **kwargs)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)

    def close(self):
        self.session.close()
