import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobStore, PauseStore } from '../../shared/index.js';
import { createTestTables, realDocumentClient, type TestTables } from './tables.js';

// The pause item's writes against a real DynamoDB: `if_not_exists` keeps the first pausedAt, and the
// sweeper's conditional delete refuses a pause repeated after its read.

const documentClient = realDocumentClient();
let tables: TestTables;
let pauses: PauseStore;

beforeAll(async () => {
  tables = await createTestTables(documentClient, 'pause-store');
  pauses = new PauseStore(documentClient, tables.jobs);
});

afterAll(async () => {
  await tables?.drop();
});

describe('PauseStore on a real DynamoDB', () => {
  it('keeps the first pausedAt when a paused queue is paused again, replacing reason, keepOnDeploy and stack time', async () => {
    const first = await pauses.put({
      queue: 'again',
      now: '2026-12-01T01:00:00.000Z',
      reason: 'first',
      keepOnDeploy: true,
      stackUpdatedAt: '2026-11-30T00:00:00.000Z',
    });
    expect(first.existed).toBe(false);
    const second = await pauses.put({
      queue: 'again',
      now: '2026-12-01T02:00:00.000Z',
      keepOnDeploy: false,
      stackUpdatedAt: '2026-12-01T01:30:00.000Z',
    });
    expect(second).toEqual({
      existed: true,
      pause: {
        queue: 'again',
        pausedAt: '2026-12-01T01:00:00.000Z',
        keepOnDeploy: false,
        stackUpdatedAt: '2026-12-01T01:30:00.000Z',
      },
    });
    expect(await pauses.get('again', { consistent: true })).toEqual(second.pause);
  });

  it('the sweeper deletes the pause it read, and not one repeated after its read', async () => {
    const read = (
      await pauses.put({
        queue: 'race',
        now: '2026-12-01T01:00:00.000Z',
        keepOnDeploy: false,
        stackUpdatedAt: '2026-11-30T00:00:00.000Z',
      })
    ).pause;
    // Someone pauses again after the deploy: a new stack time on the same item.
    await pauses.put({
      queue: 'race',
      now: '2026-12-01T03:00:00.000Z',
      keepOnDeploy: false,
      stackUpdatedAt: '2026-12-01T02:00:00.000Z',
    });
    expect(await pauses.delete('race', { ifUnchanged: read })).toBe(false);
    expect(await pauses.get('race', { consistent: true })).toMatchObject({ stackUpdatedAt: '2026-12-01T02:00:00.000Z' });

    const current = await pauses.get('race', { consistent: true });
    expect(await pauses.delete('race', { ifUnchanged: current })).toBe(true);
    expect(await pauses.get('race', { consistent: true })).toBeUndefined();
  });

  it('resume of a queue that was not paused deletes nothing and says so', async () => {
    expect(await pauses.delete('never')).toBe(false);
  });

  it('a pause item is never listed as a job', async () => {
    await pauses.put({ queue: 'listed', now: '2026-12-01T01:00:00.000Z', keepOnDeploy: false, stackUpdatedAt: 'x' });
    const page = await new JobStore(documentClient, tables.jobs).list({ limit: 100 });
    expect(page.jobs.map((job) => job.id).filter((id) => id.includes('#'))).toEqual([]);
  });
});
