/** Polls until `check` passes or `ms` elapse; the assertion is on the outcome, not the time. */
export async function eventually(
  check: () => Promise<boolean>,
  ms = 10_000,
  pollMs = 25,
): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, pollMs));
  }
  return check();
}
