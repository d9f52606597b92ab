// The README's rule table is generated from the registry, its config table
// and config.schema.json from the config definition; this fails when either
// changed and `npm run docs` was not run.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { configSchema, ruleCatalog } from '@clawsec/traffic-guardian/addon';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('README', () => {
  it('lists exactly the registry rules, as `npm run docs` renders them', () => {
    const readme = readFileSync(`${root}README.md`, 'utf8');
    const table = execFileSync(process.execPath, [`${root}dist/host-services/cli/main.js`, 'rules', '--markdown'], {
      encoding: 'utf8',
    });
    const section = readme.slice(readme.indexOf('<!-- rules:start -->'), readme.indexOf('<!-- rules:end -->'));
    expect(section).toContain(table.trim());
    for (const rule of ruleCatalog()) expect(section).toContain(`\`${rule.id}\``);
  });

  it('documents every config key, and config.schema.json is the addon schema', () => {
    const schema = JSON.parse(configSchema()) as { properties: Record<string, { description?: string }> };
    expect(readFileSync(`${root}config.schema.json`, 'utf8')).toBe(configSchema());
    const readme = readFileSync(`${root}README.md`, 'utf8');
    const section = readme.slice(readme.indexOf('<!-- config:start -->'), readme.indexOf('<!-- config:end -->'));
    for (const key of Object.keys(schema.properties).filter((k) => k !== '$schema')) {
      expect(section).toContain(`| \`${key}\` |`);
    }
    // `npm run docs` would change nothing (README tables, config.schema.json).
    execFileSync(process.execPath, [`${root}scripts/docs.mjs`, '--check'], { encoding: 'utf8' });
  });
});
