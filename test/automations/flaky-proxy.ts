import { listenLoopback, readBody } from '../helpers/fakes/http-fake.ts';

/**
 * A loopback proxy in front of a provider fake that answers the next requests matching
 * `pattern` with scripted failures (500, 429 + Retry-After...), then forwards as usual.
 */
export interface FlakyProxy {
  url: string;
  failNext(...failures: Array<{ status: number; headers?: Record<string, string> }>): void;
  failed: number;
  close(): Promise<void>;
}

export async function startFlakyProxy(target: string, pattern: RegExp): Promise<FlakyProxy> {
  const queue: Array<{ status: number; headers?: Record<string, string> }> = [];
  const proxy = { failed: 0 };
  const server = await listenLoopback(async (req, res) => {
    const path = req.url ?? '/';
    const body = await readBody(req);
    const failure = pattern.test(path) ? queue.shift() : undefined;
    if (failure) {
      proxy.failed += 1;
      const text = JSON.stringify({
        object: 'error',
        status: failure.status,
        code: failure.status === 429 ? 'rate_limited' : 'internal_server_error',
        message: 'scripted failure',
      });
      res.writeHead(failure.status, { 'content-type': 'application/json', ...failure.headers });
      res.end(text);
      return;
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers))
      if (typeof v === 'string' && k !== 'host' && k !== 'content-length') headers[k] = v;
    const upstream = await fetch(`${target}${path}`, {
      method: req.method ?? 'GET',
      headers,
      ...(body.length > 0 ? { body } : {}),
    });
    const text = Buffer.from(await upstream.arrayBuffer());
    res.writeHead(upstream.status, {
      'content-type': upstream.headers.get('content-type') ?? 'application/json',
    });
    res.end(text);
  });
  return {
    url: server.url,
    failNext: (...failures) => queue.push(...failures),
    get failed() {
      return proxy.failed;
    },
    close: server.close,
  };
}
