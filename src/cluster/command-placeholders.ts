/**
 * Owns the rules of `{name}` placeholders in a command objective's argv: which names exist (the
 * space's parameters and the built-ins), the up-front check that refuses an unknown name before
 * any trial runs, and how a conditional parameter that is inactive in a trial's configuration is
 * left out instead of reaching the command as literal `{name}` text:
 *
 * - an element that is only `{p}` is dropped, together with the element directly before it when
 *   that one is a bare flag (`-x`, `--x`, no `=`, no placeholder): `--momentum {momentum}` goes;
 * - an element `--flag={p}` (a flag, `=`, only the placeholder) is dropped whole;
 * - any other element mentioning a conditional parameter is refused up front (it could not be
 *   left out cleanly).
 */
import { DehbError } from '../errors.js';

/** Placeholders every command may use besides the configuration's parameters. */
export const BUILTIN_PLACEHOLDERS: readonly string[] = ['fidelity', 'trial_id', 'run_id', 'config_json', 'trial_dir', 'result_file'];

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_.-]*)\}/g;
const ONLY_PLACEHOLDER = /^\{([A-Za-z_][A-Za-z0-9_.-]*)\}$/;
const FLAG_EQUALS_PLACEHOLDER = /^(-{1,2}[A-Za-z0-9][A-Za-z0-9_.-]*)=\{([A-Za-z_][A-Za-z0-9_.-]*)\}$/;
const BARE_FLAG = /^-{1,2}[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Names of the placeholders in one argv element. */
export function placeholdersIn(arg: string): string[] {
  return [...arg.matchAll(PLACEHOLDER)].map((m) => m[1] as string);
}

/** The parameter a droppable element stands for (`{p}` or `--flag={p}`), else undefined. */
function droppableName(arg: string): string | undefined {
  return ONLY_PLACEHOLDER.exec(arg)?.[1] ?? FLAG_EQUALS_PLACEHOLDER.exec(arg)?.[2];
}

/**
 * Refuses (E_CONFIG) an argv that names an unknown placeholder, or mentions a conditional
 * parameter in an element that cannot be left out whole. `space` maps parameter names to specs.
 */
export function checkPlaceholders(argv: readonly string[], space: Record<string, { condition?: unknown }>, where: string): void {
  const params = Object.keys(space);
  const known = new Set([...params, ...BUILTIN_PLACEHOLDERS]);
  for (const arg of argv) {
    for (const name of placeholdersIn(arg)) {
      if (!known.has(name)) {
        throw new DehbError(
          'E_CONFIG',
          `${where}: unknown placeholder {${name}} in "${arg}"; the parameters are ${params.map((p) => `{${p}}`).join(', ') || '(none)'} and the built-ins ${BUILTIN_PLACEHOLDERS.map((b) => `{${b}}`).join(', ')}`,
          { details: { placeholder: name } },
        );
      }
      const conditional = space[name]?.condition !== undefined && !BUILTIN_PLACEHOLDERS.includes(name);
      if (conditional && droppableName(arg) !== name) {
        throw new DehbError(
          'E_CONFIG',
          `${where}: "${arg}" mentions the conditional parameter {${name}}, which some trials leave out; give it its own argument ("--${name}", "{${name}}" or "--${name}={${name}}") so it can be dropped when inactive`,
          { details: { placeholder: name } },
        );
      }
    }
  }
}

/**
 * The argv of one trial: placeholders replaced by `vars`; elements standing for a parameter
 * missing from `vars` (an inactive conditional parameter) are left out by the rules above.
 * `render` turns a value into its text (shell quoting for `shell: true`).
 */
export function expandArgv(argv: readonly string[], vars: Map<string, string>, render: (arg: string) => string): string[] {
  const out: string[] = [];
  let prevBareFlag = false;
  for (const arg of argv) {
    const name = droppableName(arg);
    if (name !== undefined && !vars.has(name)) {
      if (ONLY_PLACEHOLDER.test(arg) && prevBareFlag) out.pop();
      prevBareFlag = false;
      continue;
    }
    out.push(render(arg));
    prevBareFlag = BARE_FLAG.test(arg);
  }
  return out;
}
