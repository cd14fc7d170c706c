/** Decides one route in a process of its own (test/unit/routing.test.ts), so a hang is a failure. */
import { decideRoute } from '../../domain/routing.js';

let raw = '';
process.stdin.on('data', (c) => (raw += c));
process.stdin.on('end', () => {
  const d = decideRoute(JSON.parse(raw));
  process.stdout.write(JSON.stringify({ kind: d.kind, rule: d.record.reason?.matchedRules[0]?.id ?? null }));
});
