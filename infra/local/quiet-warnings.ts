/**
 * The AWS SDK warns on every start that its releases after early 2027 need Node 22; versions are pinned by the lock
 * file (see TOOLCHAIN.md), so locally that one warning is noise. The SDK's own switch turns it off (it is read when
 * the first client is constructed); every other warning is still printed.
 */
export function silenceNodeVersionWarning(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}

// Imported first by the entry points, so that it runs before any SDK client exists.
silenceNodeVersionWarning();
