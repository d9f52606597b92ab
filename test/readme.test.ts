// The README's rule table is generated from the registry; this fails when
// a rule changed and `npm run docs` was not run.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ruleCatalog } from '@clawsec/traffic-guardian/addon';

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
});
