/** The fingerprint is a pure function of the state: the same state, the same fingerprint, whatever was hashed before (fuzz pass). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { IssueState } from '../../domain/task.js';

type Projection = typeof import('../../domain/projection.js');
const fresh = (tag: string) => import(new URL(`../../domain/projection.ts?${tag}`, import.meta.url).href) as Promise<Projection>;

const state: IssueState = {
  id: 'i', companyId: 'c', title: 't', description: null, status: 'todo', priority: 'medium', assigneeAgentId: null, parentId: null, goalId: null,
  checkout: null, version: 1, descriptionVersion: 1, expiryStreak: 0, createdAt: '', updatedAt: '', startedAt: null, completedAt: null,
};

test('a null description fingerprints the same in a fresh process and after other descriptions were hashed', async () => {
  const first = (await fresh('first')).fingerprintOf(state);
  const later = await fresh('later');
  later.fingerprintOf({ ...state, description: 'x' });
  assert.equal(later.fingerprintOf(state), first);
  assert.notEqual(later.fingerprintOf({ ...state, description: '' }), first, 'an empty description is not a missing one');
});
