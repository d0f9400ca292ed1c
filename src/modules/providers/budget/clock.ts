/**
 * Time as provider code sees it: token expiries, rate-limit resets and pacing all read
 * `now()` and wait with `sleep()`, so tests can run a week of simulated time in a second.
 */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) =>
    ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, Math.ceil(ms))),
};
