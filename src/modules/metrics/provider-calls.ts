/**
 * Latency and errors of calls to providers' APIs, observed where every SDK call ends up:
 * `globalThis.fetch` (@linear/sdk reads it per request, @notionhq/client at construction, so
 * the wrapper is installed before any client exists). Each app registers the API base URLs it
 * uses; requests to anything else pass through untouched.
 */
type Observe = (
  labels: { provider: string; operation: string; outcome: string },
  seconds: number,
) => void;

/** How a provider's API names an operation: a GraphQL operation name, or method and path. */
export type ApiStyle = 'graphql' | 'rest';

interface Observer {
  prefix: string;
  provider: string;
  style: ApiStyle;
  observe: Observe;
}

const observers = new Set<Observer>();
let installed = false;

function operationOf(style: ApiStyle, url: URL, init: RequestInit | undefined): string {
  if (style === 'graphql' && typeof init?.body === 'string') {
    const match = /\b(?:query|mutation)\s+([A-Za-z0-9_]+)/.exec(init.body);
    if (match?.[1]) return match[1];
  }
  // Ids never become label values: bounded cardinality.
  const path = url.pathname
    .split('/')
    .map((part) => (/[0-9a-f]{8}-?[0-9a-f]{4}|^\d+$|[0-9a-f]{32}/i.test(part) ? ':id' : part))
    .join('/');
  return `${(init?.method ?? 'GET').toUpperCase()} ${path}`;
}

function install(): void {
  if (installed) return;
  installed = true;
  const original = globalThis.fetch;
  globalThis.fetch = (async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
    const href = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const matching = [...observers].filter((o) => href.startsWith(o.prefix));
    if (matching.length === 0) return original(input, init);
    const started = performance.now();
    let outcome = 'error';
    try {
      const response = await original(input, init);
      outcome = response.ok ? 'ok' : `http_${response.status}`;
      return response;
    } finally {
      const seconds = (performance.now() - started) / 1000;
      for (const o of matching) {
        const operation = operationOf(o.style, new URL(href), init);
        o.observe({ provider: o.provider, operation, outcome }, seconds);
      }
    }
  }) as typeof fetch;
}

/** Starts observing calls to `baseUrl`; the returned function stops it. */
export function observeProviderCalls(
  input: { provider: string; baseUrl: string; style: ApiStyle },
  observe: Observe,
): () => void {
  install();
  const origin = new URL(input.baseUrl);
  const observer = { prefix: origin.origin, provider: input.provider, style: input.style, observe };
  observers.add(observer);
  return () => {
    observers.delete(observer);
  };
}
