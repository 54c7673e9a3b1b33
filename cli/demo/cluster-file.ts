/**
 * The cluster file of the demo's story, as it would sit in a GitOps repository.
 *
 * Its own file because it is the story's data, not its driver (../demo.ts): the test reads it to prove the two
 * "commits" differ in exactly one line.
 */

/** The cluster file of the story; `version` is the one line the "commit" changes. */
export function demoClusterYaml(name: string, version: string): string {
  return `apiVersion: capstan.dev/v1alpha1
kind: Cluster
metadata:
  name: ${name}
spec:
  infrastructure:
    provider: local
  version: ${version}
  controlPlane:
    replicas: 3
    machine:
      instanceType: t3.medium
    rollout:
      maxSurge: 1
  workers:
    - name: md-0
      replicas: 3
      machine:
        instanceType: t3.large
      rollout:
        strategy: RollingUpdate
        maxSurge: 1
        maxUnavailable: 0
`;
}
