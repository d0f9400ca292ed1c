/**
 * How Linear's workflow states and project states map onto MONOid's enums. Linear is the
 * source of truth for an issue's state, so a task synced from Linear always takes the bucket
 * this mapping gives (documented in docs/automations.md).
 */
import type { ProjectStatus } from '../../projects/projects.table.ts';
import type { TaskBucket } from '../../tasks/tasks.table.ts';

export const linearStateTypes = [
  'triage',
  'backlog',
  'unstarted',
  'started',
  'completed',
  'canceled',
] as const;
export type LinearStateType = (typeof linearStateTypes)[number];

const bucketByStateType: Record<LinearStateType, TaskBucket> = {
  // Triage is Linear's intake queue: not yet accepted, like MONOid's `new`.
  triage: 'new',
  backlog: 'backlog',
  // Accepted and planned, not started.
  unstarted: 'todo',
  started: 'in_progress',
  completed: 'done',
  canceled: 'cancelled',
};

/**
 * The bucket for a Linear workflow state. Linear has one `started` type for every in-flight
 * column; a started state whose name says "review" (Linear's default "In Review") maps to
 * `in_review`, every other started state to `in_progress`. Unknown types (Linear may add
 * some) fall back to `new` rather than failing the sync.
 */
export function bucketForLinearState(state: {
  type?: string | null | undefined;
  name?: string | null | undefined;
}): TaskBucket {
  const type = state.type ?? '';
  if (!isLinearStateType(type)) return 'new';
  if (type === 'started' && /review/i.test(state.name ?? '')) return 'in_review';
  return bucketByStateType[type];
}

export function isLinearStateType(value: string): value is LinearStateType {
  return (linearStateTypes as readonly string[]).includes(value);
}

/**
 * Linear project states (`backlog`, `planned`, `started`, `paused`, `completed`,
 * `canceled`) onto MONOid project statuses. `planned` counts as active: it is committed work.
 */
export function projectStatusForLinearState(state: string | null | undefined): ProjectStatus {
  switch ((state ?? '').toLowerCase()) {
    case 'backlog':
      return 'backlog';
    case 'paused':
      return 'paused';
    case 'completed':
      return 'done';
    case 'canceled':
    case 'cancelled':
      return 'cancelled';
    default:
      return 'active';
  }
}

export interface LinearWorkflowState {
  id: string;
  name: string;
  type: string;
  position: number;
}

/**
 * The reverse, for the two-way sync: the team's first state (by position) that maps back to
 * `bucket`, so a round trip never changes the bucket: done → the first `completed` state,
 * cancelled → `canceled`, todo → `unstarted`, in_progress → a `started` state without
 * "review" in its name, in_review → one with it, backlog → `backlog`, new → `triage`.
 * Undefined when the team has no such state (the bucket is then not pushed).
 */
export function linearStateForBucket(
  bucket: TaskBucket,
  states: readonly LinearWorkflowState[],
): LinearWorkflowState | undefined {
  const byPosition = [...states].sort((a, b) => a.position - b.position);
  const exact = byPosition.find((s) => bucketForLinearState(s) === bucket);
  if (exact || bucket !== 'in_review') return exact;
  // A team without a review column: in_review is still work in progress.
  return byPosition.find((s) => s.type === 'started');
}
