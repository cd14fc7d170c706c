/** Lease rules: how long a checkout holds without a sign of life, and when repeated expiry pauses a task. */

export const DEFAULT_LEASE_SECONDS = 900;
export const MIN_LEASE_SECONDS = 30;
export const MAX_LEASE_SECONDS = 86_400;

/** After this many expiries in a row the task is paused for an operator instead of re-offered. */
export const MAX_EXPIRIES_BEFORE_PAUSE = 3;

export function leaseExpiresAt(nowMs: number, leaseSeconds: number): string {
  return new Date(nowMs + leaseSeconds * 1000).toISOString();
}
