#!/usr/bin/env python3
"""A test suite in another language driving `tollgate dev`, with nothing but Python's standard library.

Run: tollgate dev --config dev.json --port 4000 & then TOLLGATE_URL=http://127.0.0.1:4000 python3 test_issuer.py
It checks what a Go, Java or Python service's tests need: discovery, a token from the token endpoint, tokens minted
with given claims, the clock moved past expiry, a key rotation published in the JWKS, sessions ended, a reset.
"""
import base64
import json
import os
import sys
import unittest
import urllib.error
import urllib.parse
import urllib.request

BASE = os.environ.get("TOLLGATE_URL", "http://127.0.0.1:4000")


def call(method, path, body=None, form=None, auth=None):
    headers = {}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["content-type"] = "application/json"
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["content-type"] = "application/x-www-form-urlencoded"
    if auth is not None:
        headers["authorization"] = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    request = urllib.request.Request(BASE + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as res:
            return res.status, json.loads(res.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


def claims(jwt):
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def header(jwt):
    part = jwt.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


class TestIssuerFromPython(unittest.TestCase):
    def setUp(self):
        status, _ = call("POST", "/_test/reset", {})
        self.assertEqual(status, 200)
        _, self.info = call("GET", "/_test")

    def test_discovery_and_client_credentials(self):
        status, metadata = call("GET", "/.well-known/openid-configuration")
        self.assertEqual(status, 200)
        self.assertEqual(metadata["issuer"], self.info["issuer"])
        client = self.info["default_client"]
        status, tokens = call("POST", "/oauth/token", form={"grant_type": "client_credentials"},
                              auth=(client["client_id"], client["client_secret"]))
        self.assertEqual(status, 200, tokens)
        self.assertEqual(claims(tokens["access_token"])["aud"], client["audience"])

    def test_minted_token_has_the_claims_asked_for_and_expires_with_the_clock(self):
        status, minted = call("POST", "/_test/tokens", {"sub": "alice", "scope": "orders:read", "roles": ["admin"]})
        self.assertEqual(status, 200, minted)
        token = minted["access_token"]
        got = claims(token)
        self.assertEqual((got["sub"], got["scope"], got["roles"], got["iss"]), ("alice", "orders:read", ["admin"], self.info["issuer"]))
        self.assertEqual(header(token)["typ"], "at+jwt")
        client = self.info["default_client"]
        auth = (client["client_id"], client["client_secret"])
        _, active = call("POST", "/oauth/introspect", form={"token": token}, auth=auth)
        self.assertTrue(active["active"])
        status, moved = call("POST", "/_test/clock", {"advance": minted["expires_in"] + 60})
        self.assertEqual(status, 200)
        _, expired = call("POST", "/oauth/introspect", form={"token": token}, auth=auth)
        self.assertEqual(expired, {"active": False}, "past its exp on the issuer's clock")

    def test_key_rotation_is_published(self):
        _, before = call("GET", "/.well-known/jwks.json")
        status, rotated = call("POST", "/_test/keys/rotate", {})
        self.assertEqual(status, 200)
        _, after = call("GET", "/.well-known/jwks.json")
        kids = [k["kid"] for k in after["keys"]]
        self.assertIn(rotated["kid"], kids)
        self.assertEqual(len(kids), len(before["keys"]) + 1)
        _, minted = call("POST", "/_test/tokens", {})
        self.assertEqual(header(minted["access_token"])["kid"], rotated["kid"], "the new key signs")

    def test_password_login_and_ending_sessions(self):
        status, tokens = call("POST", "/oauth/token", form={
            "grant_type": "password", "client_id": "web", "username": "alice", "password": "alice-password-123",
            "scope": "openid"})
        self.assertEqual(status, 200, tokens)
        status, ended = call("POST", "/_test/sessions/end", {"username": "alice"})
        self.assertEqual((status, ended), (200, {"ended": 1}))
        status, refreshed = call("POST", "/oauth/token", form={
            "grant_type": "refresh_token", "client_id": "web", "refresh_token": tokens["refresh_token"]})
        self.assertEqual((status, refreshed["error"]), (400, "invalid_grant"))

    def test_bad_input_is_a_clear_error(self):
        status, body = call("POST", "/_test/tokens", {"expires_in": "soon"})
        self.assertEqual(status, 400)
        status, body = call("POST", "/_test/sessions/end", {"username": "nobody"})
        self.assertEqual(status, 404)


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    sys.exit(0 if result.wasSuccessful() else 1)
