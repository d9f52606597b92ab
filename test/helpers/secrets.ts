/**
 * Fake secrets in real formats, generated per run so no literal secret ever
 * sits in the repository and a leak check cannot pass by accident.
 */
import { randomInt } from 'node:crypto';

/** AWS key ids are base32 after the prefix: A-Z and 2-7. */
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const B64URL = `${ALNUM}-_`;

function pick(alphabet: string, n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

/** Shannon entropy in bits per character (as the scanner's entropy floor). */
function entropy(s: string): number {
  const counts = new Map<string, number>();
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) h -= (n / s.length) * Math.log2(n / s.length);
  return h;
}

/**
 * AWS access key id: `AKIA` + 16 base32 characters (the real alphabet),
 * redrawn while under 3 bits of entropy (one draw in 5,000): the rule
 * ignores a key under 2.5 bits (one draw in 18 million) as a placeholder,
 * and a test that expects the key found must not fail on such a draw.
 */
export function fakeAwsAccessKeyId(): string {
  for (;;) {
    const key = `AKIA${pick(BASE32, 16)}`;
    if (entropy(key) >= 3) return key;
  }
}

/** Anthropic API key shape: `sk-ant-api03-` + 93 base64url + `AA`. */
export function fakeAnthropicKey(): string {
  return `sk-ant-api03-${pick(B64URL, 93)}AA`;
}

/** OpenAI project key shape: `sk-proj-` + 48 alphanumerics. */
export function fakeOpenAiKey(): string {
  return `sk-proj-${pick(ALNUM, 48)}`;
}

/** GitHub personal access token: `ghp_` + 36 alphanumerics. */
export function fakeGithubToken(): string {
  return `ghp_${pick(ALNUM, 36)}`;
}

/** A URL-safe runtime proxy token (>= 16 chars). */
export function fakeRuntimeToken(): string {
  return pick(`${ALNUM}-_`, 32);
}

/** Every fake secret of one run, for "appears nowhere" assertions. */
export interface SecretSet {
  aws: string;
  anthropic: string;
  openai: string;
  github: string;
  all: string[];
}

export function makeSecretSet(): SecretSet {
  const s = { aws: fakeAwsAccessKeyId(), anthropic: fakeAnthropicKey(), openai: fakeOpenAiKey(), github: fakeGithubToken() };
  return { ...s, all: Object.values(s) };
}

/**
 * The parts of a secret that must not leak: the whole value and its
 * distinctive tail (a redactor may keep a short prefix like `AKIA`).
 */
export function leakNeedles(secret: string): string[] {
  return [secret, secret.slice(-12)];
}

/** Secrets (or their tails) found in `text`. */
export function findLeaks(text: string, secrets: readonly string[]): string[] {
  return secrets.filter((s) => leakNeedles(s).some((n) => text.includes(n)));
}
