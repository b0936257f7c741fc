/**
 * Splits a command string into argv the way a POSIX shell would for simple cases: whitespace
 * separates words, single and double quotes group, backslash escapes. No expansion.
 */
import { DehbError } from '../errors.js';

export function splitCommand(text: string, flag = '--command'): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote !== null) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < text.length) cur += text[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < text.length) {
      cur += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote !== null) throw new DehbError('E_USAGE', `${flag} has an unterminated ${quote} quote`);
  if (inWord) out.push(cur);
  if (out.length === 0) throw new DehbError('E_USAGE', `${flag} is empty`);
  return out;
}
