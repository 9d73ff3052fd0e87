import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../cli/command-table.js';
import { completionScript, completionSpec } from '../../cli/completion.js';

describe('shell completion', () => {
  const spec = completionSpec();

  it('offers exactly the commands the CLI has, each documented in the help', () => {
    expect([...spec.commands.keys()].sort()).toEqual(Object.keys(COMMANDS).sort());
  });

  it("reads each command's words and options from the help text", () => {
    expect(spec.commands.get('local')).toEqual({ words: ['up', 'down', 'bridge'], options: [] });
    expect(spec.commands.get('enqueue')?.options).toEqual(
      expect.arrayContaining(['--payload', '--delay', '--run-at', '--job-id', '--idempotency-key', '--priority']),
    );
    expect(spec.commands.get('list')?.options).toEqual(['--state', '--type', '--limit', '--cursor']);
    expect(spec.globalOptions).toEqual(['--stack', '--local', '--endpoint', '--json']);
  });

  function bashComplete(words: readonly string[]): string[] {
    const dir = mkdtempSync(join(tmpdir(), 'jobstack-completion-'));
    const script = join(dir, 'jobstack.bash');
    writeFileSync(script, completionScript('bash', spec));
    const quoted = words.map((word) => `'${word}'`).join(' ');
    const output = execFileSync(
      'bash',
      ['-c', `source '${script}'; COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _jobstack; echo "\${COMPREPLY[@]}"`],
      { encoding: 'utf8' },
    );
    return output.trim().split(/\s+/).filter(Boolean);
  }

  it('completes commands after global options, and a command’s options after its name (bash)', () => {
    expect(bashComplete(['jobstack', '--local', 'enq'])).toEqual(['enqueue']);
    expect(bashComplete(['jobstack', '--stack', 'shop', 'enqueue', '--idem'])).toEqual([
      '--idempotency-key',
      '--idempotency-window',
    ]);
    expect(bashComplete(['jobstack', 'local', ''])).toEqual([
      'up',
      'down',
      'bridge',
      '--stack',
      '--local',
      '--endpoint',
      '--json',
    ]);
  });

  it('writes a fish script with a line per command option', () => {
    expect(completionScript('fish', spec)).toMatch(/^complete -c jobstack -n '__fish_seen_subcommand_from wait' -l timeout$/m);
  });
});
