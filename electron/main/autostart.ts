/**
 * Start at login. Windows and macOS use app.setLoginItemSettings; Linux has no such call, so the
 * panel writes (or removes) an XDG autostart entry, ~/.config/autostart/portico.desktop.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** One argument of a desktop entry's Exec key, quoted as the Desktop Entry specification asks. */
export function quoteExecArgument(argument: string): string {
  if (/^[A-Za-z0-9_\-+=.,/:@]+$/.test(argument)) return argument;
  // Inside double quotes, escape " ` $ \ with a backslash; the whole value is then escaped again
  // as a string value (backslash doubled), and % doubled as a field-code escape.
  const quoted = `"${argument.replace(/(["`$\\])/g, '\\$1')}"`;
  return quoted.replace(/\\/g, '\\\\').replace(/%/g, '%%');
}

export function desktopEntry(command: readonly string[], name = 'Portico'): string {
  return [
    '[Desktop Entry]',
    'Type=Application',
    `Name=${name.replace(/[\r\n]/g, ' ')}`,
    `Exec=${command.map(quoteExecArgument).join(' ')}`,
    'X-GNOME-Autostart-enabled=true',
    'NoDisplay=true',
    '',
  ].join('\n');
}

/** Writes or removes the autostart entry in `configHome` (XDG_CONFIG_HOME or ~/.config). */
export function applyLinuxAutostart(enabled: boolean, command: readonly string[], configHome: string): void {
  const dir = join(configHome, 'autostart');
  const file = join(dir, 'portico.desktop');
  if (!enabled) {
    rmSync(file, { force: true });
    return;
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, desktopEntry(command));
}
