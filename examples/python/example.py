"""An agent asking the Agent-Safe sidecar before it acts, with the stdlib-only client.

    agent-safe serve &                                  # in a project made by `agent-safe init`
    export AGENT_SAFE_TOKEN=$(agent-safe identity issue --agent-id deploy-bot --roles deployer)
    python3 examples/python/example.py                 # AGENT_SAFE_URL defaults to http://127.0.0.1:8420

It checks a restart on staging (ALLOW for a deployer, with an execution ticket), redeems the
ticket once as an executor would (a second redeem is refused), checks a plan, and delegates to a
helper agent. Exit status: 0 when everything went as shown, 1 otherwise.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from agent_safe_client import AgentSafeClient, AgentSafeHTTPError  # noqa: E402


def main():
    safe = AgentSafeClient(os.environ.get("AGENT_SAFE_URL", "http://127.0.0.1:8420"),
                           token=os.environ.get("AGENT_SAFE_TOKEN"))
    if not safe.ready():
        print("the sidecar is not ready")
        return 1

    params = {"namespace": "staging", "deployment": "api-server"}
    decision = safe.check("restart-deployment", target="staging/api-server", params=params)
    print("%s - %s" % (decision["result"].upper(), decision["reason"]))
    print("  caller: %s  policy: %s  audit: %s" % (decision["caller"], decision["policy_matched"], decision["audit_id"]))
    if decision["result"] != "allow":
        return 1

    ticket = decision["ticket"]["token"]
    first = safe.redeem_ticket(ticket, expected_action="restart-deployment", expected_params=params)
    second = safe.redeem_ticket(ticket)
    print("redeem: %s; again: %s" % (first["reason"], second["reason"]))

    plan = safe.check_plan([
        {"action": "get-pod-logs", "target": "staging/api-server", "params": {"namespace": "staging", "pod": "api-0"}},
        {"action": "restart-deployment", "target": "prod/api-server", "params": {"namespace": "prod", "deployment": "api-server"}},
    ])
    print("plan: " + ", ".join(d["result"] for d in plan))

    helper = safe.delegate("deploy-helper", roles=["deployer"], ttl_seconds=600)
    print("delegated to %s (depth %d)" % (helper["child_agent_id"], helper["delegation_depth"]))
    try:
        safe.delegate("rogue-helper", roles=["admin"])
    except AgentSafeHTTPError as err:
        print("refused: %s" % err.message)

    ok = first["valid"] and not second["valid"] and [d["result"] for d in plan] == ["allow", "require_approval"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
