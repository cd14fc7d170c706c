/** Real git objects for the fake: bare repositories driven through git's plumbing commands. */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

const IDENTITY = { GIT_AUTHOR_NAME: 'fake-github', GIT_AUTHOR_EMAIL: 'fake@fake-github.invalid', GIT_COMMITTER_NAME: 'fake-github', GIT_COMMITTER_EMAIL: 'fake@fake-github.invalid' };

export class GitRepo {
  /** Ref updates of one repository happen one at a time, as on GitHub (two merges into main at once both land). */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(readonly dir: string) {}

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => {});
    return run;
  }

  static async create(root: string, name: string): Promise<GitRepo> {
    const dir = path.join(root, `${name}.git`);
    await run(root, ['init', '--bare', '--quiet', '--initial-branch=main', dir]);
    return new GitRepo(dir);
  }

  git(args: string[], env: NodeJS.ProcessEnv = {}, input?: string): Promise<string> {
    return run(this.dir, args, env, input);
  }

  async head(branch: string): Promise<string | undefined> {
    try {
      return (await this.git(['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`])).trim() || undefined;
    } catch {
      return undefined;
    }
  }

  /** Writes files on top of a branch (or a new branch from `from`) as one commit; returns its SHA. */
  commit(branch: string, files: Record<string, string>, message: string, from?: string): Promise<string> {
    return this.serial(() => this.commitNow(branch, files, message, from));
  }

  private async commitNow(branch: string, files: Record<string, string>, message: string, from?: string): Promise<string> {
    const parent = (await this.head(branch)) ?? (from ? await this.head(from) : undefined);
    const index = path.join(await mkdtemp(path.join(tmpdir(), 'fakegh-index-')), 'index');
    try {
      const env = { GIT_INDEX_FILE: index };
      if (parent) await this.git(['read-tree', parent], env);
      for (const [file, content] of Object.entries(files)) {
        const blob = (await this.git(['hash-object', '-w', '--stdin'], env, content)).trim();
        await this.git(['update-index', '--add', '--cacheinfo', `100644,${blob},${file}`], env);
      }
      const tree = (await this.git(['write-tree'], env)).trim();
      const sha = (await this.git(['commit-tree', tree, ...(parent ? ['-p', parent] : []), '-m', message])).trim();
      await this.git(['update-ref', `refs/heads/${branch}`, sha]);
      return sha;
    } finally {
      await rm(path.dirname(index), { recursive: true, force: true });
    }
  }

  /** The tree a merge of `theirs` into `ours` would have, or undefined on conflicts. */
  async mergeTree(ours: string, theirs: string): Promise<string | undefined> {
    try {
      const out = await this.git(['merge-tree', '--write-tree', ours, theirs]);
      return out.split('\n')[0]!.trim();
    } catch {
      return undefined;
    }
  }

  /** Merges (or squashes) `head` into `base`; moves `base`; returns the new commit, or undefined on conflicts. */
  merge(base: string, head: string, message: string, method: 'merge' | 'squash' | 'rebase'): Promise<string | undefined> {
    return this.serial(() => this.mergeNow(base, head, message, method));
  }

  private async mergeNow(base: string, head: string, message: string, method: 'merge' | 'squash' | 'rebase'): Promise<string | undefined> {
    const baseSha = (await this.head(base))!;
    const tree = await this.mergeTree(baseSha, head);
    if (!tree) return undefined;
    const parents = method === 'merge' ? ['-p', baseSha, '-p', head] : ['-p', baseSha];
    const sha = (await this.git(['commit-tree', tree, ...parents, '-m', message])).trim();
    await this.git(['update-ref', `refs/heads/${base}`, sha, baseSha]);
    return sha;
  }

  /** A commit on a new branch off `base` that undoes `commit` (first parent as the mainline): a real `git revert`. */
  async revert(base: string, commit: string, branch: string, message: string): Promise<string | undefined> {
    const baseSha = (await this.head(base))!;
    const tmp = await mkdtemp(path.join(tmpdir(), 'fakegh-revert-'));
    const tree = path.join(tmp, 'wt');
    try {
      await this.git(['worktree', 'add', '--quiet', '--detach', tree, baseSha]);
      const isMerge = (await this.git(['rev-list', '--parents', '-n', '1', commit])).trim().split(' ').length > 2;
      try {
        await run(tree, ['revert', '--no-edit', ...(isMerge ? ['-m', '1'] : []), commit]);
      } catch {
        return undefined;
      }
      await run(tree, ['commit', '--amend', '--quiet', '-m', message]);
      const sha = (await run(tree, ['rev-parse', 'HEAD'])).trim();
      await this.git(['update-ref', `refs/heads/${branch}`, sha]);
      return sha;
    } finally {
      await this.git(['worktree', 'remove', '--force', tree]).catch(() => {});
      await rm(tmp, { recursive: true, force: true });
    }
  }

  async fileAt(ref: string, file: string): Promise<string | undefined> {
    try {
      return await this.git(['show', `${ref}:${file}`]);
    } catch {
      return undefined;
    }
  }
}

function run(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}, input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('git', args, { cwd, env: { ...process.env, ...IDENTITY, ...env }, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) =>
      err ? reject(new Error(`git ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout),
    );
    if (input !== undefined) child.stdin!.end(input);
  });
}
