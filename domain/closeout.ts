/** Close-out validation (seed 003): what counts as a deliverable, and what a closing comment should carry. */

export type DeliverableKind = 'doc' | 'asset' | 'app' | 'commit_url' | 'commit_sha' | 'inline_result';

export interface DeliverableSignal {
  kind: DeliverableKind;
  value: string;
}

export interface CloseoutReport {
  signals: DeliverableSignal[];
  warnings: string[];
}

/** Shown to an agent whose closing comment was refused. */
export const ACCEPTED_DELIVERABLES = [
  'doc:<id>',
  'asset:<id>',
  'app:<id>',
  'a commit URL (https://…/commit/<sha>)',
  'a commit SHA (7–40 hex characters)',
  'an explicit "Inline result:", "Short answer:" or "Status result:" marker followed by the answer',
];

/** In the order signals are listed; commit URLs are found word by word (`COMMIT_URL`), in their place. */
const PATTERNS: Array<[DeliverableKind, RegExp | 'by_word']> = [
  ['doc', /(?<![\w/])doc:[A-Za-z0-9][\w.-]*/g],
  ['asset', /(?<![\w/])asset:[A-Za-z0-9][\w.-]*/g],
  ['app', /(?<![\w/])app:[A-Za-z0-9][\w.-]*/g],
  ['commit_url', 'by_word'],
  ['inline_result', /\b(?:inline result|short answer|status result):[ \t]*\S[^\n]*/gi],
];

/**
 * A commit URL never spans whitespace, so it is looked for word by word: over a whole 64 KiB comment
 * of `http://http://…` the pattern backtracks quadratically (0.7 s, twice per close in the workflow).
 * A word longer than any real URL is not a commit link.
 */
const COMMIT_URL = /https?:\/\/[^\s)>\]]+\/commits?\/[0-9a-f]{7,40}\b/gi;
const MAX_URL_WORD = 2_048;

// A bare SHA must mix digits and hex letters, so plain numbers and words like "deadbeef" are not taken.
const SHA = /(?<![\w/])[0-9a-f]{7,40}(?![\w/])/gi;

function looksLikeSha(token: string): boolean {
  return /[0-9]/.test(token) && /[a-f]/i.test(token);
}

export function findDeliverables(comment: string): DeliverableSignal[] {
  const signals: DeliverableSignal[] = [];
  const seen = new Set<string>();
  const add = (kind: DeliverableKind, value: string) => {
    const key = `${kind}:${value}`;
    if (!seen.has(key)) {
      seen.add(key);
      signals.push({ kind, value });
    }
  };
  for (const [kind, pattern] of PATTERNS) {
    if (pattern === 'by_word') {
      for (const word of comment.split(/\s+/)) {
        if (word.length <= MAX_URL_WORD && word.includes('/commit')) for (const match of word.matchAll(COMMIT_URL)) add(kind, match[0]);
      }
    } else {
      for (const match of comment.matchAll(pattern)) add(kind, match[0].trim());
    }
  }
  const withoutUrls = comment.replace(/https?:\/\/\S+/g, ' ');
  for (const match of withoutUrls.matchAll(SHA)) {
    if (looksLikeSha(match[0])) add('commit_sha', match[0]);
  }
  return signals;
}

/** The deliverable signals and the advice a closing comment earns; never throws. */
export function reviewClosingComment(comment: string): CloseoutReport {
  const signals = findDeliverables(comment);
  const warnings: string[] = [];
  if (signals.length === 0) warnings.push('No deliverable signal found (doc:, asset:, app:, commit URL or SHA, or an Inline result: marker).');
  if (!/\bresult\b/i.test(comment)) warnings.push('The closing comment has no "Result" part: one sentence a person can read at once.');
  if (!/\bverified\b/i.test(comment)) warnings.push('The closing comment has no "Verified" part: how the work was checked.');
  return { signals, warnings };
}
