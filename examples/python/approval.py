"""A production change through an approval, with the stdlib-only client.

    agent-safe serve &                                  # in a project made by `agent-safe init`
    export AGENT_SAFE_TOKEN=$(agent-safe identity issue --agent-id deploy-bot --roles deployer)
    export APPROVER_TOKEN=$(agent-safe identity issue --agent-id alice --roles sre)
    python3 examples/python/approval.py

The agent asks for a restart in production (REQUIRE_APPROVAL, with an approval request); it may
not approve its own request; a second person does; the agent collects the one ticket the approval
minted and runs it on the sidecar's runner (the dry-run executor unless `runner:` says otherwise).
Exit status: 0 when everything went as shown, 1 otherwise.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from agent_safe_client import AgentSafeClient, AgentSafeHTTPError  # noqa: E402


def main():
    url = os.environ.get("AGENT_SAFE_URL", "http://127.0.0.1:8420")
    agent = AgentSafeClient(url, token=os.environ.get("AGENT_SAFE_TOKEN"))
    approver = AgentSafeClient(url, token=os.environ.get("APPROVER_TOKEN"))

    params = {"namespace": "prod", "deployment": "web-frontend"}
    decision = agent.check("restart-deployment", target="prod/web-frontend", params=params)
    print("%s - %s" % (decision["result"].upper(), decision["reason"]))
    request_id = decision["request_id"]
    if decision["result"] != "require_approval" or request_id is None:
        return 1

    try:
        agent.approve(request_id)
    except AgentSafeHTTPError as err:
        print("self-approval refused (%s): %s" % (err.code, err.message))

    outcome = approver.approve(request_id, reason="change 4711")
    print(outcome["reason"])

    waited = agent.wait_for_approval(request_id, timeout=10)
    ticket = (waited["decision"].get("ticket") or {}).get("token")
    print("%s - ticket %s" % (waited["decision"]["result"].upper(), "collected" if ticket else "missing"))
    if ticket is None:
        return 1

    run = agent.execute(ticket)
    again = agent.execute(ticket)
    print("execute: %s; again: %s" % (run["status"], again["error"]))
    return 0 if run["status"] in ("success", "skipped") and again["status"] == "error" else 1


if __name__ == "__main__":
    sys.exit(main())
