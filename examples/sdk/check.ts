/**
 * Checks a three-step plan against the quickstart project with the library API.
 *
 *   npx tsx examples/sdk/check.ts
 *
 * In your own project, import from the package instead:
 *   import { AgentSafe } from "agent-safe";
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { AgentSafe, type PlanStep } from "../../src/index.js";

const quickstart = join(dirname(fileURLToPath(import.meta.url)), "..", "quickstart");

// Finds examples/quickstart/agent-safe.yaml (searching upwards from `cwd`, as the CLI does).
const safe = await AgentSafe.open({ cwd: quickstart });

const deployBot = { agent_id: "deploy-bot", roles: ["deployer"] };
const plan: PlanStep[] = [
  {
    action: "scale-deployment",
    target: "staging/shop",
    caller: deployBot,
    params: { namespace: "shop-staging", deployment: "shop", replicas: 4 },
  },
  {
    action: "restart-deployment",
    target: "prod/shop",
    caller: deployBot,
    params: { namespace: "shop", deployment: "shop" },
  },
  {
    action: "scale-deployment",
    target: "prod/shop",
    caller: deployBot,
    params: { namespace: "shop", deployment: "shop", replicas: 50 },
  },
];

// Every step is decided as of the same moment (a Monday here, outside the weekend freeze).
const decisions = await safe.checkPlan(plan, { timestamp: "2025-06-02T10:00:00Z" });
decisions.forEach((d, i) => {
  console.log(`${i + 1}. ${d.action} on ${d.target}: ${d.result.toUpperCase()} (${d.reason})`);
});

// Proceed only if every step is allowed outright.
const blocked = decisions.filter((d) => d.result !== "allow").length;
console.log(blocked === 0 ? "plan allowed" : `plan blocked: ${blocked} of ${decisions.length} steps`);
