import http from 'node:http';
import https from 'node:https';
import { afterAll, expect } from 'vitest';
import { capturedLogLines, secretPatterns } from './log-registry.ts';

/**
 * Tests never reach the internet: providers are loopback fakes. Any request to a host other
 * than loopback fails the test loudly instead of hanging or silently passing.
 */
const loopback = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

function hostOf(input: unknown): string | undefined {
  try {
    if (typeof input === 'string') return new URL(input).hostname;
    if (input instanceof URL) return input.hostname;
    if (input && typeof input === 'object' && 'url' in input)
      return new URL(String((input as { url: string }).url)).hostname;
  } catch {
    return undefined;
  }
  return undefined;
}

const realFetch = globalThis.fetch;
globalThis.fetch = ((input: Parameters<typeof fetch>[0], init?: RequestInit) => {
  const host = hostOf(input);
  if (host !== undefined && !loopback.has(host)) {
    throw new Error(`test attempted a network request to ${host}`);
  }
  return realFetch(input, init);
}) as typeof fetch;

for (const mod of [http, https]) {
  const original = mod.request;
  // biome-ignore lint/suspicious/noExplicitAny: node's overloaded signature
  (mod as any).request = (...args: any[]) => {
    const first = args[0];
    const host =
      typeof first === 'string' || first instanceof URL
        ? hostOf(first)
        : (first?.hostname ?? first?.host ?? 'localhost');
    if (host && !loopback.has(String(host).replace(/:\d+$/, ''))) {
      throw new Error(`test attempted a network request to ${host}`);
    }
    // biome-ignore lint/suspicious/noExplicitAny: pass-through
    return (original as any)(...args);
  };
}

// Keys, tokens, secrets and signatures never reach a log line, in any test of the suite.
afterAll(() => {
  const leaks = capturedLogLines.flatMap((line) =>
    secretPatterns
      .filter(([, pattern]) => pattern.test(line))
      .map(([what]) => `${what}: ${line.slice(0, 300)}`),
  );
  expect(leaks).toEqual([]);
});
