import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaults, positionArgument, serverCommand, serverSettings, validate } from '../src/config';

test('settings sent to the server leave empty strings out', () => {
  assert.deepEqual(serverSettings(defaults), { topK: 3, generate: 10, method: 'hybrid', timeout: '120s' });
  assert.deepEqual(serverSettings({ ...defaults, endpoint: 'http://localhost:8000/v1', model: 'm' }),
    { topK: 3, generate: 10, method: 'hybrid', timeout: '120s', endpoint: 'http://localhost:8000/v1', model: 'm' });
});

test('the server command', () => {
  assert.deepEqual(serverCommand(defaults), { command: 'toppass', args: ['lsp'] });
  assert.deepEqual(serverCommand({ ...defaults, path: '/opt/toppass', logFile: '/tmp/l.log' }),
    { command: '/opt/toppass', args: ['lsp', '--log-file', '/tmp/l.log'] });
});

test('validation matches the server', () => {
  assert.deepEqual(validate(defaults), []);
  assert.equal(validate({ ...defaults, topK: 0 }).length, 1);
  assert.equal(validate({ ...defaults, method: 'magic' }).length, 1);
  assert.equal(validate({ ...defaults, timeout: 'soon' }).length, 1);
});

test('command arguments', () => {
  assert.deepEqual(positionArgument('file:///a.py', 3), { uri: 'file:///a.py', line: 3 });
});

test('package.json contributes every setting the extension reads', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'));
  const props = Object.keys(pkg.contributes.configuration.properties).map((k) => k.replace(/^toppass\./, '')).sort();
  assert.deepEqual(props, Object.keys(defaults).sort());
  for (const [k, v] of Object.entries(defaults)) {
    assert.deepEqual(pkg.contributes.configuration.properties['toppass.' + k].default, v, k);
  }
  const cmds = pkg.contributes.commands.map((c: { command: string }) => c.command);
  assert.ok(cmds.includes('toppass.generateHere') && cmds.includes('toppass.showCandidatesHere'));
});
