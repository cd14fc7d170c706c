/** Before `npm start` starts anything: every port it will need must be free, or it says which and how to move it. */
import { createServer } from 'node:net';
import { portOpen } from './temporal-server.js';

export interface PortNeed {
  port: number;
  /** The environment variable that moves it. */
  variable: string;
  what: string;
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** Throws one error naming every port that is taken (or asked for twice). */
export async function assertPortsFree(needs: PortNeed[]): Promise<void> {
  const problems: string[] = [];
  const seen = new Map<number, PortNeed>();
  for (const need of needs) {
    const twice = seen.get(need.port);
    if (twice) problems.push(`port ${need.port} is asked for twice: ${twice.variable} (${twice.what}) and ${need.variable} (${need.what}); set one to another port`);
    seen.set(need.port, need);
    if (!Number.isInteger(need.port) || need.port <= 0 || need.port > 65535) {
      problems.push(`${need.variable}=${need.port} is not a port number`);
    } else if ((await portOpen('127.0.0.1', need.port)) || !(await canListen(need.port))) {
      problems.push(`port ${need.port} (${need.what}) is already in use by another program: stop it, or set ${need.variable} to a free port`);
    }
  }
  if (problems.length) throw new Error(problems.join('\n'));
}
