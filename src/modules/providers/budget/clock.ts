/**
 * Time as provider code sees it: token expiries, rate-limit resets and pacing all read
 * `now()` and wait with `sleep()`, so tests can run a week of simulated time in a second.
 */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/**
 * Real time. `sleep` returns only once `Date.now()` has reached the target: a timer counts
 * from the event loop's cached time, which lags behind `Date.now()` on a busy loop, so one
 * `setTimeout` alone can end a few ms early (a paced call would start before its slot).
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: async (ms) => {
    const until = Date.now() + ms;
    for (let left = ms; left > 0; left = until - Date.now())
      await new Promise((resolve) => setTimeout(resolve, Math.ceil(left)));
  },
};
