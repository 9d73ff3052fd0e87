import { HELP } from './help.js';

/** What shell completion offers: each command, its words (e.g. `local up|down`) and its options. */
export interface CompletionSpec {
  readonly commands: ReadonlyMap<string, { readonly words: readonly string[]; readonly options: readonly string[] }>;
  /** Options every command that reaches a stack accepts. */
  readonly globalOptions: readonly string[];
}

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

const OPTION = /--[a-z][a-z-]*/g;

/**
 * Reads the commands and their options from the help text, so completion offers exactly what
 * `jobstack --help` documents. A command line starts with two spaces and the command's name;
 * deeper-indented lines continue it.
 */
export function completionSpec(help: string = HELP): CompletionSpec {
  const commands = new Map<string, { words: string[]; options: string[] }>();
  const lines = help.split('\n');
  const first = lines.indexOf('commands:');
  let current: { words: string[]; options: string[] } | undefined;
  for (const line of lines.slice(first + 1)) {
    if (line.trim() === '') break;
    const start = /^ {2}([a-z][a-z-]*)(.*)$/.exec(line);
    if (start) {
      const [, name, rest] = start as unknown as [string, string, string];
      // The usage part ends where the description column starts (two or more spaces).
      const usage = rest.split(/ {2,}/)[0] ?? '';
      const words = [...usage.matchAll(/(?:^|\s|\|)\s*([a-z]+)(?=\s*(?:\||$))/g)].map((match) => match[1] as string);
      current = commands.get(name) ?? { words: [], options: [] };
      commands.set(name, current);
      current.words.push(...words.filter((word) => !current?.words.includes(word)));
    }
    for (const option of line.matchAll(OPTION)) {
      if (current && !current.options.includes(option[0])) current.options.push(option[0]);
    }
  }
  const globalStart = lines.findIndex((line) => line.startsWith('options for commands that reach a stack'));
  const globalOptions: string[] = [];
  for (const line of lines.slice(globalStart + 1)) {
    if (line.trim() === '') break;
    const option = /^ {2}(--[a-z][a-z-]*)/.exec(line);
    if (option) globalOptions.push(option[1] as string);
  }
  return { commands, globalOptions };
}

/** The completion script for `shell`, to be sourced (bash, zsh) or saved (fish). */
export function completionScript(shell: Shell, spec: CompletionSpec = completionSpec()): string {
  const names = [...spec.commands.keys()];
  const global = spec.globalOptions.join(' ');
  if (shell === 'fish') {
    const lines = [
      '# jobstack completion for fish: jobstack completion fish > ~/.config/fish/completions/jobstack.fish',
      'complete -c jobstack -f',
      `complete -c jobstack -n __fish_use_subcommand -a '${names.join(' ')}'`,
    ];
    for (const [name, { words, options }] of spec.commands) {
      if (words.length > 0) lines.push(`complete -c jobstack -n '__fish_seen_subcommand_from ${name}' -a '${words.join(' ')}'`);
      for (const option of [...options, ...spec.globalOptions]) {
        lines.push(`complete -c jobstack -n '__fish_seen_subcommand_from ${name}' -l ${option.slice(2)}`);
      }
    }
    return `${lines.join('\n')}\n`;
  }
  const cases = [...spec.commands]
    .map(([name, { words, options }]) => `    ${name}) words="${[...words, ...options].join(' ')}" ;;`)
    .join('\n');
  const bash = `_jobstack() {
  local current="\${COMP_WORDS[COMP_CWORD]}" command="" index words
  for ((index = 1; index < COMP_CWORD; index++)); do
    case "\${COMP_WORDS[index]}" in
      --stack|--endpoint) ((index++)) ;;
      -*) ;;
      *) command="\${COMP_WORDS[index]}"; break ;;
    esac
  done
  if [[ -z "$command" ]]; then
    COMPREPLY=($(compgen -W "${names.join(' ')} ${global}" -- "$current"))
    return
  fi
  case "$command" in
${cases}
    *) words="" ;;
  esac
  COMPREPLY=($(compgen -W "$words ${global}" -- "$current"))
}
complete -F _jobstack jobstack
`;
  if (shell === 'bash') return `# jobstack completion for bash: source <(jobstack completion bash)\n${bash}`;
  return `# jobstack completion for zsh: source <(jobstack completion zsh)\nautoload -U +X bashcompinit && bashcompinit\n${bash}`;
}
