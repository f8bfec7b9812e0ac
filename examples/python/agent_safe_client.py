"""A stdlib-only client for the Agent-Safe sidecar (``agent-safe serve``).

Copy this file into your agent: it needs nothing beyond the Python standard library (3.8+).

    from agent_safe_client import AgentSafeClient

    safe = AgentSafeClient("http://127.0.0.1:8420", token=os.environ["AGENT_SAFE_TOKEN"])
    decision = safe.check("restart-deployment", target="staging/api-server",
                          params={"namespace": "staging", "deployment": "api-server"})
    if decision["result"] != "allow":
        raise SystemExit(decision["reason"])
    ticket = decision["ticket"]["token"]   # hand it to the executor, which redeems it once

A DENY or REQUIRE_APPROVAL is a decision (a dict), not an exception. An exception means no
decision was made: ``AgentSafeHTTPError`` carries the HTTP status and the server's
``{error, message}``; ``AgentSafeConnectionError`` means the sidecar could not be reached.
The identity token is sent only in the Authorization header and never logged here.
"""

import json
import ssl
import urllib.error
import urllib.parse
import urllib.request

__all__ = ["AgentSafeClient", "AgentSafeError", "AgentSafeHTTPError", "AgentSafeConnectionError"]


class AgentSafeError(Exception):
    """No decision was made."""


class AgentSafeHTTPError(AgentSafeError):
    """The sidecar answered with an HTTP error: ``status``, ``error`` (a code) and ``message``."""

    def __init__(self, status, error, message, code=None):
        super().__init__("HTTP %d %s: %s" % (status, error, message))
        self.status = status
        self.error = error
        self.message = message
        self.code = code


class AgentSafeConnectionError(AgentSafeError):
    """The sidecar could not be reached (or did not answer in time)."""


class AgentSafeClient:
    """One sidecar, one agent identity. Thread-safe: every call is one HTTP request.

    ``cafile``: for an ``https://`` sidecar (``serve --tls-cert``) whose certificate is not signed
    by a CA the system trusts, the PEM file of the CA (or of the self-signed certificate itself).
    """

    def __init__(self, url="http://127.0.0.1:8420", token=None, timeout=10.0, cafile=None):
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self._context = ssl.create_default_context(cafile=cafile) if self.url.startswith("https:") else None

    # ---- decisions -------------------------------------------------------------------------
    def check(self, action, target=None, params=None, ticket_id=None, correlation_id=None, token=None):
        """One decision: a dict with ``result`` (allow | deny | require_approval), ``reason``,
        ``policy_matched``, ``risk_class``, ``effective_risk``, ``audit_id`` and, on ALLOW with keys
        configured, ``ticket`` (``ticket["token"]`` is the execution ticket)."""
        body = _step(action, target, params, ticket_id)
        if correlation_id is not None:
            body["correlation_id"] = correlation_id
        return self._post("/v1/check", body, token)

    def check_plan(self, steps, correlation_id=None, token=None):
        """Every step decided in order, without short-circuit. ``steps``: a list of dicts with
        ``action`` and optionally ``target``, ``params``, ``ticket_id``. Returns the decisions."""
        body = {"steps": [_step(s["action"], s.get("target"), s.get("params"), s.get("ticket_id")) for s in steps]}
        if correlation_id is not None:
            body["correlation_id"] = correlation_id
        return self._post("/v1/check-plan", body, token)["decisions"]

    # ---- tickets ---------------------------------------------------------------------------
    def verify_ticket(self, ticket, expected_action=None, expected_target=None, expected_params=None):
        """Inspects an execution ticket without using it: ``{valid, reason, code, ticket, used}``."""
        return self._post("/v1/tickets/verify", _ticket(ticket, expected_action, expected_target, expected_params), None)

    def redeem_ticket(self, ticket, expected_action=None, expected_target=None, expected_params=None):
        """Uses a ticket: exactly one redeem ever succeeds (``valid`` and ``redeemed`` true)."""
        return self._post("/v1/tickets/redeem", _ticket(ticket, expected_action, expected_target, expected_params), None)

    # ---- delegation ------------------------------------------------------------------------
    def delegate(self, child_agent_id, roles=None, groups=None, child_name=None, ttl_seconds=None, max_depth=None):
        """A delegation token for a child agent acting for this client's identity (the parent)."""
        body = {"child_agent_id": child_agent_id}
        for key, value in (("roles", roles), ("groups", groups), ("child_name", child_name),
                           ("ttl_seconds", ttl_seconds), ("max_depth", max_depth)):
            if value is not None:
                body[key] = list(value) if key in ("roles", "groups") else value
        return self._post("/v1/delegations", body, None)

    # ---- approvals and execution ------------------------------------------------------------
    def list_approvals(self, status=None, limit=None):
        """Approval requests, oldest first (pending ones unless status says otherwise)."""
        query = urllib.parse.urlencode({k: v for k, v in (("status", status), ("limit", limit)) if v is not None})
        return self._request("GET", "/v1/approvals" + ("?" + query if query else ""), None, None)["requests"]

    def get_approval(self, request_id):
        return self._request("GET", "/v1/approvals/" + urllib.parse.quote(request_id, safe=""), None, None)

    def approve(self, request_id, reason=None, token=None):
        """Approve as this client's identity (or `token`). A refusal raises AgentSafeHTTPError:
        403 with code separation_of_duties / role / duplicate_approver, 409 expired / resolved."""
        return self._resolve("approve", request_id, reason, token)

    def deny(self, request_id, reason=None, token=None):
        return self._resolve("deny", request_id, reason, token)

    def wait_for_approval(self, request_id, timeout=30):
        """Wait (at most 60 s) for the outcome. Approved: decision is an ALLOW whose ticket carries
        the token, handed to the requester once; denied or expired: a DENY; else timedOut."""
        path = "/v1/approvals/%s/wait" % urllib.parse.quote(request_id, safe="")
        return self._request("POST", path, {"timeout": timeout}, None, timeout=min(timeout, 60) + 10)

    def execute(self, ticket, executor=None, params=None):
        """Run the ticket's action on the sidecar's runner (one of its runner.executors)."""
        body = {"token": ticket}
        if executor is not None:
            body["executor"] = executor
        if params is not None:
            body["params"] = params
        return self._request("POST", "/v1/execute", body, None, timeout=max(self.timeout, 310))

    def _resolve(self, act, request_id, reason, token):
        path = "/v1/approvals/%s/%s" % (urllib.parse.quote(request_id, safe=""), act)
        return self._post(path, {} if reason is None else {"reason": reason}, token)

    # ---- operations ------------------------------------------------------------------------
    def ready(self):
        """True when the sidecar is ready (state store and audit log)."""
        try:
            return self._request("GET", "/readyz", None, None).get("status") == "ready"
        except AgentSafeHTTPError:
            return False

    # ---- plumbing --------------------------------------------------------------------------
    def _post(self, path, body, token):
        return self._request("POST", path, body, token)

    def _request(self, method, path, body, token, timeout=None):
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        bearer = token if token is not None else self.token
        if bearer is not None:
            request.add_header("Authorization", "Bearer " + bearer)
        try:
            with urllib.request.urlopen(request, timeout=timeout or self.timeout, context=self._context) as response:
                return json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as err:
            raw = err.read().decode("utf-8", "replace")
            try:
                payload = json.loads(raw)
            except ValueError:
                payload = {}
            raise AgentSafeHTTPError(err.code, payload.get("error", "http_error"),
                                     payload.get("message", raw[:200]), payload.get("code")) from None
        except (urllib.error.URLError, OSError) as err:
            reason = getattr(err, "reason", err)
            raise AgentSafeConnectionError("cannot reach the Agent-Safe sidecar at %s: %s" % (self.url, reason)) from None


def _step(action, target, params, ticket_id):
    body = {"action": action}
    if target is not None:
        body["target"] = target
    if params is not None:
        body["params"] = params
    if ticket_id is not None:
        body["ticket_id"] = ticket_id
    return body


def _ticket(ticket, expected_action, expected_target, expected_params):
    body = {"token": ticket}
    if expected_action is not None:
        body["expected_action"] = expected_action
    if expected_target is not None:
        body["expected_target"] = expected_target
    if expected_params is not None:
        body["expected_params"] = expected_params
    return body
