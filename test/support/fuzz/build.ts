/** A generated request made sendable in its lane: symbols resolved to the lane's ids, the principal's credentials, headers, a signed webhook. */
import { createHmac, randomBytes } from 'node:crypto';
import { cut } from './record.js';
import type { Principal, Spec } from './requests.js';
import { NO_BODY, Raw, resolve } from './symbolic.js';
import type { Agent, Lane, Setup } from './world.js';

export interface Sent { method: string; path: string; principal: Principal; auth: string; headers: Record<string, string>; body: string | undefined }

function encodeSegment(v: string): string {
  try {
    return encodeURIComponent(v);
  } catch {
    // A lone surrogate has no UTF-8: send the bytes a careless client would (CESU-8).
    return v.replace(/[\ud800-\udfff]/g, '\u0000').split('\u0000').map((p) => encodeURIComponent(p)).join('%ED%A0%80');
  }
}

/** The request builder for this world: `build(lane, spec, n)` is the lane's n-th request as sent. */
export function requestBuilder({ world, ghOwner, sourceA, linearA, fakeUrl, linearUrl, circleUrl, circleToken }: Setup, seed: number): (lane: Lane, spec: Spec, n: number) => Sent {
  function resolver(lane: Lane, spec: Spec, n: number) {
    const self = (): string => {
      const p = spec.principal;
      if (lane.kind === 'company') return p === 'peer' ? lane.members[1].id : p === 'stranger' ? world.stranger.id : lane.members[0].id;
      return p === 'peer' ? world.peer.id : p === 'stranger' ? world.stranger.id : world.holder.id;
    };
    const last = (xs: string[], fallback: string) => xs[xs.length - 1] ?? fallback;
    return (name: string): unknown => {
      switch (name) {
        case 'task': return lane.kind === 'task' ? lane.id : world.refLinks[0];
        case 'TASK': return lane.kind === 'task' ? lane.id.toUpperCase() : world.refLinks[0];
        case 'identifier': return lane.kind === 'task' ? lane.identifier : 'ACME-1';
        case 'otherTask': return world.otherTask;
        case 'refLink0': return world.refLinks[0];
        case 'refLink1': return world.refLinks[1];
        case 'self': return self();
        case 'holder': return lane.kind === 'company' ? lane.members[0].id : world.holder.id;
        case 'peer': return lane.kind === 'company' ? lane.members[1].id : world.peer.id;
        case 'stranger': return world.stranger.id;
        case 'sink': return world.sink;
        case 'sinkKey': return world.sinkKey;
        case 'sinkSubscription': return world.sinkSubscription;
        case 'goal0': return lane.kind === 'company' ? lane.goals[0] : world.goals[0];
        case 'goal1': return lane.kind === 'company' ? last(lane.goals, world.goalB) : world.goals[1];
        case 'goalB': return world.goalB;
        case 'laneGoal': return lane.kind === 'company' ? lane.goals[n % lane.goals.length] : world.goals[0];
        case 'interaction': return lane.kind === 'task' ? last(lane.interactions, '5f0c2a57-0d1e-4c57-9a43-7c1b7a0e4f11') : '5f0c2a57-0d1e-4c57-9a43-7c1b7a0e4f11';
        case 'comment': return lane.kind === 'task' ? last(lane.comments, '6a1b3c57-0d1e-4c57-9a43-7c1b7a0e4f12') : '6a1b3c57-0d1e-4c57-9a43-7c1b7a0e4f12';
        case 'rev': return lane.kind === 'task' ? last(lane.revisions, '7b2c4d57-0d1e-4c57-9a43-7c1b7a0e4f13') : '7b2c4d57-0d1e-4c57-9a43-7c1b7a0e4f13';
        case 'sha': return lane.kind === 'task' ? lane.sha : 'a'.repeat(40);
        case 'sha7': return lane.kind === 'task' ? lane.sha.slice(0, 7) : 'abcdef1';
        case 'sha40': return randomBytes(20).toString('hex');
        case 'commitUrl': return `https://git.example/acme/app/commit/${lane.kind === 'task' ? lane.sha : 'a'.repeat(40)}`;
        case 'company': return lane.kind === 'company' ? lane.companyId : world.companyA;
        case 'otherCompany': return world.companyB;
        case 'source': return lane.kind === 'company' ? lane.sources[n % lane.sources.length] : sourceA;
        case 'otherSource': return sourceA;
        case 'fakeUrl': return fakeUrl;
        case 'linearUrl': return linearUrl;
        case 'circleUrl': return circleUrl;
        case 'circleToken': return circleToken;
        case 'ghSource': return lane.kind === 'company' ? lane.sourceId : sourceA;
        case 'linearSource': return lane.kind === 'company' ? lane.linearSourceId : linearA.sourceId;
        case 'teamKey': return lane.kind === 'company' ? lane.teamKey : linearA.teamKey;
        case 'linearKey': return lane.kind === 'company' ? lane.linearKey : linearA.apiKey;
        case 'hookTeamKey': return lane.kind === 'company' ? lane.hookTeamKey : linearA.teamKey;
        case 'hookTeamId': return lane.kind === 'company' ? lane.hookTeamId : linearA.teamId;
        case 'hookUserId': return lane.kind === 'company' ? lane.hookUserId : 'nobody';
        case 'hookIssueId': return lane.kind === 'company' ? lane.hookIssues[n % lane.hookIssues.length]!.id : '3f2b8c1e-6a4d-4e8f-9b1c-2d3e4f5a6b7c';
        case 'hookIssueIdentifier': return lane.kind === 'company' ? lane.hookIssues[n % lane.hookIssues.length]!.identifier : 'FZ-1';
        case 'projectSlug': return lane.kind === 'company' ? lane.projectSlug : 'gh/acme/app';
        case 'linearState': return linearA.openStates[n % linearA.openStates.length];
        case 'linearClosedState': return linearA.closedStates[n % linearA.closedStates.length];
        case 'now': return Date.now();
        case 'stale': return Date.now() - 5 * 60_000;
        case 'future': return Date.now() + 5 * 60_000;
        case 'laneOwner': return lane.kind === 'company' ? lane.owner : ghOwner;
        case 'laneRepo': return lane.kind === 'company' ? lane.repo : 'widgets';
        case 'laneRepoFull': return lane.kind === 'company' ? `${lane.owner}/${lane.repo}` : `${ghOwner}/widgets`;
        case 'hookRepo': return lane.kind === 'company' ? `${lane.owner}/${lane.repo}` : 'x/y';
        case 'hookRepoId': return lane.kind === 'company' ? lane.repoId : 1;
        case 'runId': return `fz-${lane.name}-${n}`;
        case 'freshKey': return `fz-${seed}-${lane.name}-${n}`;
        default: throw new Error(`unknown symbol ${name}`);
      }
    };
  }

  function authOf(lane: Lane, spec: Spec): string | undefined {
    const p = spec.principal;
    const agentKey = (a: Agent) => `Bearer ${a.key}`;
    if (p === 'operator') return spec.garbage === 0 ? `bearer ${world.adminKey}` : `Bearer ${world.adminKey}`;
    if (p === 'holder') return agentKey(lane.kind === 'company' ? lane.members[0] : world.holder);
    if (p === 'peer') return agentKey(lane.kind === 'company' ? lane.members[1] : world.peer);
    if (p === 'stranger') return agentKey(world.stranger);
    if (p === 'anonymous') return undefined;
    return [
      `Bearer sy_agent_${randomBytes(24).toString('base64url')}`, 'Basic YWRtaW46YWRtaW4=', 'Bearer', `Bearer ${world.expiredToken}`, `Bearer ${world.adminKey}x`, `Token ${world.adminKey}`,
      `Bearer ${world.holder.key} ${world.holder.key}`, `Bearer ${'A'.repeat(20_000)}`, `Bearer ${world.adminKey.slice(0, -1)}`, 'Bearer null',
    ][spec.garbage];
  }

  function build(lane: Lane, spec: Spec, n: number): Sent {
    const sym = resolver(lane, spec, n);
    const segment = (v: unknown): string => {
      const r = resolve(v, sym);
      return r instanceof Raw ? r.text() : encodeSegment(String(r));
    };
    let path = spec.route.template.replace(/\{(\w+)\}/g, (_m, name: string) => segment(spec.path[name]));
    if (spec.query.length) path += `?${spec.query.map(([k, v]) => `${encodeSegment(k)}=${segment(v)}`).join('&')}`;
    const headers: Record<string, string> = {};
    const auth = authOf(lane, spec);
    if (auth !== undefined && !spec.webhook) headers.authorization = auth;
    const runId = resolve(spec.runId, sym);
    if (typeof runId === 'string') headers['x-run-id'] = runId;
    const idem = resolve(spec.idempotencyKey, sym);
    if (typeof idem === 'string') headers['idempotency-key'] = idem;
    let body: string | undefined;
    if (spec.body !== NO_BODY) {
      const resolved = resolve(spec.body, sym);
      body = resolved instanceof Raw ? resolved.text() : JSON.stringify(resolved === undefined ? null : resolved);
      headers['content-type'] = spec.contentType ?? 'application/json';
      if (spec.contentEncoding) headers['content-encoding'] = spec.contentEncoding;
    }
    if (spec.webhook && lane.kind === 'company') {
      // Signed as each provider signs (HMAC-SHA256 of the raw body) with the secret the lane's source has now.
      const { provider, event, sign } = spec.webhook;
      headers['content-type'] = 'application/json';
      const delivery = resolve(spec.webhook.delivery, sym);
      const secret = sign === 'valid' ? ({ github: lane.hookSecret, linear: lane.linearHookSecret, circleci: lane.circleHookSecret }[provider] ?? 'no-secret-set') : 'not-the-secret';
      const mac = sign === 'none' ? undefined : createHmac('sha256', secret).update(body ?? '').digest('hex');
      if (provider === 'github') {
        headers['x-github-event'] = event;
        if (typeof delivery === 'string') headers['x-github-delivery'] = delivery;
        if (mac) headers['x-hub-signature-256'] = `sha256=${mac}`;
      } else if (provider === 'linear') {
        headers['linear-event'] = event;
        if (typeof delivery === 'string') headers['linear-delivery'] = delivery;
        if (mac) headers['linear-signature'] = mac;
      } else if (mac) {
        headers['circleci-signature'] = `v1=${mac}`;
      }
    }
    return { method: spec.route.method, path, principal: spec.principal, auth: auth === undefined ? '(none)' : cut(auth, 40), headers, body };
  }

  return build;
}
