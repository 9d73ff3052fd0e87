import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ENVELOPE_VERSION,
  InvalidEnvelopeError,
  JobEnvelopeSchema,
  parseEnvelope,
  serializeEnvelope,
} from '../../shared/index.js';

const valid = { v: 1, id: '01JOB', type: 'demo.echo', payload: { message: 'hi' }, enqueuedAt: '2026-11-23T00:00:00.000Z' };

describe('parseEnvelope', () => {
  it('accepts a valid envelope', () => {
    const result = parseEnvelope(JSON.stringify(valid));
    expect(result).toEqual({ ok: true, envelope: valid });
  });

  it('rejects a body that is not JSON, without a job id', () => {
    const result = parseEnvelope('this is not json');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(InvalidEnvelopeError);
    expect(result.error.message).toMatch(/body is not JSON/);
    expect(result.jobId).toBeUndefined();
  });

  it('rejects JSON that is not an object', () => {
    for (const body of ['[]', '42', 'null', '"text"']) {
      const result = parseEnvelope(body);
      expect(result.ok, body).toBe(false);
    }
  });

  it('rejects an unknown version but keeps the job id so the job can be marked dead', () => {
    const result = parseEnvelope(JSON.stringify({ ...valid, v: 2 }));
    expect(result).toMatchObject({ ok: false, jobId: '01JOB', jobType: 'demo.echo' });
    if (!result.ok) expect(result.error.message).toMatch(/unsupported message version 2/);
  });

  it('names every missing or wrong field', () => {
    const result = parseEnvelope(JSON.stringify({ v: 1, id: '01JOB', type: '' }));
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.message).toMatch(/type/);
      expect(result.error.message).toMatch(/enqueuedAt/);
      expect(result.jobId).toBe('01JOB');
    }
  });

  it('does not take an unsafe id as a job id', () => {
    const result = parseEnvelope(JSON.stringify({ ...valid, id: 'has spaces/and slashes' }));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.jobId).toBeUndefined();
  });

  it('accepts or rejects every input with a typed error and never throws', () => {
    const bodies = fc.oneof(
      fc.string(),
      fc.json(),
      fc
        .record({
          v: fc.oneof(fc.constant(1), fc.anything()),
          id: fc.oneof(fc.stringMatching(/^[A-Za-z0-9._:-]{1,20}$/), fc.anything()),
          type: fc.oneof(fc.string(), fc.anything()),
          payload: fc.anything(),
          enqueuedAt: fc.oneof(
            fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
            fc.string(),
          ),
        })
        .map((value) => {
          try {
            return JSON.stringify(value) ?? '';
          } catch {
            return '';
          }
        }),
    );
    fc.assert(
      fc.property(bodies, (body) => {
        const result = parseEnvelope(body);
        if (!result.ok) expect(result.error).toBeInstanceOf(InvalidEnvelopeError);
        else expect(result.envelope.v).toBe(1);
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('parseEnvelope: the hand-written check of the common shape agrees with the schema', () => {
  // Fields near every edge the schema checks: id pattern and length, type length, calendar dates and times,
  // fractions, offsets (refused), correlation id length, unknown keys (stripped), payloadRef, missing payload.
  const field = <T>(values: T[]) => fc.option(fc.constantFrom(...values), { nil: undefined });
  const candidate = fc.record(
    {
      v: fc.constantFrom<unknown>(1, 2, '1'),
      id: fc.oneof(fc.constantFrom<unknown>('01JOB', 'a'.repeat(128), 'a'.repeat(129), '', 'bad id', 'x/y', 7), fc.string()),
      type: fc.oneof(fc.constantFrom<unknown>('demo.echo', '', 't'.repeat(128), 't'.repeat(129), 3), fc.string()),
      payload: fc.oneof(fc.jsonValue(), fc.constant(undefined)),
      enqueuedAt: fc.constantFrom<unknown>(
        '2026-11-23T00:00:00.000Z',
        '2026-11-23T00:00:00Z',
        '2026-11-23T00:00:00.123456Z',
        '2026-11-23T00:00Z',
        '2026-02-29T00:00:00Z',
        '2024-02-29T00:00:00Z',
        '2026-04-31T00:00:00Z',
        '2026-11-23T24:00:00Z',
        '2026-11-23T00:00:00+01:00',
        '2026-11-23 00:00:00Z',
        'yesterday',
        1_700_000_000_000,
      ),
      correlationId: field<unknown>(['c', '', 'c'.repeat(256), 'c'.repeat(257), 5]),
      payloadRef: field<unknown>([
        { bucket: 'b', key: 'k', sizeBytes: 3 },
        { bucket: '', key: 'k', sizeBytes: 3 },
      ]),
      extra: field<unknown>(['stripped']),
    },
    { requiredKeys: ['v', 'id', 'type', 'enqueuedAt'] },
  );

  it('accepts exactly what the schema accepts, with the same envelope', () => {
    fc.assert(
      fc.property(candidate, (body) => {
        const result = parseEnvelope(JSON.stringify(body));
        const schema = JobEnvelopeSchema.safeParse(JSON.parse(JSON.stringify(body)));
        expect(result.ok).toBe(schema.success);
        if (result.ok && schema.success) expect(result.envelope).toStrictEqual(schema.data);
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('serializeEnvelope and the characters SQS refuses', () => {
  it('escapes U+FFFE and U+FFFF (which JSON.stringify leaves raw) so SQS accepts the body, and parses back unchanged', () => {
    const payload = { message: 'a\uFFFEb\uFFFFc \u0000\u001b\uD800 d' };
    const body = serializeEnvelope({
      v: ENVELOPE_VERSION,
      id: 'job-1',
      type: 'demo.echo',
      payload,
      enqueuedAt: '2026-01-01T00:00:00.000Z',
    });
    // SQS's allowed set: #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF
    expect(body).toMatch(/^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD]*$/);
    const parsed = parseEnvelope(body);
    expect(parsed.ok && parsed.envelope.payload).toEqual(payload);
  });
});
