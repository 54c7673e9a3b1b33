/**
 * The `spec.kubeadm` section: kubeadm configuration passed through to the machines' bootstrap, bounded in size but
 * otherwise not interpreted here.
 *
 * Its own file: one section of the document. It has no rule between fields.
 */
import { z } from 'zod';
import { MAX_STRING_LENGTH } from '../fields.js';

const freeObject = z.record(z.string().max(256), z.unknown());
const commands = z.array(z.string().max(MAX_STRING_LENGTH)).max(100);

/** `spec.kubeadm` (optional): free-form kubeadm configurations, files and commands. */
export const kubeadmSchema = z
  .strictObject({
    clusterConfiguration: freeObject.optional(),
    initConfiguration: freeObject.optional(),
    joinConfiguration: freeObject.optional(),
    files: z.array(freeObject).max(100).optional(),
    preKubeadmCommands: commands.optional(),
    postKubeadmCommands: commands.optional(),
  })
  .optional();
