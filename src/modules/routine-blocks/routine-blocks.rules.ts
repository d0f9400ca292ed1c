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

const weekdayNames = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** The day of the week of a YYYY-MM-DD date, 0 = Sunday … 6 = Saturday (the contract's). */
export function dayOfWeekOf(date: string): number {
  return new Date(`${date}T00:00:00Z`).getUTCDay();
}

/**
 * An override is placed by its date; a `dayOfWeek` sent with it is redundant and accepted
 * only when it agrees. Field errors naming both when it does not, or none.
 */
export function dayOfWeekErrors(
  dayOfWeek: number | null | undefined,
  date: string,
): Array<{ path: string; message: string }> {
  if (dayOfWeek === null || dayOfWeek === undefined) return [];
  const actual = dayOfWeekOf(date);
  if (dayOfWeek === actual) return [];
  return [
    {
      path: 'dayOfWeek',
      message: `is ${dayOfWeek} (${weekdayNames[dayOfWeek]}) but date ${date} is a ${weekdayNames[actual]} (${actual})`,
    },
    { path: 'date', message: `is a ${weekdayNames[actual]} (${actual}), not day ${dayOfWeek}` },
  ];
}
