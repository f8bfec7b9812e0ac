import { describe, expect, it } from "vitest";
import { compileParams, validateParams } from "../../src/core/params.js";
import { PyFloat, rememberKeyOrder } from "../../src/core/pyvalue.js";
import type { ParamConstraints } from "../../src/core/types.js";
import { action, param } from "../helpers/world.js";

const none: ParamConstraints = {
  min_value: null,
  max_value: null,
  min_length: null,
  max_length: null,
  pattern: null,
  enum: null,
};
const c = (x: Partial<ParamConstraints>): ParamConstraints => ({ ...none, ...x });

const scale = compileParams(
  action({
    name: "scale-deployment",
    parameters: [
      param({ name: "namespace", type: "string" }),
      param({ name: "deployment", type: "string" }),
      param({ name: "replicas", type: "integer", constraints: c({ min_value: 0, max_value: 100 }) }),
    ],
  }),
);

describe("parameter validation messages (REFERENCE.md §3, byte for byte)", () => {
  it("reports missing, unknown, type and constraint errors in the reference order", () => {
    expect(validateParams(scale, { namespace: "dev", replicas: 101, evil_extra: "x" })).toEqual([
      "Missing required parameter: deployment",
      "Unknown parameter: evil_extra",
      "Parameter 'replicas': value 101 exceeds maximum 100.0",
    ]);
  });

  it("rejects Python floats for integers, and names Python types", () => {
    expect(validateParams(scale, { namespace: null, deployment: "a", replicas: new PyFloat(5) })).toEqual([
      "Parameter 'namespace': expected string, got NoneType",
      "Parameter 'replicas': expected integer, got float",
    ]);
    expect(validateParams(scale, { namespace: "a", deployment: "b", replicas: true })).toEqual([
      "Parameter 'replicas': expected integer, got bool",
    ]);
  });

  it("returns null for valid params", () => {
    expect(validateParams(scale, { namespace: "a", deployment: "b", replicas: 0 })).toBeNull();
  });

  it("renders bounds as Python floats and values with str()", () => {
    const p = compileParams(
      action({
        name: "a",
        parameters: [
          param({ name: "n", type: "number", constraints: c({ min_value: 0.5, max_value: 1e20 }) }),
        ],
      }),
    );
    expect(validateParams(p, { n: 0.1 })).toEqual(["Parameter 'n': value 0.1 is below minimum 0.5"]);
    expect(validateParams(p, { n: 1e21 })).toEqual([
      "Parameter 'n': value 1000000000000000000000 exceeds maximum 1e+20",
    ]);
    expect(validateParams(p, { n: new PyFloat(1e21) })).toEqual([
      "Parameter 'n': value 1e+21 exceeds maximum 1e+20",
    ]);
    expect(validateParams(p, { n: 123456789012345678901234567890n })).toEqual([
      "Parameter 'n': value 123456789012345678901234567890 exceeds maximum 1e+20",
    ]);
  });

  it("compares enums as str(value), with Python's list repr", () => {
    const p = compileParams(
      action({
        name: "a",
        parameters: [
          param({ name: "s", type: "string", constraints: c({ enum: ["a", "b"] }) }),
          param({ name: "v", type: "integer", required: false, constraints: c({ enum: ["1", "o'clock"] }) }),
        ],
      }),
    );
    expect(validateParams(p, { s: "c" })).toEqual([
      "Parameter 's': value 'c' not in allowed values ['a', 'b']",
    ]);
    expect(validateParams(p, { s: "a", v: 1 })).toBeNull();
    expect(validateParams(p, { s: "a", v: 2 })).toEqual([
      `Parameter 'v': value '2' not in allowed values ['1', "o'clock"]`,
    ]);
  });

  it("counts lengths in code points and matches patterns on the whole value", () => {
    const p = compileParams(
      action({
        name: "a",
        parameters: [
          param({
            name: "img",
            type: "string",
            constraints: c({ min_length: 1, max_length: 3, pattern: "[a-z😀]+" }),
          }),
        ],
      }),
    );
    expect(validateParams(p, { img: "" })).toEqual([
      "Parameter 'img': length 0 is below minimum 1",
      "Parameter 'img': value does not match pattern '[a-z😀]+'",
    ]);
    expect(validateParams(p, { img: "😀😀😀" })).toBeNull();
    expect(validateParams(p, { img: "abc\n" })).toEqual([
      "Parameter 'img': length 4 exceeds maximum 3",
      "Parameter 'img': value does not match pattern '[a-z😀]+'",
    ]);
  });

  it("lists unknown keys in the order the caller gave them, even integer-like ones", () => {
    const params = { b: 1, "2": 2, a: 3 };
    rememberKeyOrder(params, ["b", "2", "a"]);
    const p = compileParams(action({ name: "a", parameters: [] }));
    expect(validateParams(p, params)).toEqual([
      "Unknown parameter: b",
      "Unknown parameter: 2",
      "Unknown parameter: a",
    ]);
  });
});
