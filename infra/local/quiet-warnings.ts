/**
 * The AWS SDK warns on every start that releases after early 2027 need Node 22; versions are pinned by the lock
 * file (see TOOLCHAIN.md), so locally that one warning is noise. Every other warning is still printed.
 */
let silenced = false;

export function silenceNodeVersionWarning(): void {
  if (silenced) return;
  silenced = true;
  const listeners = process.listeners('warning');
  process.removeAllListeners('warning');
  process.on('warning', (warning: Error) => {
    if (warning.name === 'NodeVersionSupportWarning') return;
    for (const l of listeners) l(warning);
  });
}

// Imported first by the entry points, so that it runs before the SDK modules load.
silenceNodeVersionWarning();
