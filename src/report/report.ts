/**
 * `dehb report`: reads a run (directory or study) once and writes the self-contained HTML page.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { PayloadBuilder } from './build-payload.js';
import { renderPage } from './html.js';
import { RunModel } from './model.js';
import { openRunSource, type SourceSpec } from './source.js';

export interface ReportResult {
  path: string;
  bytes: number;
  trials: number;
}

export async function loadModel(spec: SourceSpec): Promise<{ model: RunModel; label: string }> {
  const source = await openRunSource(spec);
  try {
    const model = new RunModel();
    model.feed(await source.read());
    return { model, label: source.label };
  } finally {
    await source.close();
  }
}

export async function writeReport(spec: SourceSpec, output: string): Promise<ReportResult> {
  const { model, label } = await loadModel(spec);
  const payload = new PayloadBuilder(model, label).build();
  const html = renderPage({ title: `dehb report: ${payload.info.runId}`, payload });
  const path = resolve(output);
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, html);
  await rename(tmp, path);
  return { path, bytes: Buffer.byteLength(html), trials: model.history.size };
}
