/** The fake's state: what GitHub keeps that Switchyard's provider layer reads or changes. */
import type { GitRepo } from './git.js';

export interface FakeIssue {
  number: number;
  title: string;
  body: string | null;
  state: 'open' | 'closed';
  labels: string[];
  assignees: string[];
  user: string;
  createdAt: string;
  updatedAt: string;
  /** Pull requests are issues too on GitHub (same numbering, listed by the issues endpoint). */
  isPull: boolean;
}

export interface FakePull {
  number: number;
  id: number;
  nodeId: string;
  head: string;
  base: string;
  title: string;
  body: string | null;
  user: string;
  state: 'open' | 'closed';
  merged: boolean;
  mergeCommitSha: string | null;
  /** The head SHA when the PR was merged or closed; an open PR follows its branch. */
  frozenHeadSha: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface FakeCheckRun {
  id: number;
  sha: string;
  name: string;
  status: 'queued' | 'in_progress' | 'completed';
  conclusion: 'success' | 'failure' | 'neutral' | 'cancelled' | 'skipped' | 'timed_out' | 'action_required' | null;
  startedAt: string;
  completedAt: string | null;
  /** 1, then one more for each re-run of the job. */
  attempt?: number;
}

export interface FakeStatus {
  id: number;
  sha: string;
  state: 'error' | 'failure' | 'pending' | 'success';
  context: string;
  description: string | null;
  targetUrl: string | null;
  createdAt: string;
}

export interface FakeReview {
  id: number;
  pullNumber: number;
  user: string;
  state: 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED' | 'DISMISSED';
  body: string;
  commitId: string;
  submittedAt: string;
}

export interface FakeReviewComment {
  id: number;
  pullNumber: number;
  user: string;
  path: string;
  line: number;
  body: string;
  commitId: string;
  createdAt: string;
}

export interface FakeComment {
  id: number;
  issueNumber: number;
  user: string;
  body: string;
  createdAt: string;
}

export interface FakeRepo {
  id: number;
  owner: string;
  name: string;
  git: GitRepo;
  defaultBranch: string;
  nextNumber: number;
  issues: Map<number, FakeIssue>;
  pulls: Map<number, FakePull>;
  checkRuns: FakeCheckRun[];
  statuses: FakeStatus[];
  reviews: FakeReview[];
  reviewComments: FakeReviewComment[];
  comments: FakeComment[];
}
