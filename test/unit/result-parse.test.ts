// Result normalisation: every way an objective can return, throw or print a result.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorOutcome, normalizeResult, parseJsonLenient, parseResultText } from '../../src/cluster/result-parse.js';
import { DehbError } from '../../src/errors.js';
import { ObjectiveError, isObjectiveError } from '../../src/objective.js';

function msg(o: ReturnType<typeof normalizeResult>): string {
  assert.equal(o.status, 'failed', JSON.stringify(o));
  return o.status === 'failed' ? o.error.message : '';
}

describe('normalizeResult', () => {
  it('accepts a finite number or {fitness, cost?, info?}', () => {
    assert.deepEqual(normalizeResult(0.5), { status: 'ok', fitness: 0.5 });
    assert.deepEqual(normalizeResult(-3), { status: 'ok', fitness: -3 });
    assert.deepEqual(normalizeResult({ fitness: 1 }), { status: 'ok', fitness: 1 });
    assert.deepEqual(normalizeResult({ fitness: 1, cost: 2, info: { a: [1, 'x'] } }), {
      status: 'ok',
      fitness: 1,
      cost: 2,
      info: { a: [1, 'x'] },
    });
    assert.deepEqual(normalizeResult({ fitness: 1, cost: null, info: undefined }), { status: 'ok', fitness: 1 });
  });

  it('keeps cost undefined when absent', () => {
    const o = normalizeResult({ fitness: 2 });
    assert.equal(o.status === 'ok' && 'cost' in o, false);
  });

  it('copies info as JSON (dates become strings, functions vanish)', () => {
    const o = normalizeResult({ fitness: 1, info: { d: new Date(0), f: () => 1, n: 2 } });
    assert.deepEqual(o.status === 'ok' && o.info, { d: '1970-01-01T00:00:00.000Z', n: 2 });
  });

  it('rejects NaN, infinities, missing or non-numeric fitness with clear messages', () => {
    assert.equal(msg(normalizeResult(Number.NaN)), 'objective returned NaN');
    assert.match(msg(normalizeResult(Infinity)), /objective returned Infinity \(fitness must be finite\)/);
    assert.match(msg(normalizeResult(-Infinity)), /-Infinity/);
    assert.equal(msg(normalizeResult({ fitness: Number.NaN })), 'objective returned fitness NaN');
    assert.equal(msg(normalizeResult({ loss: 1 })), 'objective result has no numeric `fitness` (got {"loss":1}); name the value `fitness`');
    assert.equal(msg(normalizeResult({ fitness: '0.5' })), 'objective result has no numeric `fitness` (got {"fitness":"0.5"})');
    assert.match(msg(normalizeResult(undefined)), /objective returned undefined \(return a number or \{fitness, cost\?, info\?\}\)/);
    assert.match(msg(normalizeResult(null)), /objective returned null/);
    assert.match(msg(normalizeResult('0.5')), /objective returned "0.5"/);
    assert.match(msg(normalizeResult([1])), /objective returned \[1\]/);
    assert.match(msg(normalizeResult(1n)), /objective returned 1n/);
  });

  it('rejects a bad cost or info', () => {
    assert.equal(msg(normalizeResult({ fitness: 1, cost: 'x' })), 'objective result `cost` must be a finite number (got "x")');
    assert.match(msg(normalizeResult({ fitness: 1, cost: Number.NaN })), /`cost` must be a finite number \(got NaN\)/);
    assert.match(msg(normalizeResult({ fitness: 1, info: 3 })), /`info` must be an object \(got 3\)/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.match(msg(normalizeResult({ fitness: 1, info: cyclic })), /`info` is not JSON-serialisable/);
  });

  it('failures are E_OBJECTIVE and not retryable', () => {
    const o = normalizeResult(Number.NaN);
    assert.equal(o.status === 'failed' && o.retryable, false);
    assert.equal(o.status === 'failed' && o.error.code, 'E_OBJECTIVE');
  });
});

describe('errorOutcome', () => {
  it('plain errors are not retryable and keep message and stack', () => {
    const o = errorOutcome(new TypeError('bad input'));
    assert.equal(o.status, 'failed');
    if (o.status !== 'failed') return;
    assert.equal(o.retryable, false);
    assert.equal(o.error.name, 'TypeError');
    assert.equal(o.error.message, 'bad input');
    assert.equal(o.error.code, 'E_OBJECTIVE');
    assert.match(String(o.error.stack), /TypeError: bad input/);
  });

  it('ObjectiveError decides retryable, and is recognised by shape', () => {
    const yes = errorOutcome(new ObjectiveError('busy', { retryable: true, details: { gpu: 1 } }));
    assert.equal(yes.status === 'failed' && yes.retryable, true);
    assert.deepEqual(yes.status === 'failed' && yes.error.details, { gpu: 1 });
    const no = errorOutcome(new ObjectiveError('nope'));
    assert.equal(no.status === 'failed' && no.retryable, false);
    class Foreign extends Error {
      retryable = true;
      override name = 'ObjectiveError';
    }
    assert.equal(isObjectiveError(new Foreign('x')), true);
    const foreign = errorOutcome(new Foreign('x'));
    assert.equal(foreign.status === 'failed' && foreign.retryable, true);
  });

  it('non-Error throws and DehbErrors keep their text and code', () => {
    const s = errorOutcome('just a string');
    assert.equal(s.status === 'failed' && s.error.message, 'just a string');
    const d = errorOutcome(new DehbError('E_CONFIG', 'objective module not found: /x'));
    assert.equal(d.status === 'failed' && d.error.code, 'E_CONFIG');
  });
});

describe('parseResultText', () => {
  it('parses JSON objects and bare numbers', () => {
    assert.deepEqual(parseResultText('{"fitness": 0.25, "cost": 3}\n', 'f'), { status: 'ok', fitness: 0.25, cost: 3 });
    assert.deepEqual(parseResultText(' 7 ', 'f'), { status: 'ok', fitness: 7 });
  });

  it("accepts Python's NaN / Infinity tokens and reports them as such", () => {
    assert.match(msg(parseResultText('{"fitness": NaN}', 'f')), /NaN/);
    assert.match(msg(parseResultText('{"fitness": -Infinity}', 'f')), /-Infinity/);
    assert.deepEqual(parseJsonLenient('{"s": "NaN Infinity", "v": [NaN, Infinity, -Infinity], "q": "a\\"NaN"}'), {
      s: 'NaN Infinity',
      v: [Number.NaN, Infinity, -Infinity],
      q: 'a"NaN',
    });
  });

  it('names the source of malformed or empty text', () => {
    assert.match(msg(parseResultText('{oops', 'result file /t/result.json')), /^result file \/t\/result\.json is not valid JSON/);
    assert.match(msg(parseResultText('  ', 'DEHB_RESULT line')), /DEHB_RESULT line is empty/);
  });
});
