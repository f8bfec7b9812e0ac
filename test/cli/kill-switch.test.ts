/**
 * `agent-safe kill-switch on|off|status`, end to end through the built CLI, on the project's
 * `state:` store (SQLite and Redis): what the CLI engages, guards in another process deny.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Guards } from "../../src/guards/guards.js";
import { openStateBackend } from "../../src/state/factory.js";
import { cli, tempDir } from "../helpers/cli.js";
import { deleteRedisPrefix, freePort, REDIS_URL, testPrefix } from "../state/helpers.js";

function project(yaml: string): string {
  const dir = tempDir("agent-safe-ks-");
  writeFileSync(join(dir, "agent-safe.yaml"), yaml);
  return dir;
}

describe("kill-switch CLI on SQLite (the default state store)", () => {
  const dir = project("profile: strict\n");
  const db = join(dir, ".agent-safe", "state.db");

  it("on / status / off, seen by guards in another process", async () => {
    const guards = new Guards(await openStateBackend(`sqlite:${db}`));
    try {
      let r = cli(["kill-switch", "status"], { cwd: dir });
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`State: sqlite:${db}\nGlobal: not engaged\nCallers: none engaged\n`);

      r = cli(["kill-switch", "on", "--reason", "incident 4711"], { cwd: dir });
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`Kill switch engaged: all actions are denied (state: sqlite:${db})\n`);
      expect(await guards.beforeDecision("anyone", Date.now())).toEqual({
        deny: "Kill switch engaged: all actions are denied (incident 4711)",
        code: "kill_switch",
      });

      r = cli(["kill-switch", "on", "--caller", "bot-7"], { cwd: dir });
      expect(r.stdout).toBe(`Kill switch engaged for caller 'bot-7' (state: sqlite:${db})\n`);

      r = cli(["kill-switch", "status", "--json"], { cwd: dir });
      const status = JSON.parse(r.stdout);
      expect(status).toMatchObject({
        state: `sqlite:${db}`,
        engaged: true,
        global: { caller: null, reason: "incident 4711", expires_at: null },
        callers: [{ caller: "bot-7", reason: null }],
      });
      expect(status.global.engaged_at).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(cli(["kill-switch", "status"], { cwd: dir }).stdout).toMatch(
        /\nGlobal: ENGAGED \(since .+, by .+, reason: incident 4711\)\nCaller 'bot-7': ENGAGED \(since .+\)\n$/,
      );

      r = cli(["kill-switch", "off"], { cwd: dir });
      expect(r).toMatchObject({ code: 0, stdout: "Kill switch released\n" });
      expect(await guards.beforeDecision("anyone", Date.now())).toBeNull();
      expect(await guards.beforeDecision("bot-7", Date.now())).toEqual({
        deny: "Kill switch engaged for caller 'bot-7'",
        code: "kill_switch",
      });
      expect(cli(["kill-switch", "off"], { cwd: dir }).stdout).toBe("Kill switch was not engaged\n");
      r = cli(["kill-switch", "off", "--caller", "bot-7", "--json"], { cwd: dir });
      expect(JSON.parse(r.stdout)).toEqual({ released: true, caller: "bot-7", state: `sqlite:${db}` });
      expect(await guards.beforeDecision("bot-7", Date.now())).toBeNull();
    } finally {
      await guards.close();
    }
  });

  it("usage errors exit 2", () => {
    expect(cli(["kill-switch", "maybe"], { cwd: dir })).toMatchObject({
      code: 2,
      stderr: "error: mode must be one of: on, off, status (got 'maybe')\n",
    });
    expect(cli(["kill-switch", "off", "--reason", "x"], { cwd: dir }).code).toBe(2);
    expect(cli(["kill-switch"], { cwd: dir }).code).toBe(2);
    const r = cli(["kill-switch", "on", "--state", "memory"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/needs a shared state store, and state is 'memory'/);
    expect(cli(["kill-switch", "status", "--state", "ftp://x"], { cwd: dir }).code).toBe(2);
  });

  it("a typo in state_options is a configuration error", () => {
    const bad = project("state_options:\n  max_caller: 10\n");
    const r = cli(["kill-switch", "status"], { cwd: bad });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown key 'max_caller'/);
  });
});

describe("kill-switch CLI on Redis", () => {
  const prefix = testPrefix();
  afterAll(() => deleteRedisPrefix(prefix));

  it("engages through the state: setting and its key_prefix; guards on another replica deny", async () => {
    const dir = project(`state: ${REDIS_URL}\nstate_options:\n  key_prefix: "${prefix}"\n`);
    const guards = new Guards(await openStateBackend(REDIS_URL, { keyPrefix: prefix }));
    try {
      expect(
        cli(["kill-switch", "on", "--caller", "agent-9", "--reason", "leaked token"], { cwd: dir }).code,
      ).toBe(0);
      expect(await guards.beforeDecision("agent-9", Date.now())).toEqual({
        deny: "Kill switch engaged for caller 'agent-9' (leaked token)",
        code: "kill_switch",
      });
      expect(await guards.beforeDecision("agent-8", Date.now())).toBeNull();
      expect(JSON.parse(cli(["kill-switch", "status", "--json"], { cwd: dir }).stdout)).toMatchObject({
        engaged: true,
        global: null,
        callers: [{ caller: "agent-9", reason: "leaked token" }],
      });
      expect(cli(["kill-switch", "off", "--caller", "agent-9"], { cwd: dir }).code).toBe(0);
      expect(await guards.beforeDecision("agent-9", Date.now())).toBeNull();
    } finally {
      await guards.close();
    }
  });

  it("an unreachable store exits 1 with the reason, quickly", async () => {
    const port = await freePort();
    const t0 = Date.now();
    const r = cli(["kill-switch", "on", "--state", `redis://127.0.0.1:${port}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `^error: State store unavailable: Redis 127\\.0\\.0\\.1:${port}: not connected .*ECONNREFUSED`,
      ),
    );
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});
