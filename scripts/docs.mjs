#!/usr/bin/env node
// Regenerates what the documentation takes from the code, so it cannot
// drift: the README's rule table from the rule registry (the CLI's
// `rules --markdown`), and `config.schema.json` and the README's config
// table from the config definition (`src/core/config/raw.rs`, through the
// addon's `configSchema()`). `--check` exits 1 instead of writing when
// either file is stale.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const readmePath = `${root}README.md`;
const schemaPath = `${root}config.schema.json`;
const RULES = ['<!-- rules:start -->', '<!-- rules:end -->'];
const CONFIG = ['<!-- config:start -->', '<!-- config:end -->'];

/** `readme` with the text between the `[start, end]` markers replaced by `table`. */
export function renderReadme(readme, table, [start, end] = RULES) {
  const s = readme.indexOf(start);
  const e = readme.indexOf(end);
  if (s < 0 || e < s) throw new Error(`README.md lacks the ${start} … ${end} markers`);
  return `${readme.slice(0, s + start.length)}\n${table.trim()}\n${readme.slice(e)}`;
}

const ENV_PREFIX = 'NANOCLAW_TRAFFIC_GUARDIAN';

/** `1048576` → `1 MiB`; other numbers as written. */
function bytes(n) {
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let unit = -1;
  while (n >= 1024 && n % 1024 === 0 && unit < units.length - 1) {
    n /= 1024;
    unit += 1;
  }
  return unit < 0 ? String(n) : `${n} ${units[unit]}`;
}

/** One line of Markdown for a table cell. */
function cell(text) {
  return text.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|').trim();
}

/** The config table of the README, from the JSON Schema of a config file. */
export function renderConfigTable(schema) {
  const resolve = (s) => {
    const ref = s.$ref ?? s.anyOf?.find((a) => a.$ref)?.$ref;
    return ref ? schema.$defs[ref.split('/').pop()] : s;
  };
  const isSize = (s) => (s.anyOf ?? []).some((a) => a.$ref === '#/$defs/Size');
  const ordered = (props) => Object.entries(props).filter(([k]) => k !== '$schema').sort(([, a], [, b]) => a['x-order'] - b['x-order']);
  const values = (s) => {
    const t = resolve(s);
    return t.enum ?? t.oneOf?.map((o) => o.const) ?? [];
  };
  const row = (key, s, required = false) => {
    const env = s['x-env'] ? `\`_${s['x-env'].slice(ENV_PREFIX.length + 1)}\`` : '';
    const size = isSize(s);
    let dflt = required ? 'required' : 'none';
    if (s['x-default-text']) dflt = s['x-default-text'];
    else if ('default' in s) {
      dflt = `\`${JSON.stringify(s.default).replace(/^"(.*)"$/, '$1')}\``;
      if (size && s.default >= 1024) dflt += ` (${bytes(s.default)})`;
    }
    const parts = [];
    if ('minLength' in s && 'maxLength' in s) parts.push(`${s.minLength} – ${s.maxLength} characters.`);
    if ('minimum' in s && 'maximum' in s) {
      parts.push(size ? `${bytes(s.minimum)} – ${bytes(s.maximum)}; also \`512k\`, \`4m\`, \`1MiB\`.` : `${s.minimum} – ${s.maximum}.`);
    }
    const vals = values(s);
    const description = s.description ?? '';
    if (vals.length && !description.includes(`\`${vals[0]}\``)) parts.push(`One of ${vals.map((v) => `\`${v}\``).join(', ')}.`);
    parts.push(description);
    return `| \`${key}\` | ${env} | ${cell(dflt)} | ${cell(parts.join(' '))} |`;
  };
  const lines = [`| key | env (\`${ENV_PREFIX}_…\`) | default | bounds / values |`, '|---|---|---|---|'];
  for (const [key, s] of ordered(schema.properties)) {
    lines.push(row(key, s));
    // Objects get a row per key: `mitm.enabled`, `runtimes[].token`.
    const items = s.items ? resolve(s.items) : undefined;
    const [inner, at] = items?.properties ? [items, `${key}[]`] : [resolve(s), key];
    for (const [sub, t] of ordered(inner.properties ?? {})) {
      lines.push(row(`${at}.${sub}`, t, (inner.required ?? []).includes(sub)));
    }
  }
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  const cli = `${root}dist/host-services/cli/main.js`;
  if (!existsSync(cli)) {
    // Run directly from a fresh checkout, the CLI is not built yet: say so
    // instead of failing on a bare MODULE_NOT_FOUND.
    console.error(
      'scripts/docs.mjs reads the rules and config from the built CLI and addon, and dist/ is missing: ' +
        'run `npm run docs` (it builds first), or `npm run build` and then this script again',
    );
    process.exit(2);
  }
  const rules = execFileSync(process.execPath, [cli, 'rules', '--markdown'], {
    encoding: 'utf8',
  });
  const { configSchema } = await import(`${root}addon.js`);
  const schemaText = configSchema();
  const readme = readFileSync(readmePath, 'utf8');
  const next = renderReadme(renderReadme(readme, rules, RULES), renderConfigTable(JSON.parse(schemaText)), CONFIG);
  let oldSchema = '';
  try {
    oldSchema = readFileSync(schemaPath, 'utf8');
  } catch {
    // Written below.
  }
  if (check) {
    let stale = false;
    if (next !== readme) {
      console.error('README.md rule or config table is stale: run `npm run docs`');
      stale = true;
    }
    if (schemaText !== oldSchema) {
      console.error('config.schema.json is stale: run `npm run docs`');
      stale = true;
    }
    if (stale) process.exit(1);
  } else {
    if (next !== readme) {
      writeFileSync(readmePath, next);
      console.log('README.md rule and config tables updated');
    }
    if (schemaText !== oldSchema) {
      writeFileSync(schemaPath, schemaText);
      console.log('config.schema.json updated');
    }
  }
}
