/**
 * Redaction (issue 3 acceptance "Redaction", THREATS T9): a sensitive parameter's value and a
 * secret execution output never reach the log file, the checkpoint file, a shipper's received
 * bodies or files; what is there is an HMAC keyed with the deployment's redaction key.
 */
import { createHmac, randomBytes } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AuditWriter, FilesystemShipper, Redactor, WebhookShipper } from "../../src/audit/index.js";
import { shippedWorld } from "../helpers/world.js";
import { auditKeys, decision, tmp } from "./helpers.js";
import { Recorder, waitUntil } from "./http-recorder.js";

const SECRET = "s3cr3t-PAYLOAD-value-7f1e9a";
const OUTPUT = "password=hunter2-OUTPUT-d00d";

function everything(dir: string): string {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => readFileSync(join(d.parentPath, d.name)).toString("latin1"))
    .join("\n");
}

describe("redaction", () => {
  it("a sensitive param and a secret output never reach the log, the side files or the shippers", async () => {
    const dir = tmp();
    const key = randomBytes(32);
    const keyFile = join(dir, "redaction.key");
    writeFileSync(keyFile, `${key.toString("hex")}\n`, { mode: 0o600 });
    const recorder = await new Recorder().start();
    const action = shippedWorld().actions.get("lambda-invoke-function")!.def;
    expect(action.parameters.find((p) => p.name === "payload")?.sensitive).toBe(true);
    const w = await AuditWriter.open({
      path: join(dir, "audit.jsonl"),
      redactor: Redactor.fromFile(keyFile),
      signingKey: auditKeys(dir).key,
      shippers: [
        new FilesystemShipper({ path: join(dir, "shipped.jsonl") }),
        new WebhookShipper({ url: recorder.url }),
      ],
    });
    const d = await w.append(
      decision(0, {
        action: action.name,
        params: { function_name: "billing", region: "us-east-1", payload: SECRET },
        reason: `Parameter 'payload' value '${SECRET}' echoed by a message`,
        actionDef: action,
      }),
    );
    const digest = `hmac-sha256:${createHmac("sha256", key).update(SECRET).digest("hex")}`;
    expect(d.params.payload).toBe(digest);
    expect(d.reason).toBe(`Parameter 'payload' value '${digest}' echoed by a message`);
    const e = await w.append({
      event_type: "execution",
      action: "get-secret",
      target: "prod/db-credentials",
      caller: "agent-01",
      reason: `Execution success: ${OUTPUT}`,
      correlation_id: d.event_id,
      context: {
        type: "execution",
        original_audit_id: d.event_id,
        status: "success",
        output: OUTPUT,
        error: null,
      },
      secretOutput: true,
    });
    expect(e.context?.output).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(e.reason).toBe(`Execution success: ${e.context?.output}`);
    await waitUntil(() => recorder.received.length >= 2, 10_000, "webhook deliveries");
    await w.close();
    const files = everything(dir);
    const bodies = recorder.received.map((r) => `${JSON.stringify(r.headers)}${r.body}`).join("\n");
    for (const needle of [SECRET, OUTPUT, "hunter2"]) {
      expect(files).not.toContain(needle);
      expect(bodies).not.toContain(needle);
    }
    expect(files).toContain(digest);
    expect(bodies).toContain(digest);
    await recorder.stop();
  });

  it("without a key, secrets become [REDACTED]; short secrets are replaced as values", async () => {
    const r = Redactor.unkeyed();
    const dir = tmp();
    const w = await AuditWriter.open({ path: join(dir, "audit.jsonl"), redactor: r });
    const rec = await w.append(
      decision(0, {
        params: { token: "abc", other: "x" },
        sensitiveParams: ["token"],
        redactPaths: [["context", "auth"]],
        context: { auth: { bearer: "zzz" } },
      }),
    );
    expect(rec.params).toEqual({ token: "[REDACTED]", other: "x" });
    expect(rec.context).toEqual({ auth: "[REDACTED]" });
    await w.close();
    expect(readFileSync(join(dir, "audit.jsonl"), "utf8")).not.toContain("zzz");
  });

  it("refuses a redaction key file others can read", () => {
    const file = join(tmp(), "redaction.key");
    writeFileSync(file, randomBytes(32).toString("hex"), { mode: 0o644 });
    expect(() => Redactor.fromFile(file)).toThrow(/accessible by others/);
  });
});
