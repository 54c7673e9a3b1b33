/**
 * Published AWS prices the cost figures use (us-east-1, on-demand, no free tier), so that every dollar figure can
 * be recomputed by hand from the counts next to it.
 *
 * Sources (checked 2025): aws.amazon.com/step-functions/pricing (Standard workflows), aws.amazon.com/lambda/pricing
 * (arm64), aws.amazon.com/dynamodb/pricing/on-demand (after the November 2024 reduction),
 * aws.amazon.com/xray/pricing, aws.amazon.com/eventbridge/pricing, aws.amazon.com/eks/pricing.
 */
export const PRICES = {
  /** Step Functions Standard: $0.025 per 1,000 state transitions. */
  stepFunctionsTransitionUsd: 0.025 / 1000,
  /** Lambda requests: $0.20 per million. */
  lambdaRequestUsd: 0.2 / 1e6,
  /** Lambda arm64 compute: $0.0000133334 per GB-second. */
  lambdaArmGbSecondUsd: 0.0000133334,
  /** Memory of Capstan's functions (infra/constructs/capstan-function.ts default). */
  lambdaMemoryGb: 0.5,
  /** DynamoDB on-demand: $0.125 per million read request units. */
  dynamoReadUnitUsd: 0.125 / 1e6,
  /** DynamoDB on-demand: $0.625 per million write request units. */
  dynamoWriteUnitUsd: 0.625 / 1e6,
  /** X-Ray (tracing is on): $5.00 per million traces recorded; one trace per invocation. */
  xrayTraceUsd: 5 / 1e6,
  /** EventBridge Scheduler: $1.00 per million invocations (a scheduled rule on the default bus is free). */
  scheduleInvocationUsd: 1 / 1e6,
  /** EKS cluster (the management cluster Capstan does without): $0.10 per hour, before nodes. */
  eksClusterMonthlyUsd: 0.1 * 730,
  /** EC2 API calls (Describe*, RunInstances, TerminateInstances) and STS AssumeRole are not charged. */
  providerCallUsd: 0,
} as const;

/** Hours in the month the figures use (AWS's convention). */
export const HOURS_PER_MONTH = 730;

/** Counts of one unit of work (a sweep, a replaced machine). */
export interface UsageCounts {
  readonly transitions: number;
  readonly invocations: number;
  /** Billed milliseconds per invocation. */
  readonly invocationMs: number;
  readonly readUnits: number;
  readonly writeUnits: number;
  readonly scheduled?: number;
}

/** Dollars for the counts at PRICES (CloudWatch Logs ingestion is not included: it depends on log level). */
export function usd(c: UsageCounts): number {
  const gbSeconds = c.invocations * (Math.max(1, c.invocationMs) / 1000) * PRICES.lambdaMemoryGb;
  return (
    c.transitions * PRICES.stepFunctionsTransitionUsd +
    c.invocations * (PRICES.lambdaRequestUsd + PRICES.xrayTraceUsd) +
    gbSeconds * PRICES.lambdaArmGbSecondUsd +
    c.readUnits * PRICES.dynamoReadUnitUsd +
    c.writeUnits * PRICES.dynamoWriteUnitUsd +
    (c.scheduled ?? 0) * PRICES.scheduleInvocationUsd
  );
}
