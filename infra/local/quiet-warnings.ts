/**
 * The AWS SDK warns on every start that releases after early 2027 need Node 22; versions are pinned by the lock
 * file (see TOOLCHAIN.md), so locally that one warning is noise. Every other warning is still printed.
 */
export function silenceNodeVersionWarning(): void {
  const listeners = process.listeners('warning');
  process.removeAllListeners('warning');
  process.on('warning', (warning: Error) => {
    if (warning.name === 'NodeVersionSupportWarning') return;
    for (const l of listeners) l(warning);
  });
}
