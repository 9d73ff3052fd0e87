import { describe, expect, it } from 'vitest';
import { formatQueues, parsePauseArgs, parseResumeArgs } from '../../cli/commands/queues.js';
import { UsageError } from '../../cli/errors.js';

describe('jobstack pause / resume: arguments', () => {
  it('takes the queue, --reason and --keep-on-deploy', () => {
    const parsed = parsePauseArgs(['emails', '--reason', 'SMTP outage', '--keep-on-deploy', '--local']);
    expect(parsed.queue).toBe('emails');
    expect(parsed.options).toEqual({ reason: 'SMTP outage', keepOnDeploy: true });
    expect(parsed.flags.local).toBe(true);
  });

  it('pauses until the next deploy without --keep-on-deploy, with no reason', () => {
    expect(parsePauseArgs(['emails']).options).toEqual({});
  });

  it.each([
    [[], /usage: jobstack pause <queue>/],
    [['a', 'b'], /usage: jobstack pause <queue>/],
    [['emails', '--reason', ' '], /--reason must not be empty \(given ' '\)/],
  ])('fails for pause %j with a usage error', (argv, message) => {
    expect(() => parsePauseArgs(argv)).toThrow(UsageError);
    expect(() => parsePauseArgs(argv)).toThrow(message);
  });

  it('fails on an unknown flag', () => {
    expect(() => parsePauseArgs(['emails', '--forever'])).toThrow(/Unknown option '--forever'/);
  });

  it('resume takes exactly one queue', () => {
    expect(parseResumeArgs(['emails']).queue).toBe('emails');
    expect(() => parseResumeArgs([])).toThrow(/usage: jobstack resume <queue>/);
  });
});

describe('jobstack queues: output', () => {
  it('shows paused and active queues with since, keep-on-deploy, mapping state, depths and reason', () => {
    const text = formatQueues(
      [
        {
          queue: 'default',
          status: 'paused',
          pause: {
            queue: 'default',
            pausedAt: '2026-12-01T01:00:00.000Z',
            reason: 'provider outage',
            keepOnDeploy: true,
            stackUpdatedAt: '2026-11-30T00:00:00.000Z',
          },
          eventSources: { 'esm-1': 'Disabled' },
        },
        { queue: 'reports', status: 'active', eventSources: { 'esm-2': 'Enabled' } },
      ],
      [
        { name: 'default', visible: 12, inFlight: 0, delayed: 3, deadLetter: 0 },
        { name: 'reports', visible: 0, inFlight: 1, delayed: 0, deadLetter: 0 },
      ],
    );
    expect(text).toMatch(/^default\s+paused\s+2026-12-01T01:00:00.000Z\s+yes\s+Disabled\s+12\s+0\s+3\s+provider outage$/m);
    expect(text).toMatch(/^reports\s+active\s+-\s+-\s+Enabled\s+0\s+1\s+0\s+-$/m);
  });
});
