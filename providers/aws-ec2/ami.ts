/**
 * Machine images: the AMI of a machine template, or the one for its Kubernetes version.
 *
 * Convention when the template names no `imageId`: Cluster API's AWS provider (CAPA) publishes Ubuntu 24.04 images
 * built by image-builder, named `capa-ami-ubuntu-24.04-v<version>-<timestamp>` (kubeadm, kubelet, containerd and the
 * AWS CLI preinstalled), from the CNCF-owned account `819546954734`. Capstan takes the newest available x86_64 HVM
 * image of that name, with the filters CAPA's own lookup uses.
 * Source: cluster-api-provider-aws `pkg/cloud/services/ec2/ami.go` (`DefaultMachineAMIOwnerID`, `DefaultAmiNameFormat`,
 * `defaultMachineAMILookupBaseOS`, `DefaultAMILookup`) and docs/book/src/topics/images/built-amis.md: the old
 * VMware-owned account `258751437250` was lost and its images deleted; publishing restarted from v1.29.9, for the
 * latest three minor releases only (older versions need your own `imageId`).
 * Resolutions are cached per region + version (and per image id) for the life of the process: images of a released
 * version do not change, and the cache saves one DescribeImages per machine.
 */
import { DescribeImagesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { ProviderRejectedError } from '../../functions/domain/errors.js';
import { withThrottleRetries, type RetryOptions } from './aws-errors.js';

/** The AWS account that owns CAPA's public AMIs (CNCF; CAPA's `DefaultMachineAMIOwnerID`). */
export const CAPA_AMI_OWNER = '819546954734';

/** The account CAPA published from until it lost access; its images were deleted. Never look images up there. */
export const FORMER_CAPA_AMI_OWNER = '258751437250';

/**
 * The CAPA AMI name pattern of a Kubernetes version. CAPA's format is `capa-ami-{{.BaseOS}}-?{{.K8sVersion}}-*` with
 * the version's `v` stripped (`?` stands for the `v`); Capstan versions always carry the `v`, so it is spelt out.
 */
export function capaImageName(version: string, os = 'ubuntu-24.04'): string {
  return `capa-ami-${os}-v${version.replace(/^v/, '')}-*`;
}

/** An image and the device name of its root volume (needed to size and encrypt it). */
export interface ResolvedImage {
  readonly imageId: string;
  readonly rootDeviceName: string;
}

/** Options of `ImageResolver`. */
export interface ImageResolverOptions {
  /** @default CAPA_AMI_OWNER */
  readonly owner?: string;
  /** @default capaImageName */
  readonly namePattern?: (version: string) => string;
  readonly retry?: RetryOptions;
}

/** Resolves and caches images (see the module note). */
export class ImageResolver {
  private readonly cache = new Map<string, Promise<ResolvedImage>>();

  constructor(private readonly options: ImageResolverOptions = {}) {}

  /** The template's image, or the newest convention image of `version` in `region`. */
  resolve(ec2: Pick<EC2Client, 'send'>, region: string, request: { readonly imageId?: string; readonly version: string }): Promise<ResolvedImage> {
    const key = request.imageId ? `${region}/id/${request.imageId}` : `${region}/version/${request.version}`;
    let pending = this.cache.get(key);
    if (!pending) {
      pending = this.lookup(ec2, region, request);
      this.cache.set(key, pending);
      pending.catch(() => this.cache.delete(key)); // never cache a failure
    }
    return pending;
  }

  private async lookup(ec2: Pick<EC2Client, 'send'>, region: string, request: { readonly imageId?: string; readonly version: string }): Promise<ResolvedImage> {
    const pattern = (this.options.namePattern ?? capaImageName)(request.version);
    const out = await withThrottleRetries(
      'DescribeImages',
      () =>
        ec2.send(
          new DescribeImagesCommand(
            request.imageId
              ? { ImageIds: [request.imageId] }
              : {
                  Owners: [this.options.owner ?? CAPA_AMI_OWNER],
                  Filters: [
                    { Name: 'name', Values: [pattern] },
                    { Name: 'state', Values: ['available'] },
                    { Name: 'architecture', Values: ['x86_64'] },
                    { Name: 'virtualization-type', Values: ['hvm'] },
                  ],
                },
          ),
        ),
      this.options.retry,
    );
    const newest = [...(out.Images ?? [])].filter((i) => i.ImageId).sort((a, b) => (b.CreationDate ?? '').localeCompare(a.CreationDate ?? ''))[0];
    if (!newest) {
      throw new ProviderRejectedError(
        request.imageId
          ? `template.imageId: image ${request.imageId} not found in ${region}`
          : `template.imageId: none given and no image named ${pattern} owned by ${this.options.owner ?? CAPA_AMI_OWNER} in ${region}; set imageId`,
      );
    }
    return { imageId: newest.ImageId!, rootDeviceName: newest.RootDeviceName ?? '/dev/sda1' };
  }
}
