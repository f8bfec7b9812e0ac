/** `ticket verify` (inspects) and `ticket redeem` (consumes), against the project's nonce store. */
import { pythonIsoformat } from "../../jwt/claims.js";
import { openProjectNonceStore } from "../../tickets/nonce-store.js";
import { valueDigest } from "../../tickets/params.js";
import { type TicketResult, TicketValidator } from "../../tickets/validator.js";
import { EXIT, print, printJson, wantsJson } from "../common.js";
import { parseParamsFlag } from "../request-input.js";
import { openProjectConfig, type TokenFlags, tokenKeys } from "./project.js";

interface TicketFlags extends TokenFlags {
  action?: string;
  target?: string;
  params?: string;
}

export async function runTicket(
  mode: "verify" | "redeem",
  token: string,
  options: Record<string, unknown>,
): Promise<void> {
  const flags = options as TicketFlags;
  const expectedParams = parseParamsFlag(flags.params);
  const project = openProjectConfig(flags);
  const keys = tokenKeys(project, flags);
  const store = await openProjectNonceStore(project);
  let result: TicketResult;
  try {
    const validator = new TicketValidator(keys.tickets, keys.settings, store.nonces);
    const expectations = {
      expectedAction: flags.action ?? null,
      expectedTarget: flags.target ?? null,
      ...(expectedParams === null ? {} : { expectedParams }),
    };
    result =
      mode === "verify"
        ? await validator.verify(token, expectations)
        : await validator.redeem(token, expectations);
  } finally {
    await store.close();
  }
  if (wantsJson(flags)) printJson(printable(result));
  else printResult(mode, result);
  process.exitCode = result.valid ? EXIT.OK : EXIT.FAILED;
}

/** Sensitive params stay digests in output, even when --params gave their values. */
function printable(r: TicketResult): TicketResult {
  if (r.ticket === null) return r;
  const params = { ...r.ticket.params };
  for (const name of r.ticket.redacted_params) {
    if (Object.hasOwn(params, name)) params[name] = valueDigest(params[name]);
  }
  return { ...r, ticket: { ...r.ticket, params } };
}

function printResult(mode: "verify" | "redeem", r: TicketResult): void {
  if (!r.valid || r.ticket === null) {
    print(`INVALID — ${r.reason}`);
    return;
  }
  const t = r.ticket;
  print(`${mode === "redeem" ? "REDEEMED" : "VALID"} — ${r.reason}`);
  print(`  action: ${t.action}`);
  print(`  target: ${t.target}`);
  print(`  caller: ${t.caller}`);
  print(`  audit:  ${t.audit_id}`);
  print(`  nonce:  ${t.nonce}`);
  print(`  expires: ${pythonIsoformat(Date.parse(t.expires_at))}`);
  const params = t.params_checked
    ? "match the ticket's digest"
    : t.redacted_params.length > 0
      ? `not checked (given as digests: ${t.redacted_params.join(", ")})`
      : "not checked";
  print(`  params: ${params}`);
  if (mode === "verify") print("  used:   no");
}
