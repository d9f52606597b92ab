/**
 * `nanoclaw apply --known-env`: registers the values of NanoClaw's host
 * `.env` (the project-root file both v1 and v2 read with `readEnvFile`, and
 * keep out of containers) as known secrets, named by their keys. The values
 * go to one file only, `<home>/nanoclaw-env.secrets` (0600, written through
 * a 0600 temporary file and a rename), which `known_secrets_file` points
 * at; the guardian keeps them as keyed hashes. Nothing here prints or
 * returns a value: results carry names and counts.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The file apply writes in the guardian home. */
export const NANOCLAW_ENV_SECRETS_FILE = 'nanoclaw-env.secrets';

// The limits the guardian's parser enforces (src/core/known_secrets.rs:
// valid_name, MIN_SECRET_LEN, MAX_SECRET_LEN); a line outside them would be
// refused (name) or skipped (length) there, so it is not written at all.
const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const MIN_LEN = 8;
const MAX_LEN = 256;

export interface KnownEnvResult {
  /** Where the values went (0600). */
  file: string;
  /** Keys registered, in file order. */
  names: string[];
  /** Keys left out, each with why (never the value). */
  skipped: { name: string; reason: string }[];
}

/** `.env` lines as NanoClaw's `readEnvFile` reads them: `KEY=value`, `#` comments, one pair of quotes removed. */
function dotenvPairs(text: string): [string, string, number][] {
  const out: [string, string, number][] = [];
  for (const [i, line] of text.split('\n').entries()) {
    const t = line.trim();
    if (!t || t.startsWith('#')) continue;
    const eq = t.indexOf('=');
    if (eq === -1) continue;
    const name = t.slice(0, eq).trim();
    let value = t.slice(eq + 1).trim();
    if (value.length >= 2 && ((value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'")))) {
      value = value.slice(1, -1);
    }
    if (value) out.push([name, value, i + 1]);
  }
  return out;
}

/** Which `.env` keys would be registered, without writing anything. */
export function planKnownEnv(envPath: string, home: string): KnownEnvResult {
  return select(readFileSync(envPath, 'utf8'), join(home, NANOCLAW_ENV_SECRETS_FILE)).result;
}

function select(text: string, file: string): { result: KnownEnvResult; lines: string[] } {
  const result: KnownEnvResult = { file, names: [], skipped: [] };
  const lines: string[] = [];
  const seen = new Set<string>();
  for (const [name, value, line] of dotenvPairs(text)) {
    // An invalid name is not shown: on a `NAME value=…` line the text
    // before the first `=` holds part of the value.
    if (!NAME.test(name)) result.skipped.push({ name: `(line ${line})`, reason: 'name is not 1-64 of A-Z a-z 0-9 _ . -' });
    else if (seen.has(name)) result.skipped.push({ name, reason: 'set twice; the first is kept' });
    else if (Buffer.byteLength(value) < MIN_LEN || Buffer.byteLength(value) > MAX_LEN) {
      result.skipped.push({ name, reason: `value is not ${MIN_LEN}-${MAX_LEN} bytes (too short to match safely, or too long)` });
    } else {
      seen.add(name);
      result.names.push(name);
      // Always quoted: the guardian removes one pair, so a value that is
      // itself quoted survives.
      lines.push(`${name}="${value}"`);
    }
  }
  return { result, lines };
}

/** Writes the `.env` values to `<home>/nanoclaw-env.secrets` (0600), replacing what an earlier run wrote. */
export function writeKnownEnv(envPath: string, home: string): KnownEnvResult {
  const file = join(home, NANOCLAW_ENV_SECRETS_FILE);
  const { result, lines } = select(readFileSync(envPath, 'utf8'), file);
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}`;
  rmSync(tmp, { force: true });
  const body = `# Written by traffic-guardian nanoclaw apply --known-env from ${envPath}; rerun it after editing .env.\n${lines.join('\n')}\n`;
  try {
    writeFileSync(tmp, body, { mode: 0o600, flag: 'wx' });
    chmodSync(tmp, 0o600);
    renameSync(tmp, file);
  } finally {
    rmSync(tmp, { force: true });
  }
  return result;
}
