/** Hostile upstream text found by issue 13's attack pass, shared by the tests that replay it. */

/** Routing patterns that backtrack catastrophically in a backtracking engine (V8's RegExp). */
export const HOSTILE_PATTERNS = ['.*\\s*.*\\s*.*crash', '\\s*\\s*\\s*\\s*\\s*\\s*\\s*x', 'a*a*a*a*a*a*b', '(a+)+$', '(a|a)*$', '(.*x){3}', '((ab)*)+$'];
/** The title that killed the worker against them (25 s in plain Node against 100 spaces; this is 300). */
export const HOSTILE_TITLE = `a${' '.repeat(300)}b`;
