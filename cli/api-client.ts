/** The CLI's HTTP client: prints the JSON answer; a 4xx/5xx prints the error and sets a non-zero exit code. */
export class ApiClient {
  constructor(
    private readonly baseUrl: string,
    private readonly key: string,
    private readonly runId?: string,
  ) {}

  async call(method: string, path: string, body?: unknown, idempotencyKey?: string): Promise<{ status: number; body: unknown }> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.key}` };
    if (this.runId) headers['x-run-id'] = this.runId;
    if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(new URL(path, this.baseUrl), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  async print(method: string, path: string, body?: unknown, idempotencyKey?: string): Promise<void> {
    const res = await this.call(method, path, body, idempotencyKey);
    const out = JSON.stringify(res.body, null, 2);
    if (res.status >= 400) {
      console.error(`HTTP ${res.status}\n${out}`);
      process.exitCode = res.status >= 500 ? 3 : 1;
    } else {
      console.log(out);
    }
  }
}
