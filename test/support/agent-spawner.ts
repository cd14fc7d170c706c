/** TEST ONLY: a stand-in worker that starts one agent with spawnAgent, prints its pid and waits to be killed. */
import { spawnAgent } from '../../activities/agent-process.js';

const child = spawnAgent(process.argv[2]!, process.argv.slice(3), { stdio: 'ignore', env: { PATH: process.env.PATH ?? '' } });
child.once('spawn', () => process.stdout.write(`AGENT ${child.pid}\n`));
child.once('error', (err) => process.stdout.write(`ERROR ${err.message}\n`));
setInterval(() => {}, 1_000);
