// toppass for VS Code: starts `toppass lsp` for Python files. Code actions
// (the light bulb, Ctrl+.) offer the top-ranked candidates for the function
// at the cursor, with P(pass), examples passed and the predicted fault.
import * as vscode from 'vscode';
import { LanguageClient, LanguageClientOptions, ServerOptions } from 'vscode-languageclient/node';
import { defaults, positionArgument, serverCommand, serverSettings, Settings, validate } from './config';

let client: LanguageClient | undefined;

function readSettings(): Settings {
  const c = vscode.workspace.getConfiguration('toppass');
  const s: Settings = { ...defaults };
  for (const key of Object.keys(defaults) as (keyof Settings)[]) {
    const v = c.get(key);
    if (v !== undefined) (s as unknown as Record<string, unknown>)[key] = v;
  }
  return s;
}

async function start(context: vscode.ExtensionContext): Promise<void> {
  const s = readSettings();
  const errs = validate(s);
  if (errs.length > 0) {
    vscode.window.showErrorMessage('toppass: ' + errs.join('; '));
    return;
  }
  const { command, args } = serverCommand(s);
  const serverOptions: ServerOptions = { command, args };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ language: 'python' }],
    initializationOptions: serverSettings(s),
    synchronize: { configurationSection: 'toppass' },
    middleware: {
      workspace: {
        // The server reads its settings from didChangeConfiguration.
        configuration: () => [serverSettings(readSettings())],
      },
    },
  };
  client = new LanguageClient('toppass', 'toppass', serverOptions, clientOptions);
  context.subscriptions.push(client);
  await client.start();
}

async function runHere(command: string): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor || !client) {
    vscode.window.showWarningMessage('toppass: open a Python file first');
    return;
  }
  const arg = positionArgument(editor.document.uri.toString(), editor.selection.active.line);
  try {
    await client.sendRequest('workspace/executeCommand', { command, arguments: [arg] });
  } catch (e) {
    vscode.window.showErrorMessage('toppass: ' + (e instanceof Error ? e.message : String(e)));
  }
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  context.subscriptions.push(
    vscode.commands.registerCommand('toppass.generateHere', () => runHere('toppass.generate')),
    vscode.commands.registerCommand('toppass.showCandidatesHere', () => runHere('toppass.showCandidates')),
    vscode.commands.registerCommand('toppass.restart', async () => {
      if (client) await client.stop();
      await start(context);
    }),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (e.affectsConfiguration('toppass.path') || e.affectsConfiguration('toppass.logFile')) {
        if (client) await client.stop();
        await start(context);
      }
    }),
  );
  await start(context);
}

export async function deactivate(): Promise<void> {
  if (client) await client.stop();
}
