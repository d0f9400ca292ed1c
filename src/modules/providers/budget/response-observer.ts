import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Lets a call path see the HTTP answers of the SDK calls it makes (rate-limit headers), even
 * where the SDK returns only the parsed data: `globalThis.fetch` is wrapped once, and an
 * observer set with `observeResponses` for an async scope gets each `Response` fetched in it
 * (before its body is read). Outside such a scope fetch behaves exactly as before.
 */
type Observer = (response: Response) => void;

const scope = new AsyncLocalStorage<Observer>();
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  const original = globalThis.fetch;
  globalThis.fetch = (async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
    const response = await original(input, init);
    const observer = scope.getStore();
    if (observer) {
      try {
        observer(response);
      } catch {
        // An observer never breaks the call it watches.
      }
    }
    return response;
  }) as typeof fetch;
}

export function observeResponses<T>(observer: Observer, run: () => Promise<T>): Promise<T> {
  install();
  return scope.run(observer, run);
}
