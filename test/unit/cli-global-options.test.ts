import { describe, expect, it } from 'vitest';
import { UsageError } from '../../cli/errors.js';
import { commandWithGlobalOptions } from '../../cli/global-options.js';

describe('global options before the command', () => {
  it('moves them behind the command, values included', () => {
    expect(commandWithGlobalOptions(['--local', '--stack', 'shop', 'list', '--state', 'dead'])).toEqual({
      name: 'list',
      args: ['--state', 'dead', '--local', '--stack', 'shop'],
    });
    expect(commandWithGlobalOptions(['--endpoint=http://127.0.0.1:4566', '--json', 'get', 'job-1'])).toEqual({
      name: 'get',
      args: ['job-1', '--endpoint=http://127.0.0.1:4566', '--json'],
    });
  });

  it('leaves a command without leading options as it is', () => {
    expect(commandWithGlobalOptions(['stats', '--local'])).toEqual({ name: 'stats', args: ['--local'] });
    expect(commandWithGlobalOptions([])).toEqual({ name: undefined, args: [] });
    expect(commandWithGlobalOptions(['--help'])).toEqual({ name: '--help', args: [] });
  });

  it('refuses an unknown option before the command, or a missing value, naming it', () => {
    expect(() => commandWithGlobalOptions(['--verbose', 'list'])).toThrow(UsageError);
    expect(() => commandWithGlobalOptions(['--verbose', 'list'])).toThrow(/unknown option '--verbose' before the command/);
    expect(() => commandWithGlobalOptions(['--stack'])).toThrow(/option '--stack' needs a value/);
    expect(() => commandWithGlobalOptions(['--stack', '--local', 'list'])).toThrow(/option '--stack' needs a value/);
  });
});
