/**
 * Preload of the built-in prompt windows. The prompt page has no script of its own (its CSP allows
 * none); this wires its form and sends the values, or null on cancel, to the main process, which
 * accepts them only from the prompt window it opened. Nothing is exposed to the page.
 * Like preload.ts, bundle it to CommonJS: sandboxed preloads cannot be ES modules.
 */
import { ipcRenderer } from 'electron';
import { PROMPT_CHANNEL } from './bridge.js';

window.addEventListener('DOMContentLoaded', () => {
  const form = document.getElementById('prompt') as HTMLFormElement | null;
  if (!form) return;
  const cancel = (): void => ipcRenderer.send(PROMPT_CHANNEL, null);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const values: Record<string, string> = {};
    for (const input of Array.from(form.querySelectorAll('input'))) values[input.name] = input.value;
    ipcRenderer.send(PROMPT_CHANNEL, values);
  });
  document.getElementById('cancel')?.addEventListener('click', cancel);
  window.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') cancel();
  });
});
