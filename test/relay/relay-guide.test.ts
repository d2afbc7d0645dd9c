import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CallbackPayloadSchema } from '../../src/connect/payload-schema.js';

const guides = {
  English: new URL('../../docs/relay-guide.md', import.meta.url),
  'Simplified Chinese': new URL('../../docs/relay-guide.zh-CN.md', import.meta.url),
};

/** Lists every field of the callback body, nested ones as `client.version`. */
function payloadFields(): string[] {
  const fields: string[] = [];

  for (const [name, schema] of Object.entries(CallbackPayloadSchema.shape)) {
    fields.push(name);
    const nested = (schema as { shape?: Record<string, unknown> }).shape;

    for (const child of Object.keys(nested ?? {})) {
      fields.push(`${name}.${child}`);
    }
  }

  return fields.sort();
}

/** Reads the first column of the table under the first `### <heading>` line. */
function tableNames(markdown: string, heading: string): string[] {
  const start = markdown.indexOf(`\n### ${heading}\n`);
  const rows: string[] = [];

  expect(start, `heading ### ${heading}`).toBeGreaterThan(0);

  for (const line of markdown.slice(start).split('\n').slice(2)) {
    if (line.startsWith('#')) {
      break;
    }

    const cell = /^\| `([^`]+)` +\|/.exec(line);

    if (cell?.[1] !== undefined) {
      rows.push(cell[1]);
    }
  }

  return rows.sort();
}

describe('relay guide', () => {
  for (const [language, url] of Object.entries(guides)) {
    const markdown = readFileSync(url, 'utf8');
    const fieldsHeading = language === 'English' ? 'Fields' : '字段';
    const headersHeading = language === 'English' ? 'Headers' : '请求头';

    it(`${language}: field table names every payload field`, () => {
      expect(tableNames(markdown, fieldsHeading)).toEqual(payloadFields());
    });

    it(`${language}: header table names every header`, () => {
      expect(tableNames(markdown, headersHeading)).toEqual(
        ['User-Agent', 'webhook-id', 'webhook-signature', 'webhook-timestamp'].sort(),
      );
    });

    it(`${language}: shows the example command`, () => {
      expect(markdown).toContain('npm run example:relay -- --secret whsec_');
    });
  }

  it('example command is a package script', () => {
    const packageJson = JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as { scripts: Record<string, string> };

    expect(packageJson.scripts['example:relay']).toContain('examples/relay-receiver.mjs');
  });
});
