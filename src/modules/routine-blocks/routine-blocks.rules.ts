/** Pure rules of routine-block times (a 15-minute grid, at least one slot long). */

export const SLOT_MINUTES = 15;

export function minutesOf(time: string): number {
  const [h, m] = time.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

/** Field errors for a block's effective start and end, or none. */
export function timeErrors(
  startTime: string | null,
  endTime: string | null,
): Array<{ path: string; message: string }> {
  const errors: Array<{ path: string; message: string }> = [];
  if (startTime !== null && minutesOf(startTime) % SLOT_MINUTES !== 0)
    errors.push({ path: 'startTime', message: 'must be on a 15-minute boundary' });
  if (endTime !== null && minutesOf(endTime) % SLOT_MINUTES !== 0)
    errors.push({ path: 'endTime', message: 'must be on a 15-minute boundary' });
  if (
    errors.length === 0 &&
    startTime !== null &&
    endTime !== null &&
    minutesOf(endTime) - minutesOf(startTime) < SLOT_MINUTES
  )
    errors.push({ path: 'endTime', message: 'must be at least 15 minutes after startTime' });
  return errors;
}
