/** What the fake Linear holds: the few entities Switchyard and the SDK touch, in Linear's own field names. */

export interface FakeOrganization {
  id: string;
  name: string;
  urlKey: string;
  createdAt: string;
  updatedAt: string;
}

export interface FakeUser {
  id: string;
  name: string;
  displayName: string;
  email: string;
  active: boolean;
  admin: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface FakeTeam {
  id: string;
  key: string;
  name: string;
  createdAt: string;
  updatedAt: string;
  /** The next issue number in this team (ENG-1, ENG-2, …). */
  nextNumber: number;
}

export type StateType = 'triage' | 'backlog' | 'unstarted' | 'started' | 'completed' | 'canceled';

export interface FakeState {
  id: string;
  teamId: string;
  name: string;
  type: StateType;
  position: number;
  color: string;
  description: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface FakeLabel {
  id: string;
  name: string;
  color: string;
  /** null: a workspace label. */
  teamId: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface FakeIssue {
  id: string;
  teamId: string;
  number: number;
  /** `ENG-42`, and the issue's address; kept current on every change (a team move renumbers). */
  identifier: string;
  url: string;
  title: string;
  description: string | null;
  /** 0 none, 1 urgent … 4 low. */
  priority: number;
  stateId: string;
  labelIds: string[];
  creatorId: string | null;
  previousIdentifiers: string[];
  sortOrder: number;
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  completedAt: string | null;
  canceledAt: string | null;
  archivedAt: string | null;
}

export interface FakeComment {
  id: string;
  issueId: string;
  body: string;
  userId: string | null;
  createdAt: string;
  updatedAt: string;
}

/** Default workflow of a new team: Linear's stock states plus In Review and Blocked (both started). */
export const DEFAULT_STATES: Array<{ name: string; type: StateType; color: string }> = [
  { name: 'Triage', type: 'triage', color: '#FC7840' },
  { name: 'Backlog', type: 'backlog', color: '#bec2c8' },
  { name: 'Todo', type: 'unstarted', color: '#e2e2e2' },
  { name: 'In Progress', type: 'started', color: '#f2c94c' },
  { name: 'In Review', type: 'started', color: '#0f783c' },
  { name: 'Blocked', type: 'started', color: '#eb5757' },
  { name: 'Done', type: 'completed', color: '#5e6ad2' },
  { name: 'Canceled', type: 'canceled', color: '#95a2b3' },
];

export const PRIORITY_LABELS = ['No priority', 'Urgent', 'High', 'Medium', 'Low'];

export function slug(title: string): string {
  return title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60) || 'issue';
}
