/** A project made by `agent-safe init`, with genuine approval requests, for the approval CLI tests. */
import { spawn } from "node:child_process";
import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { openProject } from "../../src/config/open-project.js";
import { identityServices } from "../../src/identity/index.js";
import { projectTokenKeys } from "../../src/jwt/config.js";
import { DecisionPipeline } from "../../src/pdp/pipeline.js";
import { compose } from "../../src/sdk/compose.js";
import { BIN, type CliResult, cli, cliAsync, tempDir } from "./cli.js";

export class ApprovalProject {
  private constructor(
    readonly dir: string,
    private readonly issue: (agentId: string, roles: string[]) => string,
  ) {}

  /** `agent-safe init` plus `extraConfig` appended to agent-safe.yaml. */
  static async create(extraConfig = ""): Promise<ApprovalProject> {
    const dir = tempDir("agent-safe-cli-apr-");
    expect(cli(["init", dir]).code).toBe(0);
    if (extraConfig !== "") appendFileSync(join(dir, "agent-safe.yaml"), extraConfig);
    const opened = await openProject({ cwd: dir });
    const ids = identityServices(projectTokenKeys(opened.project)!);
    return new ApprovalProject(dir, (agentId, roles) => ids.issuer.issue({ agentId, roles }).token);
  }

  /** Writes `<agent>.token` and returns its file name (relative to the project). */
  tokenFile(agentId: string, roles: string[] = []): string {
    writeFileSync(join(this.dir, `${agentId}.token`), `${this.issue(agentId, roles)}\n`, { mode: 0o600 });
    return `${agentId}.token`;
  }

  token(agentId: string, roles: string[] = []): string {
    return this.issue(agentId, roles);
  }

  /** A REQUIRE_APPROVAL decision by `requester` (restart-deployment on prod/web-frontend) and the request it filed. */
  async request(requester = "deploy-bot"): Promise<string> {
    const opened = await openProject({ cwd: this.dir });
    const composed = await compose(opened);
    try {
      const token = this.token(requester, ["deployer"]);
      const params = { namespace: "prod", deployment: "web-frontend" };
      const decision = await new DecisionPipeline(composed.parts).check(
        { action: "restart-deployment", target: "prod/web-frontend", caller: token, params },
        { trusted: false },
      );
      expect(decision.result).toBe("require_approval");
      // The pipeline filed the request itself (the project's approvals store).
      expect(decision.request_id).toMatch(/^apr-[0-9a-f]{12}$/);
      return decision.request_id!;
    } finally {
      await composed.close();
    }
  }

  run(args: string[]): CliResult {
    return cli(args, { cwd: this.dir });
  }

  runAsync(args: string[]): Promise<CliResult> {
    return cliAsync(args, { cwd: this.dir });
  }
}

/** Starts `agent-safe <args>`; resolves `waiting` once it prints `waiting for …` on stderr. */
export function startWaiting(dir: string, args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, env: { ...process.env, NO_COLOR: "1" } });
  let stdout = "";
  let stderr = "";
  let onWaiting: () => void = () => undefined;
  const waiting = new Promise<void>((resolve) => {
    onWaiting = resolve;
  });
  child.stdout.on("data", (d: Buffer) => {
    stdout += d.toString("utf8");
  });
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString("utf8");
    if (stderr.includes("waiting for ")) onWaiting();
  });
  const done = new Promise<CliResult & { endedAt: number }>((resolve) =>
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr, endedAt: Date.now() })),
  );
  return { waiting, done, kill: () => child.kill("SIGKILL") };
}
