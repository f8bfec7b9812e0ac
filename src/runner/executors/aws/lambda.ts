/**
 * Lambda: change a function's configuration, invoke a function. Both carry a sensitive param
 * (`environment_variables`, `payload`): it is parsed here, sent to AWS, and never echoed in output,
 * errors, dry-run or captured state. Environment values are never captured either, only a count.
 */
import type { FunctionConfiguration } from "@aws-sdk/client-lambda";
import { AwsExecutorError } from "./errors.js";
import { defined, iso } from "./output.js";
import type { ParamReader } from "./params.js";
import type { AwsSession } from "./session.js";
import { type AwsAction, defineAction, plural } from "./spec.js";

/** A function name, partial ARN or full ARN, optionally with `:version` or `:alias`. */
const FUNCTION = /^[A-Za-z0-9:_.$-]+$/;
const fn = { max: 170, pattern: FUNCTION, what: "function name or ARN" };
const ENV_KEY = /^[A-Za-z][A-Za-z0-9_]*$/;

interface ConfigParams {
  functionName: string;
  region: string;
  memorySize?: number;
  timeout?: number;
  environment?: { text: string; variables: Record<string, string> };
}

interface InvokeParams {
  functionName: string;
  region: string;
  payload?: string;
}

function parseEnvironment(r: ParamReader): ConfigParams["environment"] {
  const parsed = r.secretJson("environment_variables");
  if (parsed === undefined) return undefined;
  const v = parsed.value;
  const bad = (why: string) =>
    new AwsExecutorError("INVALID_PARAMS", `Invalid parameter 'environment_variables': ${why}`);
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw bad("expected a JSON object");
  const variables: Record<string, string> = {};
  let i = 0;
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    i += 1;
    if (!ENV_KEY.test(k)) throw bad(`key #${i} is not a valid variable name (letters, digits, _)`);
    if (typeof x === "string") variables[k] = x;
    else if (typeof x === "number" || typeof x === "boolean") variables[k] = String(x);
    else throw bad(`the value of key #${i} must be a string, number or boolean`);
  }
  return { text: parsed.text, variables };
}

async function getConfiguration(s: AwsSession, name: string): Promise<FunctionConfiguration> {
  return s.memo(`lambda:config:${name}`, async () => {
    const { client, m } = await s.lambda();
    return await s.call("lambda:GetFunctionConfiguration", (abortSignal) =>
      client.send(new m.GetFunctionConfigurationCommand({ FunctionName: name }), { abortSignal }),
    );
  });
}

async function getFunction(s: AwsSession, name: string): Promise<FunctionConfiguration> {
  return s.memo(`lambda:function:${name}`, async () => {
    const { client, m } = await s.lambda();
    // GetFunction also returns a pre-signed code URL: only the configuration is kept.
    const res = await s.call("lambda:GetFunction", (abortSignal) =>
      client.send(new m.GetFunctionCommand({ FunctionName: name }), { abortSignal }),
    );
    return res.Configuration ?? {};
  });
}

function envCount(c: FunctionConfiguration): number {
  return Object.keys(c.Environment?.Variables ?? {}).length;
}

const updateConfig = defineAction<ConfigParams>({
  service: "lambda",
  operation: "lambda:UpdateFunctionConfiguration",
  stateOperation: "lambda:GetFunctionConfiguration",
  stateFields: [
    "memory_size",
    "timeout",
    "runtime",
    "state",
    "last_update_status",
    "last_modified",
    "environment_variable_count",
  ],
  parse(r) {
    const p: ConfigParams = { functionName: r.str("function_name", fn), region: r.region() };
    const memorySize = r.optInt("memory_size", 128, 10_240);
    const timeout = r.optInt("timeout", 1, 900);
    const environment = parseEnvironment(r);
    if (memorySize !== undefined) p.memorySize = memorySize;
    if (timeout !== undefined) p.timeout = timeout;
    if (environment !== undefined) p.environment = environment;
    if (memorySize === undefined && timeout === undefined && environment === undefined) {
      throw new AwsExecutorError(
        "INVALID_PARAMS",
        "Nothing to update: pass memory_size, timeout and/or environment_variables",
      );
    }
    return p;
  },
  request: (p) =>
    defined({
      FunctionName: p.functionName,
      MemorySize: p.memorySize,
      Timeout: p.timeout,
      Environment:
        p.environment === undefined
          ? undefined
          : { Variables: `<${plural(Object.keys(p.environment.variables).length, "variable")}, redacted>` },
    }),
  stateRequest: (p) => ({ FunctionName: p.functionName }),
  secrets: (p) =>
    p.environment === undefined ? [] : [p.environment.text, ...Object.values(p.environment.variables)],
  async execute(s, p) {
    const { client, m } = await s.lambda();
    const input = {
      FunctionName: p.functionName,
      ...(p.memorySize !== undefined ? { MemorySize: p.memorySize } : {}),
      ...(p.timeout !== undefined ? { Timeout: p.timeout } : {}),
      ...(p.environment !== undefined ? { Environment: { Variables: p.environment.variables } } : {}),
    };
    const res = await s.call("lambda:UpdateFunctionConfiguration", (abortSignal) =>
      client.send(new m.UpdateFunctionConfigurationCommand(input), { abortSignal }),
    );
    // An allow-list: the response also carries the environment, which never leaves here.
    return {
      output: defined({
        FunctionName: res.FunctionName,
        MemorySize: res.MemorySize,
        Timeout: res.Timeout,
        Runtime: res.Runtime,
        State: res.State,
        LastUpdateStatus: res.LastUpdateStatus,
        LastModified: iso(res.LastModified),
        EnvironmentVariables: `<${plural(envCount(res), "variable")}, values not shown>`,
      }),
    };
  },
  async state(s, p) {
    const c = await getConfiguration(s, p.functionName);
    return defined({
      memory_size: c.MemorySize,
      timeout: c.Timeout,
      runtime: c.Runtime,
      state: c.State,
      last_update_status: c.LastUpdateStatus,
      last_modified: iso(c.LastModified),
      environment_variable_count: envCount(c),
    });
  },
  prechecks: {
    "function-exists": {
      calls: ["lambda:GetFunctionConfiguration"],
      async run(s, p) {
        const c = await getConfiguration(s, p.functionName);
        const busy = c.LastUpdateStatus === "InProgress" || c.State === "Pending";
        return {
          passed: !busy,
          message: busy
            ? `Function ${p.functionName} is being updated (state ${c.State ?? "?"}, last update ${c.LastUpdateStatus ?? "?"})`
            : `Function ${p.functionName} exists (state ${c.State ?? "?"}, last update ${c.LastUpdateStatus ?? "?"})`,
        };
      },
    },
  },
});

/** An error type name from a function-error payload (`{"errorType": "ValueError", …}`); no message. */
function errorType(payload: string): string | undefined {
  try {
    const v = JSON.parse(payload) as unknown;
    if (v !== null && typeof v === "object" && !Array.isArray(v)) {
      const t = (v as Record<string, unknown>)["errorType"];
      if (typeof t === "string" && /^[A-Za-z0-9_.:$-]{1,100}$/.test(t)) return t;
    }
  } catch {
    // not JSON: no type to report
  }
  return undefined;
}

const invoke = defineAction<InvokeParams>({
  service: "lambda",
  operation: "lambda:Invoke",
  stateOperation: "lambda:GetFunction",
  stateFields: ["state", "last_update_status"],
  parse(r) {
    const payload = r.secretJson("payload");
    return {
      functionName: r.str("function_name", fn),
      region: r.region(),
      ...(payload !== undefined ? { payload: payload.text } : {}),
    };
  },
  request: (p) =>
    defined({
      FunctionName: p.functionName,
      InvocationType: "RequestResponse",
      LogType: "None",
      Payload: p.payload === undefined ? undefined : `<${Buffer.byteLength(p.payload)} bytes, redacted>`,
    }),
  stateRequest: (p) => ({ FunctionName: p.functionName }),
  secrets: (p) => (p.payload === undefined ? [] : [p.payload]),
  async execute(s, p, env) {
    const { client, m } = await s.lambda();
    const res = await s.call("lambda:Invoke", (abortSignal) =>
      client.send(
        new m.InvokeCommand({
          FunctionName: p.functionName,
          InvocationType: "RequestResponse",
          LogType: "None", // the log tail is a log body: never requested
          ...(p.payload !== undefined ? { Payload: Buffer.from(p.payload, "utf8") } : {}),
        }),
        { abortSignal },
      ),
    );
    const bytes = res.Payload ?? new Uint8Array();
    const text = Buffer.from(bytes).toString("utf8");
    const summary = defined({
      StatusCode: res.StatusCode,
      ExecutedVersion: res.ExecutedVersion,
      FunctionError: res.FunctionError,
      PayloadBytes: bytes.byteLength,
    });
    let failure: string | undefined;
    if (res.FunctionError !== undefined && res.FunctionError !== "") {
      const type = errorType(text);
      failure = `Lambda function error: ${res.FunctionError}${type !== undefined ? ` (${type})` : ""}`;
    } else if (res.StatusCode !== undefined && (res.StatusCode < 200 || res.StatusCode > 299)) {
      failure = `Lambda invoke returned status ${res.StatusCode}`;
    }
    if (env.returnInvokePayload) {
      return {
        output: text,
        outputIsSecret: true,
        details: { invoke: summary },
        ...(failure !== undefined ? { failure } : {}),
      };
    }
    return { output: summary, ...(failure !== undefined ? { failure } : {}) };
  },
  async state(s, p) {
    const c = await getFunction(s, p.functionName);
    return defined({ state: c.State, last_update_status: c.LastUpdateStatus });
  },
  prechecks: {
    "function-exists": {
      calls: ["lambda:GetFunction"],
      async run(s, p) {
        const c = await getFunction(s, p.functionName);
        return {
          passed: c.State === "Active",
          message: `Function ${p.functionName} is ${c.State ?? "in an unknown state"}`,
        };
      },
    },
  },
});

export const LAMBDA_ACTIONS: Record<string, AwsAction> = {
  "lambda-update-function-config": updateConfig,
  "lambda-invoke-function": invoke,
};
