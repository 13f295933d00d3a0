// Pure functions (no vscode import), so that they are tested with node.

/** The settings the extension reads (toppass.*). */
export interface Settings {
  path: string;
  topK: number;
  generate: number;
  method: string;
  endpoint: string;
  model: string;
  timeout: string;
  logFile: string;
}

export const defaults: Settings = {
  path: 'toppass',
  topK: 3,
  generate: 10,
  method: 'hybrid',
  endpoint: '',
  model: '',
  timeout: '120s',
  logFile: '',
};

/** What the server takes as initializationOptions and settings: empty
 *  strings are left out (the daemon's config applies). */
export function serverSettings(s: Settings): Record<string, string | number> {
  const out: Record<string, string | number> = { topK: s.topK, generate: s.generate, method: s.method, timeout: s.timeout };
  if (s.endpoint) out.endpoint = s.endpoint;
  if (s.model) out.model = s.model;
  return out;
}

/** The server's command line. */
export function serverCommand(s: Settings): { command: string; args: string[] } {
  const args = ['lsp'];
  if (s.logFile) args.push('--log-file', s.logFile);
  return { command: s.path || 'toppass', args };
}

/** Checks settings the way the server does; returns the problems. */
export function validate(s: Settings): string[] {
  const errs: string[] = [];
  if (!Number.isInteger(s.topK) || s.topK < 1 || s.topK > 50) errs.push(`topK must be between 1 and 50, not ${s.topK}`);
  if (!Number.isInteger(s.generate) || s.generate < 1 || s.generate > 200) errs.push(`generate must be between 1 and 200, not ${s.generate}`);
  if (!['hybrid', 'neural', 'lexical', 'exec'].includes(s.method)) errs.push(`unknown method ${s.method}`);
  if (!/^\d+(\.\d+)?(ms|s|m|h)$/.test(s.timeout)) errs.push(`timeout must be a duration such as 120s, not ${s.timeout}`);
  return errs;
}

/** The argument of the server's commands for a cursor position. */
export function positionArgument(uri: string, line: number): { uri: string; line: number } {
  return { uri, line };
}
