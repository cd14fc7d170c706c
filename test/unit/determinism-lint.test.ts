import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lintSource, lintTree } from '../../scripts/lint-determinism.js';

test('workflows/ and domain/ pass the determinism lint', () => {
  assert.deepEqual(lintTree(), []);
});

test('the lint catches what would break replay', () => {
  const problems = (file: string, src: string) => lintSource(file, src).map((f) => f.problem);
  assert.match(problems('workflows/x.ts', "import { Client } from '@temporalio/client';")[0]!, /may not import "@temporalio\/client"/);
  assert.match(problems('workflows/x.ts', "import fs from 'node:fs';")[0]!, /node:fs/);
  assert.match(problems('workflows/x.ts', "import { pool } from '../db/pool.js';")[0]!, /db\/pool/);
  assert.match(problems('domain/x.ts', "import { uuid4 } from '@temporalio/workflow';")[0]!, /domain code/);
  assert.match(problems('domain/x.ts', 'const t = Date.now();')[0]!, /ctx\.now/);
  assert.match(problems('workflows/x.ts', 'const id = Math.random();')[0]!, /Math\.random/);
  assert.match(problems('workflows/x.ts', 'setTimeout(f, 1);')[0]!, /timers/);
  assert.deepEqual(problems('workflows/x.ts', "import type { Client } from '@temporalio/client';\nimport { condition } from '@temporalio/workflow';\nimport { x } from '../domain/y.js';"), []);
});
