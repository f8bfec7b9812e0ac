/** Context-aware risk: an action's risk class combined with the sensitivity of its target. */
import type { RiskClass, Sensitivity } from "./types.js";

/** The 0.9.0 risk matrix: action risk class × target sensitivity → effective risk. */
export const RISK_MATRIX: Readonly<Record<RiskClass, Readonly<Record<Sensitivity, RiskClass>>>> = {
  low: { public: "low", internal: "low", restricted: "medium", critical: "high" },
  medium: { public: "low", internal: "medium", restricted: "high", critical: "critical" },
  high: { public: "medium", internal: "high", restricted: "critical", critical: "critical" },
  critical: { public: "high", internal: "critical", restricted: "critical", critical: "critical" },
};

const RISK_RANK: Readonly<Record<RiskClass, number>> = { low: 0, medium: 1, high: 2, critical: 3 };

export function effectiveRisk(actionRisk: RiskClass, sensitivity: Sensitivity): RiskClass {
  return RISK_MATRIX[actionRisk][sensitivity];
}

export function riskRank(risk: RiskClass): number {
  return RISK_RANK[risk];
}
