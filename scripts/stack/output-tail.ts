/** The last lines a child process printed, kept so a failure can say why; optionally passed through. */
import type { ChildProcess } from 'node:child_process';

export class OutputTail {
  private lines: string[] = [];
  private partial = '';

  constructor(
    private readonly max = 30,
    /** Where each line also goes as it arrives (e.g. process.stderr), or nowhere. */
    private readonly passThrough?: NodeJS.WritableStream,
    /** Put before each passed-through line, so interleaved processes stay readable. */
    private readonly prefix = '',
  ) {}

  follow(child: ChildProcess): void {
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => this.add(chunk));
    }
  }

  /** Output that does not come from a followed child (e.g. what a library hands over line by line). */
  push(text: string): void {
    this.add(text.endsWith('\n') ? text : `${text}\n`);
  }

  private add(chunk: string): void {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop() ?? '';
    const complete = parts.filter((l) => l.trim() !== '');
    if (complete.length) this.passThrough?.write(complete.map((l) => `${this.prefix}${l}\n`).join(''));
    this.lines.push(...complete);
    if (this.lines.length > this.max) this.lines.splice(0, this.lines.length - this.max);
  }

  text(indent = '    '): string {
    const all = this.partial ? [...this.lines, this.partial] : this.lines;
    return all.length ? all.map((l) => indent + l).join('\n') : `${indent}(no output)`;
  }
}
