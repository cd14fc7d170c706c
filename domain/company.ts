/** A company's rules for its tasks, with their defaults (settings are what the operator chose to change). */
import { DEFAULT_LEASE_SECONDS } from './leases.js';

export interface CompanySettingsShape {
  requireDeliverable?: boolean;
  defaultLeaseSeconds?: number;
  enforcePlanApproval?: boolean;
}

export interface CompanyRules {
  /** A close-out must carry a deliverable signal (seed 003). */
  requireDeliverable: boolean;
  defaultLeaseSeconds: number;
  /** Subtasks wait while their parent has a pending plan confirmation (issue 8 §4). */
  enforcePlanApproval: boolean;
}

export function companyRulesOf(settings: CompanySettingsShape): CompanyRules {
  return {
    requireDeliverable: settings.requireDeliverable ?? true,
    defaultLeaseSeconds: settings.defaultLeaseSeconds ?? DEFAULT_LEASE_SECONDS,
    enforcePlanApproval: settings.enforcePlanApproval ?? true,
  };
}
