import { describe, expect, it } from 'vitest';
import {
  evaluateConditions,
  parseConditions,
  validateConditions,
} from '../../src/modules/automations/automation.conditions.ts';
import {
  type AutomationDefinition,
  definitionSchema,
  validateDefinition,
} from '../../src/modules/automations/automation.definition.ts';
import type { NormalizedEvent } from '../../src/modules/automations/automation.event.ts';
import {
  type EvaluationContext,
  evaluateRule,
  isOwnEvent,
} from '../../src/modules/automations/automation.rules.ts';
import type { EventSourceDefinition } from '../../src/modules/automations/automation.source.ts';
import {
  renderTemplate,
  validateTemplate,
} from '../../src/modules/automations/automation.templates.ts';
import { normalizeLinearEvent } from '../../src/modules/providers/linear/linear-event.ts';
import {
  bucketForLinearState,
  projectStatusForLinearState,
} from '../../src/modules/providers/linear/linear-state-mapping.ts';
import { planLinearSync } from '../../src/modules/providers/linear/linear-sync.mapping.ts';
import { normalizeNotionEvent } from '../../src/modules/providers/notion/notion-event.ts';
import { eventSourceDefinitions } from '../../src/modules/providers/registry.ts';
import { linearIssuePayload, notionPage, notionPageEvent } from './fixtures.ts';

function linear(o: Parameters<typeof linearIssuePayload>[0] = {}): NormalizedEvent {
  const e = normalizeLinearEvent(linearIssuePayload(o));
  if (!e) throw new Error('not normalized');
  return e;
}

/** The registry's sources, picked by the event's source (as the worker does). */
const source: Pick<EventSourceDefinition, 'scopeMatches'> = {
  scopeMatches: (scope, event) => {
    const found = eventSourceDefinitions.find((s) => s.id === event.source);
    if (!found) throw new Error(`no source ${event.source}`);
    return found.scopeMatches(scope, event);
  },
};
const ctx = (o: EvaluationContext = {}) => ({ ...o, source });

function definition(input: unknown): AutomationDefinition {
  return definitionSchema.parse(input);
}

describe('Linear state type → bucket', () => {
  it.each([
    ['triage', 'Triage', 'new'],
    ['backlog', 'Backlog', 'backlog'],
    ['unstarted', 'Todo', 'todo'],
    ['started', 'In Progress', 'in_progress'],
    ['started', 'In Review', 'in_review'],
    ['completed', 'Done', 'done'],
    ['canceled', 'Canceled', 'cancelled'],
    ['something-new', 'X', 'new'],
  ])('%s (%s) → %s', (type, name, bucket) => {
    expect(bucketForLinearState({ type, name })).toBe(bucket);
  });

  it('maps Linear project states to project statuses', () => {
    expect(projectStatusForLinearState('planned')).toBe('active');
    expect(projectStatusForLinearState('started')).toBe('active');
    expect(projectStatusForLinearState('paused')).toBe('paused');
    expect(projectStatusForLinearState('completed')).toBe('done');
    expect(projectStatusForLinearState('canceled')).toBe('cancelled');
    expect(projectStatusForLinearState('backlog')).toBe('backlog');
  });
});

describe('normalized Linear events', () => {
  it('normalizes an issue create with team, state, labels and assignee', () => {
    const e = linear({
      id: 'iss-1',
      labels: [{ id: 'l-bug', name: 'bug' }],
      assignee: { id: 'u-2', name: 'Bob', email: 'Bob@Example.com' },
    });
    expect(e.event).toBe('issue.created');
    expect(e.entityId).toBe('iss-1');
    expect(e.scope.teamIds).toEqual(['team-1']);
    expect(e.fields).toMatchObject({
      title: 'Fix the login bug',
      labels: ['bug'],
      labelIds: ['l-bug'],
      bucket: 'todo',
      team: { id: 'team-1', key: 'ENG', name: 'Engineering' },
      assignee: { email: 'Bob@Example.com' },
      actor: { id: 'user-actor', type: 'user' },
    });
    expect(e.fields.changes.fields).toEqual([]);
  });

  it('derives "state changed to completed" and "label added" from updatedFrom', () => {
    const e = linear({
      action: 'update',
      stateType: 'completed',
      stateName: 'Done',
      labels: [
        { id: 'l-bug', name: 'bug' },
        { id: 'l-ui', name: 'ui' },
      ],
      updatedFrom: {
        stateId: 'state-started',
        labelIds: ['l-bug', 'l-old'],
        updatedAt: '2026-11-27T00:00:00.000Z',
      },
    });
    expect(e.event).toBe('issue.updated');
    expect(e.fields.changes).toMatchObject({
      fields: ['labels', 'state'],
      stateChanged: true,
      stateTo: 'completed',
      stateFromId: 'state-started',
      labelsChanged: true,
      labelsAdded: ['ui'],
      labelIdsAdded: ['l-ui'],
      labelIdsRemoved: ['l-old'],
      titleChanged: false,
    });
    expect(e.fields.bucket).toBe('done');
  });

  it('orders a removal by when it happened, an update by updatedAt', () => {
    const upd = linear({
      action: 'update',
      updatedAt: '2026-11-27T10:00:00.000Z',
      updatedFrom: {},
    });
    expect(upd.entityVersionAt).toBe(Date.parse('2026-11-27T10:00:00.000Z'));
    const rem = linear({ action: 'remove', updatedAt: '2026-11-01T00:00:00.000Z' });
    expect(rem.event).toBe('issue.removed');
    expect(rem.entityVersionAt).toBeGreaterThan(Date.parse('2026-11-02T00:00:00.000Z'));
  });

  it('ignores resource types the engine does not act on', () => {
    expect(
      normalizeLinearEvent({ action: 'create', type: 'Reaction', data: { id: 'x' } }),
    ).toBeNull();
    expect(normalizeLinearEvent({ action: 'create', type: 'Issue' })).toBeNull();
    expect(normalizeLinearEvent('nonsense')).toBeNull();
  });

  it('normalizes a project update and a comment', () => {
    const p = normalizeLinearEvent({
      action: 'update',
      type: 'Project',
      webhookTimestamp: Date.now(),
      updatedFrom: { state: 'planned' },
      data: { id: 'prj-1', name: 'Q4 launch', state: 'started', teamIds: ['team-1'] },
    });
    expect(p?.event).toBe('project.updated');
    expect(p?.fields.projectState).toBe('started');
    expect(p?.fields.changes.stateTo).toBe('started');
    expect(p?.scope.teamIds).toEqual(['team-1']);
    const c = normalizeLinearEvent({
      action: 'create',
      type: 'Comment',
      webhookTimestamp: Date.now(),
      data: {
        id: 'c-1',
        body: 'LGTM',
        issueId: 'iss-1',
        issue: { id: 'iss-1', title: 'T', teamId: 'team-1' },
      },
    });
    expect(c?.event).toBe('comment.created');
    expect(c?.fields.comment).toEqual({ body: 'LGTM', issueId: 'iss-1', issueTitle: 'T' });
    expect(c?.scope.teamIds).toEqual(['team-1']);
  });
});

describe('normalized Notion events', () => {
  it('reads title and properties from the page and names the updated properties', () => {
    const e = normalizeNotionEvent(
      notionPageEvent({ type: 'page.properties_updated', updatedProperties: ['st%3A'] }),
      notionPage({ title: 'Plan Q1', status: 'Doing', tags: ['a', 'b'] }),
    );
    expect(e?.event).toBe('page.properties_updated');
    expect(e?.scope.databaseId).toBe('db-1');
    expect(e?.fields).toMatchObject({
      title: 'Plan Q1',
      properties: {
        Name: 'Plan Q1',
        Status: 'Doing',
        Tags: ['a', 'b'],
        Due: '2026-12-24',
        Points: 3,
      },
      changes: { properties: ['Status'] },
      database: { id: 'db-1' },
    });
  });

  it('still normalizes a deleted page that can no longer be read', () => {
    const e = normalizeNotionEvent(notionPageEvent({ type: 'page.deleted' }), null);
    expect(e?.fields.archived).toBe(true);
    expect(e?.scope.databaseId).toBe('db-1');
    expect(e?.fields.title).toBeNull();
  });
});

describe('JSON Logic conditions', () => {
  it('accepts known fields, scoped element vars and Notion properties', () => {
    expect(
      validateConditions({
        and: [
          { '==': [{ var: 'state.type' }, 'completed'] },
          { in: ['bug', { var: 'labels' }] },
          { some: [{ var: 'changes.labelsAdded' }, { '==': [{ var: '' }, 'urgent'] }] },
          { '==': [{ var: 'properties.Status' }, 'Done'] },
          { missing: ['assignee.email'] },
        ],
      }),
    ).toEqual([]);
  });

  it('rejects unknown fields, unknown or unsafe operators and ambiguous objects', () => {
    const errors = validateConditions({
      and: [
        { '==': [{ var: 'stat.type' }, 'x'] },
        { method: [{ var: 'title' }, 'toUpperCase'] },
        { frobnicate: [1] },
        { '==': [1, 1], '!=': [1, 2] },
      ],
    });
    expect(errors.map((e) => e.message)).toEqual([
      'unknown field "stat.type"',
      'unknown operator "method"',
      'unknown operator "frobnicate"',
      'an operation must have exactly one operator, found 2',
    ]);
    expect(errors[0]?.path).toBe('conditions.and.0.==.0.var');
  });

  it('reports conditions that do not parse', () => {
    const parsed = parseConditions('{"==": [1,');
    expect(parsed.errors[0]?.path).toBe('conditions');
    expect(parsed.errors[0]?.message).toMatch(/not valid JSON/);
    expect(parseConditions('{"==":[1,1]}').value).toEqual({ '==': [1, 1] });
  });

  it('names the first failing operand of a top-level and', () => {
    const e = linear({ labels: [{ id: 'l1', name: 'feature' }] });
    const cond = {
      and: [{ '==': [{ var: 'team.key' }, 'ENG'] }, { in: ['bug', { var: 'labels' }] }],
    };
    const out = evaluateConditions(cond, e.fields);
    expect(out.passed).toBe(false);
    expect(out.failed).toEqual({ index: 1, condition: { in: ['bug', { var: 'labels' }] } });
    const bug = linear({ labels: [{ id: 'l2', name: 'bug' }] });
    expect(evaluateConditions(cond, bug.fields).passed).toBe(true);
    expect(evaluateConditions(null, bug.fields).passed).toBe(true);
  });
});

describe('templates', () => {
  it('rejects unknown fields and unbalanced braces', () => {
    expect(validateTemplate('{{title}} ({{team.key}})', 'x')).toEqual([]);
    expect(validateTemplate('{{titel}}', 'actions.0.task.title')).toEqual([
      { path: 'actions.0.task.title', message: 'unknown field "titel" in template' },
    ]);
    expect(validateTemplate('{{title}', 'x')[0]?.message).toMatch(/unbalanced/);
    expect(validateTemplate('{{ }}', 'x')[0]?.message).toMatch(/empty/);
  });

  it('fills text, keeps the type of a lone placeholder and applies fallbacks', () => {
    const e = linear({
      labels: [
        { id: 'a', name: 'bug' },
        { id: 'b', name: 'ui' },
      ],
      description: null,
    });
    expect(renderTemplate('[{{team.key}}] {{title}}', e.fields)).toBe('[ENG] Fix the login bug');
    expect(renderTemplate('{{labels}}', e.fields)).toEqual(['bug', 'ui']);
    expect(renderTemplate('Labels: {{labels}}', e.fields)).toBe('Labels: bug, ui');
    expect(renderTemplate('{{description | no description}}', e.fields)).toBe('no description');
    expect(renderTemplate('{{ assignee.email }}', e.fields)).toBeNull();
  });
});

const bugRule = {
  trigger: { source: 'linear', event: 'issue.created', scope: { teamId: 'team-1' } },
  conditions: { in: ['bug', { var: 'labels' }] },
  actions: [
    {
      type: 'create_task',
      task: {
        title: '[{{identifier}}] {{title}}',
        notes: '{{description}}',
        bucket: '{{bucket}}',
        dueDate: '{{dueDate}}',
      },
      container: { name: 'Support' },
    },
  ],
};

describe('rule definitions', () => {
  it('accepts a valid rule', () => {
    expect(validateDefinition(definition(bugRule), eventSourceDefinitions).errors).toEqual([]);
  });

  it('rejects an event of another source, unknown template fields, bad buckets and bad conditions', () => {
    const { errors } = validateDefinition(
      definition({
        trigger: { source: 'notion', event: 'issue.created', scope: { teamId: 't' } },
        conditions: '{"==": [ {"var": "nope"}, 1 ]}',
        actions: [
          {
            type: 'create_task',
            task: { title: '{{nope}}', bucket: 'doing' },
            project: { name: 'P' },
          },
          { type: 'update_linked', task: {} },
        ],
      }),
      eventSourceDefinitions,
    );
    expect(errors.map((e) => e.path)).toEqual([
      'trigger.event',
      'trigger.scope.teamId',
      'conditions.==.0.var',
      'actions.0.task.title',
      'actions.0.task.bucket',
      'actions.0.container',
      'actions.1.task',
    ]);
  });
});

describe('rule evaluation (shared by the worker and the dry run)', () => {
  const rule = () => {
    const def = definition(bugRule);
    return { ...def, conditions: validateDefinition(def, eventSourceDefinitions).conditions };
  };

  it('plans a task with fields filled from the event', () => {
    const e = linear({ id: 'iss-9', labels: [{ id: 'l', name: 'bug' }], stateType: 'started' });
    const out = evaluateRule(rule(), e, ctx());
    expect(out.matched).toBe(true);
    expect(out.actions).toEqual([
      {
        type: 'create_task',
        task: {
          title: '[ENG-1] Fix the login bug',
          notes: 'Steps to reproduce',
          bucket: 'in_progress',
          dueDate: '2026-12-01',
        },
        project: null,
        container: { by: 'name', name: 'Support', createIfMissing: true },
        externalLink: {
          provider: 'linear',
          externalId: 'iss-9',
          url: 'https://linear.app/acme/issue/ENG-1/iss-9',
          title: 'Fix the login bug',
        },
      },
    ]);
  });

  it('explains why an event does not match', () => {
    const noBug = evaluateRule(rule(), linear({ labels: [] }), ctx());
    expect(noBug).toMatchObject({ matched: false, stage: 'conditions', actions: [] });
    expect(noBug.failedCondition?.condition).toEqual({ in: ['bug', { var: 'labels' }] });
    const otherTeam = evaluateRule(
      rule(),
      linear({ teamId: 'team-2', labels: [{ id: 'l', name: 'bug' }] }),
      ctx(),
    );
    expect(otherTeam.stage).toBe('scope');
    const update = evaluateRule(rule(), linear({ action: 'update', updatedFrom: {} }), ctx());
    expect(update.stage).toBe('trigger');
  });

  it('loop guard: ignores events caused by our own integration identity', () => {
    const e = linear({ actorId: 'monoid-app', labels: [{ id: 'l', name: 'bug' }] });
    expect(isOwnEvent(e, ['monoid-app'])).toBe(true);
    expect(evaluateRule(rule(), e, ctx({ ownActorIds: ['monoid-app'] })).stage).toBe('loop_guard');
    expect(evaluateRule(rule(), e, ctx({ ownActorIds: ['someone-else'] })).matched).toBe(true);
  });

  it('Notion rule scoped to a database with a property condition', () => {
    const def = definition({
      trigger: { source: 'notion', event: 'page.created', scope: { databaseId: 'db-1' } },
      conditions: { '==': [{ var: 'properties.Status' }, 'Todo'] },
      actions: [
        {
          type: 'create_task',
          task: { title: '{{properties.Name}}', dueDate: '{{properties.Due}}' },
        },
      ],
    });
    expect(validateDefinition(def, eventSourceDefinitions).errors).toEqual([]);
    const e = normalizeNotionEvent(notionPageEvent(), notionPage({ title: 'Spec' }));
    if (!e) throw new Error('not normalized');
    const out = evaluateRule(def, e, ctx());
    expect(out.matched).toBe(true);
    expect(out.actions[0]).toMatchObject({
      type: 'create_task',
      task: { title: 'Spec', dueDate: '2026-12-24' },
      externalLink: { provider: 'notion', externalId: 'page-1' },
    });
    const other = normalizeNotionEvent(
      notionPageEvent({ databaseId: 'db-2' }),
      notionPage({ databaseId: 'db-2' }),
    );
    if (!other) throw new Error('not normalized');
    expect(evaluateRule(def, other, ctx()).stage).toBe('scope');
  });
});

describe('Linear sync mapping', () => {
  it('maps an issue to a task and a removal to a remove', () => {
    const plan = planLinearSync(
      linear({
        id: 'i1',
        stateType: 'completed',
        assignee: { id: 'u', name: 'B', email: 'B@X.io' },
      }),
    );
    expect(plan).toMatchObject({
      kind: 'upsert_task',
      externalId: 'i1',
      fields: {
        title: 'Fix the login bug',
        bucket: 'done',
        dueDate: '2026-12-01',
        assigneeEmail: 'b@x.io',
      },
    });
    expect(planLinearSync(linear({ id: 'i1', action: 'remove' }))).toEqual({
      kind: 'remove_task',
      externalId: 'i1',
    });
  });
});
