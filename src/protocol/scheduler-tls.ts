/**
 * Owns turning a scheduler file's `tls` section (file names) into TLS options of an endpoint
 * (PEM texts): each file read, checked to be PEM, and a failure said as the field it came from.
 */
import { readFile } from 'node:fs/promises';
import { DehbError } from '../errors.js';
import type { RedisEndpoint } from './redis-url.js';

export interface SchedulerTls {
  caFile?: string | undefined;
  certFile?: string | undefined;
  keyFile?: string | undefined;
  servername?: string | undefined;
  rejectUnauthorized?: boolean | undefined;
}

/** The endpoint's TLS options (over `base`, e.g. a rediss:// URL's), with the named files read. */
export async function tlsOptionsOf(fileTls: SchedulerTls, base: RedisEndpoint['tls'] = {}): Promise<NonNullable<RedisEndpoint['tls']>> {
  const { caFile, certFile, keyFile, servername, rejectUnauthorized } = fileTls;
  const tls: NonNullable<RedisEndpoint['tls']> = { ...base };
  if (caFile !== undefined) tls.ca = await readTlsFile('caFile', caFile);
  if (certFile !== undefined) tls.cert = await readTlsFile('certFile', certFile);
  if (keyFile !== undefined) tls.key = await readTlsFile('keyFile', keyFile);
  if (servername !== undefined) tls.servername = servername;
  if (rejectUnauthorized !== undefined) tls.rejectUnauthorized = rejectUnauthorized;
  return tls;
}

async function readTlsFile(key: string, path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new DehbError('E_SCHEDULER_FILE', `scheduler file field "tls.${key}": cannot read ${path} (${code}); give a PEM file readable on this machine`, { cause: err });
  }
  if (!text.includes('-----BEGIN ')) {
    throw new DehbError('E_SCHEDULER_FILE', `scheduler file field "tls.${key}": ${path} is not a PEM file (no "-----BEGIN" line); give the PEM-encoded file`);
  }
  return text;
}
