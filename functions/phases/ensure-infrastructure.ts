/** Entry point placeholder: being written in this session (see functions/README). */
export async function handler(): Promise<never> {
  throw new Error("phases/ensure-infrastructure: not wired yet");
}
